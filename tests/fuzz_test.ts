/**
 * Fuzzing the code that reads what strangers send: the line stream, the
 * text command parser, the JSON codec, and the hub fed random commands from
 * several clients at once. Random and mutated inputs for a bounded time each
 * (`CHAT_FUZZ_MS`, default 1500 ms); the seed is printed with any failure
 * and can be replayed with `CHAT_FUZZ_SEED`.
 */
import { eventOf, type Outgoing } from "../src/core/broadcast.ts";
import { MemoryLink } from "../src/cluster/memory.ts";
import assert from "node:assert/strict";
import { Hub } from "../src/core/hub.ts";
import { Stats } from "../src/core/stats.ts";
import type { ClientPort, Command } from "../src/core/types.ts";
import { encodeJsonEvent, parseJsonItem } from "../src/protocol/json.ts";
import { formatEvent } from "../src/protocol/text.ts";
import { parseTextLine } from "../src/protocol/text_commands.ts";
import { seededRandom } from "../src/protocol/codec_fuzz.ts";
import { MemoryHistoryStore } from "../src/store/memory.ts";
import { decodeLine, type LineSink, LineSplitter } from "../src/transport/line_stream.ts";

const BUDGET_MS = Number(Deno.env.get("CHAT_FUZZ_MS") ?? 1500);
const SEED = Number(Deno.env.get("CHAT_FUZZ_SEED") ?? Date.now() % 2 ** 31);

/** Runs `round(rnd, i)` until the budget is spent; failures name the seed and round. */
function fuzz(name: string, round: (rnd: () => number, i: number) => void | Promise<void>) {
  Deno.test(`fuzz: ${name}`, async () => {
    const rnd = seededRandom(SEED);
    const until = performance.now() + BUDGET_MS;
    let i = 0;
    try {
      for (; performance.now() < until; i++) await round(rnd, i);
    } catch (err) {
      throw new Error(`${name}: failed at round ${i} (CHAT_FUZZ_SEED=${SEED})`, { cause: err });
    }
    assert.ok(i > 10, `only ${i} rounds ran`);
  });
}

const pick = <T>(rnd: () => number, items: readonly T[]): T =>
  items[Math.floor(rnd() * items.length)];
const int = (rnd: () => number, max: number) => Math.floor(rnd() * (max + 1));

/** Bytes that stress a line reader: newlines, CRs, invalid and overlong UTF-8, NULs, escapes. */
const NASTY: readonly number[][] = [
  [10],
  [13, 10],
  [13],
  [0],
  [0x1b, 0x5b, 0x33, 0x31, 0x6d],
  [0xc0, 0xaf], // overlong "/"
  [0xe0, 0x80, 0xaf], // overlong "/" in three bytes
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate
  [0xff],
  [0xf0, 0x9f, 0x98], // a truncated emoji
  [0xf0, 0x9f, 0x98, 0x80], // a whole one
  [0xc3, 0xa9], // é
  [0x2f], // "/"
];

function randomBytes(rnd: () => number, max: number): Uint8Array {
  const out: number[] = [];
  const n = int(rnd, max);
  while (out.length < n) {
    const r = rnd();
    if (r < 0.3) out.push(...pick(rnd, NASTY));
    else if (r < 0.35) out.push(...new Array(int(rnd, 300)).fill(0x61)); // a long run
    else out.push(r < 0.9 ? 0x20 + int(rnd, 94) : int(rnd, 255));
  }
  return new Uint8Array(out);
}

type Item = string | "<too_long>" | "<invalid_utf8>";

/** What the splitter must produce, computed the obvious way on the whole input. */
function referenceLines(input: Uint8Array, max: number): Item[] {
  const out: Item[] = [];
  const emit = (line: Uint8Array) =>
    out.push(line.length > max ? "<too_long>" : decodeLine(line) ?? "<invalid_utf8>");
  let start = 0;
  for (let nl = input.indexOf(10); nl !== -1; nl = input.indexOf(10, start)) {
    let line = input.subarray(start, nl);
    if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, -1);
    emit(line);
    start = nl + 1;
  }
  if (start < input.length) emit(input.subarray(start));
  return out;
}

