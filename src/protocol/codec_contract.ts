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
 * The events it encodes are `codec_samples.ts`; the hostile items come from
 * `codec_fuzz.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Command } from "../core/types.ts";
import type { ServerEvent } from "../core/events.ts";
import type { Codec, ParseError } from "./codec.ts";
import { randomItem, seededRandom } from "./codec_fuzz.ts";
import { ALL_SAMPLE_EVENTS, SAMPLE_EVENTS } from "./codec_samples.ts";

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
