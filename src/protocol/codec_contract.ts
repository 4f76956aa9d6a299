/**
 * What every {@link Codec} must do, whatever its wire format: the shared
 * contract suite, registered by each codec's own test file
 * (`codecContract(textCodec, {...})`). A new format (IRC) passes it before it
 * meets a socket.
 *
 * - decoding never throws, whatever a stranger sends (a seeded fuzz of
 *   thousands of hostile items), and answers with a command, a parse error
 *   or nothing;
 * - a blank item asks nothing (`null`);
 * - junk is a parse error with a code and a message;
 * - every event variant encodes to one or more lines, each ending in `\n`
 *   (except those the codec declares `silent`: ephemeral events its door
 *   does not show, which encode to nothing),
 *   none holding a raw `\r` (a door that needs `\r\n` adds it).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ChatMessage, Command, ServerEvent } from "../core/types.ts";
import type { Codec, ParseError } from "./codec.ts";

/** What a codec's test tells the contract about its format. */
export interface ContractOptions {
  /** Items of its format that are not valid requests: each must decode to a parse error. */
  junk: readonly string[];
  /** Well-formed requests of its format, mutated by the fuzz (the closer to valid, the deeper it reaches). */
  valid: readonly string[];
  /** Fuzzed items (default 4000). */
  rounds?: number;
  /** The fuzz's seed (default: `CHAT_FUZZ_SEED`, else a fixed one, so a failure replays). */
  seed?: number;
  /** Ephemeral event types its door does not show: they encode to nothing. */
  silent?: readonly ServerEvent["type"][];
}

/** Every request type, to check a decoded command is one the core knows. */
const COMMAND_TYPES: ReadonlySet<string> = new Set<Command["type"]>([
  "say",
  "tagmsg",
  "me",
  "msg",
  "nick",
  "join",
  "leave",
  "rooms",
  "who",
  "history",
  "help",
  "quit",
  "pass",
  "register",
  "admin",
  "stats",
  "rehash",
  "kick",
  "ban",
  "unban",
  "op",
  "deop",
  "topic",
  "lock",
  "unlock",
]);

const MESSAGE: ChatMessage = {
  room: "dev",
  nick: "alice",
  text: "hello, café 😀",
  id: 42,
  ts: 1_700_000_000_000,
  kind: "say",
};

/**
 * At least one sample of every event variant, keyed by type so that a new
 * variant does not compile until it has a sample here.
 */