fuzz("the line splitter matches a whole-input reference for any chunking", (rnd) => {
  const max = pick(rnd, [1, 2, 7, 64, 300]);
  const input = randomBytes(rnd, 2000);
  const got: Item[] = [];
  const sink: LineSink = {
    line: (bytes) => {
      assert.ok(bytes.length <= max, "an emitted line is never over the limit");
      got.push(decodeLine(bytes) ?? "<invalid_utf8>");
    },
    reject: () => got.push("<too_long>"),
  };
  const splitter = new LineSplitter(max);
  for (let at = 0; at < input.length;) {
    const size = 1 + int(rnd, rnd() < 0.5 ? 4 : 700);
    splitter.push(input.subarray(at, at + size), sink);
    at += size;
  }
  splitter.end(sink);
  assert.deepEqual(got, referenceLines(input, max));
});

const WORDS = [
  "help",
  "nick",
  "join",
  "leave",
  "part",
  "rooms",
  "list",
  "who",
  "msg",
  "me",
  "history",
  "quit",
  "pass",
  "register",
  "admin",
  "stats",
  "kick",
  "ban",
  "unban",
  "op",
  "deop",
  "topic",
  "lock",
  "unlock",
  "x",
  "",
  "/",
  "NICK",
  "Join",
];

function randomText(rnd: () => number, max: number): string {
  return new TextDecoder().decode(randomBytes(rnd, max)).replaceAll("\n", " ");
}

/** A line shaped like a command, with random arguments. */
function randomLine(rnd: () => number): string {
  const args = Array.from(
    { length: int(rnd, 3) },
    () =>
      rnd() < 0.5
        ? pick(rnd, ["dev", "#Dev", "bob", "lobby", "off", "-", "1", "0", "pw"])
        : randomText(rnd, 12),
  );
  const head = rnd() < 0.8 ? `/${pick(rnd, WORDS)}` : randomText(rnd, 10);
  return [pick(rnd, ["", " ", "\t"]) + head, ...args].join(pick(rnd, [" ", "  ", "\t"]));
}

fuzz("the text parser answers every line with a command, an error or nothing", (rnd) => {
  const line = rnd() < 0.7 ? randomLine(rnd) : randomText(rnd, 200);
  const result = parseTextLine(line);
  if (result === null) return assert.equal(line.trim(), "");
  assert.equal(typeof result.type, "string");
  if (result.type === "parse_error") {
    assert.ok(["unknown_command", "bad_request"].includes(result.code));
    // Errors may quote the input; their line never carries controls or extra lines.
    const text = formatEvent({ type: "error", code: result.code, message: result.message });
    assert.equal(text.indexOf("\n"), text.length - 1);
    // deno-lint-ignore no-control-regex
    assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(text.slice(0, -1)), JSON.stringify(text));
  }
});

const TYPES = [...WORDS.filter((w) => /^[a-z]+$/.test(w)), "say", "nope", ""];
const VALUES: readonly unknown[] = [
  "dev",
  "",
  "a\nb",
  "\x1b[2J",
  0,
  -1,
  1.5,
  2 ** 60,
  true,
  null,
  [],
  {},
  { x: 1 },
  "💬",
];

function randomRequest(rnd: () => number): Record<string, unknown> {
  const request: Record<string, unknown> = {};
  if (rnd() < 0.95) request.type = rnd() < 0.9 ? pick(rnd, TYPES) : pick(rnd, VALUES);
  for (let i = int(rnd, 4); i > 0; i--) {
    const field = pick(rnd, [
      "room",
      "text",
      "nick",
      "to",
      "password",
      "reason",
      "limit",
      "after",
      "ref",
      "x",
    ]);
    request[field] = pick(rnd, VALUES);
  }
  return request;
}

function mutate(rnd: () => number, text: string): string {
  const chars = [...text];
  for (let i = int(rnd, 3); i > 0; i--) {
    const at = int(rnd, chars.length);
    const r = rnd();
    if (r < 0.3) chars.splice(at, 1);
    else if (r < 0.6) {
      chars.splice(at, 0, pick(rnd, ['"', "{", "}", ",", ":", "\\", "\u0000", "é"]));
    } else chars.length = at;
  }
  return chars.join("");
}

fuzz("the JSON codec answers every item with a well-formed command or an error", (rnd) => {
  const valid = JSON.stringify(randomRequest(rnd));
  const item = rnd() < 0.5 ? valid : mutate(rnd, valid);
  const result = parseJsonItem(item);
  if (result === null) return assert.equal(item.trim(), "");
  if (result.type === "parse_error") {
    assert.ok(["bad_request", "unknown_type"].includes(result.code), result.code);
    const ref = (result as { ref?: unknown }).ref;
    assert.ok(ref === undefined || typeof ref === "string" || typeof ref === "number");
    // The error event itself encodes to one line of JSON.
    const line = encodeJsonEvent({ type: "error", code: result.code, message: result.message });
    assert.ok(!line.includes("\n"));
    JSON.parse(line);
    return;
  }
  for (const [field, value] of Object.entries(result)) {
    if (field === "limit" || field === "after") assert.ok(Number.isSafeInteger(value), field);
    else if (field !== "ref") assert.equal(typeof value, "string", field);
  }
});

/** A port that checks every event the hub sends can be encoded both ways. */
class CheckingPort implements ClientPort {
  closed = false;
  events = 0;
  send(out: Outgoing): void {
    const event = eventOf(out);
    const text = formatEvent(event);
    assert.ok(text.endsWith("\n"));
    JSON.parse(encodeJsonEvent(event));
    this.events++;
  }
  close(): void {
    this.closed = true;
  }
}

Deno.test("fuzz: the hub takes random commands from many clients and stays consistent", async () => {
  const rnd = seededRandom(SEED);
  const errors: unknown[] = [];
  const store = new MemoryHistoryStore(50);
  const hub = new Hub(store, new Stats(), {
    historyOnJoin: 5,
    historyDefault: 20,
    historyMax: 100,
    serverName: "fuzz",
    link: new MemoryLink(),
    quietRoomSize: 4,
    summaryIntervalMs: 50,
    password: undefined,
    adminPassword: "root",
    onError: (err) => errors.push(err),
  });
  const sessions = Array.from(
    { length: 12 },
    (_, i) => hub.connect(new CheckingPort(), `10.0.0.${i % 3}`),
  );
  const until = performance.now() + BUDGET_MS;
  let commands = 0;
  try {
    while (performance.now() < until) {
      const session = pick(rnd, sessions);
      if (session.closed) {
        sessions[sessions.indexOf(session)] = hub.connect(new CheckingPort(), "10.0.0.9");
        continue;
      }
      // Some clients become server operators ("/x" stands for "/admin root").
      const parsed = parseTextLine(randomLine(rnd).replace(/^(\s*)\/x\b/, "$1/admin root"));
      if (parsed !== null && parsed.type !== "parse_error") {
        hub.handle(session, parsed as Command);
        commands++;
      }
      if (rnd() < 0.02) hub.disconnect(pick(rnd, sessions));
      if (commands % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // password checks finish
  } catch (err) {
    throw new Error(`hub fuzz failed (CHAT_FUZZ_SEED=${SEED})`, { cause: err });
  } finally {
    hub.shutdown();
  }
  assert.deepEqual(errors, [], `handlers failed (CHAT_FUZZ_SEED=${SEED})`);
  assert.ok(commands > 100, `only ${commands} commands ran`);
  // Every open session is in each of its rooms; nicks are unique ignoring case.
  const open = sessions.filter((s) => !s.closed);
  const keys = open.map((s) => s.nick.toLowerCase());
  assert.equal(new Set(keys).size, keys.length, "unique nicks");
  for (const s of open) {
    for (const [name, room] of s.rooms) {
      assert.ok(room.members.has(s), `${s.nick} in ${name}`);
    }
    assert.ok(s.current === null || s.rooms.get(s.current.name) === s.current, "current is joined");
  }
  await store.close();
});