export const SAMPLE_EVENTS: {
  readonly [K in ServerEvent["type"]]: Extract<ServerEvent, { type: K }>[];
} = {
  welcome: [
    { type: "welcome", nick: "guest-1", room: "lobby", server: "chat", maxLineBytes: 4096 },
    { type: "welcome", nick: "guest-2", room: "lobby", server: "chat", password: true },
  ],
  message: [
    { type: "message", message: MESSAGE },
    { type: "message", message: { ...MESSAGE, kind: "action", text: "waves" }, ref: 7 },
    { type: "message", message: { ...MESSAGE, kind: "notice", text: "fyi" } },
  ],
  presence: [
    { type: "presence", nick: "bob", away: "lunch" },
    { type: "presence", nick: "bob", away: null },
  ],
  tagmsg: [
    { type: "tagmsg", from: "alice", room: "dev", tags: { "+typing": "active" }, ts: 1 },
    { type: "tagmsg", from: "alice", to: "bob", tags: { "+draft/react": "👍" }, ts: 1, ref: 4 },
  ],
  dm: [
    { type: "dm", from: "alice", to: "bob", text: "psst", ts: 1, ref: "r1" },
    { type: "dm", from: "alice", to: "bob", text: "fyi", ts: 1, notice: true },
  ],
  joined: [
    { type: "joined", room: "dev", nick: "bob" },
    { type: "joined", room: "dev", nick: "bob", read: 40, readAt: 1_700_000_000_000, unread: 2 },
  ],
  edit: [{ type: "edit", room: "dev", id: 42, nick: "alice", text: "fixed", ts: 2, ref: 1 }],
  delete: [
    { type: "delete", room: "dev", id: 42, nick: "alice" },
    { type: "delete", room: "dev", id: 42, nick: "op", reason: "spam" },
    { type: "delete", to: "bob", id: 7, nick: "alice" },
  ],
  react: [
    { type: "react", room: "dev", id: 42, nick: "bob", emoji: "👍", on: true },
    { type: "react", room: "dev", id: 42, nick: "bob", emoji: "👍", on: false, ref: 3 },
  ],
  reactions: [{
    type: "reactions",
    room: "dev",
    id: 42,
    nick: "alice",
    text: "hello",
    reactions: { "👍": ["bob", "carol"] },
  }],
  typing: [
    { type: "typing", nick: "bob", room: "dev", state: "active" },
    { type: "typing", nick: "bob", to: "alice", state: "done" },
  ],
  read: [
    { type: "read", room: "dev", id: 42, ts: 1_700_000_000_000 },
    { type: "read", with: "bob", id: 0, ref: 5 },
  ],
  search: [
    { type: "search", results: [{ ...MESSAGE, reactions: { "🎉": ["bob"] }, edited: 3 }] },
    { type: "search", results: [], ref: 6 },
  ],
  left: [
    { type: "left", room: "dev", nick: "bob", reason: { kind: "part" } },
    { type: "left", room: "dev", nick: "bob", reason: { kind: "part", message: "later" } },
    { type: "left", room: "dev", nick: "bob", reason: { kind: "quit", message: "bye" } },
    { type: "left", room: "dev", nick: "bob", reason: { kind: "kick", by: "alice" } },
    { type: "left", room: "dev", nick: "bob", reason: { kind: "ban", by: "alice", message: "x" } },
  ],
  nick: [{ type: "nick", old: "guest-1", nick: "alice", ref: 1 }],
  summary: [{ type: "summary", room: "big", joined: 3, left: 1, seconds: 10 }],
  current: [{ type: "current", room: "dev" }, { type: "current", room: null }],
  rooms: [
    { type: "rooms", rooms: [{ room: "dev", members: 2 }, { room: "lobby", members: 1 }] },
    { type: "rooms", rooms: [] },
    { type: "rooms", rooms: [{ room: "dev", members: 1, topic: "release day" }] },
  ],
  who: [
    { type: "who", room: "dev", members: ["alice", "bob"] },
    { type: "who", room: "big", members: ["a"], total: 201, offset: 200 },
    {
      type: "who",
      room: "dev",
      members: ["alice", "bob"],
      details: [
        { nick: "alice", op: true, user: "al", realname: "Alice A" },
        { nick: "bob", op: false, away: "lunch" },
      ],
    },
  ],
  away: [
    { type: "away", nick: "alice", text: "lunch", ref: 1 },
    { type: "away", nick: "alice", text: null },
  ],
  whois: [
    { type: "whois", nick: "bob", rooms: ["dev"], registered: true, admin: false, away: "x" },
    { type: "whois", nick: "carol", rooms: [], registered: false, admin: true, ref: 5 },
  ],
  ison: [{ type: "ison", nicks: ["bob"] }, { type: "ison", nicks: [] }],
  bans: [
    { type: "bans", room: "dev", bans: ["mallory"] },
    { type: "bans", room: "dev", bans: [] },
  ],
  modes: [{ type: "modes", room: "dev", locked: true }, {
    type: "modes",
    room: "dev",
    locked: false,
  }],
  targets: [
    {
      type: "targets",
      targets: [{ name: "dev", dm: false, ts: 5 }, { name: "bob", dm: true, ts: 4 }],
    },
    { type: "targets", targets: [], ref: 2 },
  ],
  history: [
    { type: "history", room: "dev", messages: [MESSAGE, { ...MESSAGE, id: 43 }] },
    { type: "history", room: "dev", messages: [] },
    { type: "history", room: "dev", messages: [{ ...MESSAGE, replyTo: 41 }], ids: true },
    {
      type: "history",
      room: "dm:alice:bob",
      with: "bob",
      messages: [{ ...MESSAGE, room: "dm:alice:bob" }],
    },
  ],
  help: [{ type: "help" }],
  kept: [{ type: "kept", rooms: ["dev", "ops"], ref: 1 }, { type: "kept", rooms: [] }],
  bye: [{ type: "bye", ref: 2 }],
  token: [{ type: "token", token: "q5Yf0x_Lr-8", nick: "alice", ref: 4 }],
  logout: [{ type: "logout", revoked: 1, ref: 5 }, { type: "logout", revoked: 0 }],
  notice: [{ type: "notice", text: "password accepted" }],
  moderation: [
    { type: "moderation", room: "dev", action: "op", by: "alice", nick: "bob" },
    { type: "moderation", room: "dev", action: "lock", by: "alice" },
    { type: "moderation", room: "dev", action: "voice", by: "alice", nick: "bob" },
    {
      type: "moderation",
      room: "dev",
      action: "flags",
      by: "alice",
      flags: { secret: true, inviteOnly: false, topicOpen: true },
    },
  ],
  invited: [
    { type: "invited", room: "dev", nick: "bob", by: "alice" },
    { type: "invited", room: "dev", nick: "bob", by: "alice", ref: 3 },
  ],
  topic: [
    { type: "topic", room: "dev", topic: "release day", by: "alice" },
    { type: "topic", room: "dev", topic: null, by: "alice", changed: true },
  ],
  stats: [{
    type: "stats",
    connections: { tcp: 2, ws: 1 },
    sessions: 3,
    rooms: 2,
    messagesIn: 10,
    eventsOut: 30,
    messagesPerSecond: 1.5,
    eventsPerSecond: 4.25,
    seconds: 60,
    uptimeSeconds: 120,
    history: 10,
  }],
  shutdown: [{ type: "shutdown" }],
  error: [
    { type: "error", code: "nick_taken", message: "nick bob is taken", ref: 3 },
    // Error messages may quote the client's input, controls included.
    { type: "error", code: "unknown_command", message: "unknown /\x1b[2J\r\nx\x00 (try /help)" },
  ],
};

/** Every sample event, in one list. */
export const ALL_SAMPLE_EVENTS: readonly ServerEvent[] = Object.values(SAMPLE_EVENTS).flat();

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pieces that stress a parser: separators, controls, lone surrogates, prototype names, numbers. */
const HOSTILE: readonly string[] = [
  "\r",
  "\n",
  "\r\n",
  "\x00",
  "\x1b[31m",
  "\u0085",
  "\u2028",
  "\ud800",
  "\udfff",
  "\ufeff",
  "😀",
  "é",
  "/",
  "//",
  ":",
  " ",
  "\t",
  "{",
  "}",
  "[",
  "]",
  '"',
  "\\",
  ",",
  "null",
  "true",
  "-1",
  "1e999",
  "9007199254740993",
  "NaN",
  "__proto__",
  "constructor",
  "toString",
  '{"type":',
  '"ref":',
  "/join",
  "/nick",
  "/who",
  "/history",
  "PRIVMSG",
  "#",
  "@",
  "!",
];

/** A random item: hostile pieces, printable runs, long runs, any UTF-16 unit. */
function randomItem(rnd: () => number, valid: readonly string[]): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
  const r = rnd();
  if (r < 0.3 && valid.length > 0) return mutate(rnd, pick(valid), pick);
  if (r < 0.35) return "[".repeat(Math.floor(rnd() * 5000)); // deep nesting
  if (r < 0.4) return pick(HOSTILE).repeat(Math.floor(rnd() * 3000)); // long items
  let out = "";
  for (let n = Math.floor(rnd() * 40); n > 0; n--) {
    const k = rnd();
    if (k < 0.4) out += pick(HOSTILE);
    else if (k < 0.85) out += String.fromCharCode(0x20 + Math.floor(rnd() * 95));
    else out += String.fromCharCode(Math.floor(rnd() * 0x10000));
  }
  return out;
}

/** `text` with a few characters dropped, inserted or cut off. */
function mutate(rnd: () => number, text: string, pick: <T>(items: readonly T[]) => T): string {
  let out = text;
  for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) {
    const at = Math.floor(rnd() * (out.length + 1));
    const r = rnd();
    if (r < 0.3) out = out.slice(0, at) + out.slice(at + 1);
    else if (r < 0.8) out = out.slice(0, at) + pick(HOSTILE) + out.slice(at);
    else out = out.slice(0, at);
  }
  return out;
}

/** Whether `result` is a well-formed decode result (a command, a parse error, or null). */
function checkDecoded(result: Command | ParseError | null, item: string): void {
  const shown = JSON.stringify(item.slice(0, 80));
  if (result === null) return;
  assert.equal(typeof result, "object", shown);
  if (result.type === "parse_error") {
    assertParseError(result, shown);
    return;
  }
  assert.ok(COMMAND_TYPES.has(result.type), `unknown command type ${result.type} for ${shown}`);
  const ref = (result as { ref?: unknown }).ref;
  assert.ok(ref === undefined || typeof ref === "string" || typeof ref === "number", shown);
}

function assertParseError(result: ParseError, shown: string): void {
  assert.equal(typeof result.code, "string", shown);
  assert.ok(result.code.length > 0, `empty code for ${shown}`);
  assert.equal(typeof result.message, "string", shown);
  assert.ok(result.message.length > 0, `empty message for ${shown}`);
  const ref = result.ref;
  assert.ok(ref === undefined || typeof ref === "string" || typeof ref === "number", shown);
}

/** Asserts `encoded` is one or more lines, each ending in `\n`, with no raw `\r`. */
export function assertLines(encoded: string, what: string): void {
  assert.equal(typeof encoded, "string", what);
  assert.ok(encoded.length > 0, `${what}: no line`);
  assert.ok(encoded.endsWith("\n"), `${what}: does not end in \\n: ${JSON.stringify(encoded)}`);
  assert.ok(!encoded.includes("\r"), `${what}: a raw \\r in ${JSON.stringify(encoded)}`);
  for (const line of encoded.slice(0, -1).split("\n")) {
    assert.ok(line.length > 0, `${what}: an empty line in ${JSON.stringify(encoded)}`);
  }
}

/** Registers the contract's tests for `codec`. */
export function codecContract(codec: Codec, options: ContractOptions): void {
  const name = `${codec.name} codec`;
  const rounds = options.rounds ?? 4000;
  const seed = options.seed ?? Number(Deno.env.get("CHAT_FUZZ_SEED") ?? 20_260_101);

  Deno.test(`${name}: a blank item asks nothing`, () => {
    for (const item of ["", " ", "   ", "\t", " \t "]) {
      assert.equal(codec.decode(item), null, JSON.stringify(item));
    }
  });

  Deno.test(`${name}: junk is a parse error with a code and a message`, () => {
    assert.ok(options.junk.length > 0, "the codec's test gives junk to try");
    for (const item of options.junk) {
      const result = codec.decode(item);
      assert.ok(result !== null && result.type === "parse_error", JSON.stringify(item));
      assertParseError(result, JSON.stringify(item));
    }
  });

  Deno.test(`${name}: its valid samples decode to commands`, () => {
    for (const item of options.valid) {
      const result = codec.decode(item);
      assert.ok(result !== null && result.type !== "parse_error", JSON.stringify(item));
      checkDecoded(result, item);
    }
  });

  Deno.test(`${name}: decoding never throws on ${rounds} hostile items (seed ${seed})`, () => {
    const rnd = seededRandom(seed);
    for (let i = 0; i < rounds; i++) {
      const item = randomItem(rnd, options.valid);
      let result: Command | ParseError | null;
      try {
        result = codec.decode(item);
      } catch (err) {
        throw new Error(
          `${name} threw on item ${i} (seed ${seed}): ${JSON.stringify(item.slice(0, 80))}`,
          { cause: err },
        );
      }
      checkDecoded(result, item);
    }
  });

  Deno.test(`${name}: every event variant encodes to lines ending in \\n, without a raw \\r`, () => {
    for (const [type, samples] of Object.entries(SAMPLE_EVENTS)) {
      assert.ok(samples.length > 0, `a sample of ${type}`);
      for (const event of samples as ServerEvent[]) {
        if (options.silent?.includes(event.type)) {
          assert.equal(codec.encode(event), "", `${type} is silent`);
          continue;
        }
        assertLines(codec.encode(event), `${type} ${JSON.stringify(event)}`);
      }
    }
  });

  Deno.test(`${name}: encoding is pure (the same event encodes the same, and is not changed)`, () => {
    for (const event of ALL_SAMPLE_EVENTS) {
      const before = structuredClone(event);
      assert.equal(codec.encode(event), codec.encode(structuredClone(event)));
      assert.deepEqual(event, before);
    }
  });

  Deno.test(`${name}: the error for any parse error encodes to lines`, () => {
    const rnd = seededRandom(seed + 1);
    let errors = 0;
    for (let i = 0; i < 500; i++) {
      const result = codec.decode(randomItem(rnd, options.valid));
      if (result === null || result.type !== "parse_error") continue;
      errors++;
      const { code, message, ref } = result;
      assertLines(codec.encode({ type: "error", code, message, ref }), message);
    }
    assert.ok(errors > 0, "some fuzzed items were refused");
  });
}
