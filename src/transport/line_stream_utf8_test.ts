/**
 * Strict UTF-8: an invalid line is reported in its place and the lines
 * around it survive, in order, through the streams and socketLines.
 */
import assert from "node:assert/strict";
import { decodeLine, isUtf8 } from "./line_stream.ts";
import {
  batchRun,
  byteByByte,
  bytes,
  cut,
  MAX,
  runLogged,
  splitLines,
  streamLines,
  textLines,
} from "./line_stream_test_support.ts";

// --- strict UTF-8 -----------------------------------------------------------------------------

const INVALID: [string, number[]][] = [
  ["0xff", [0xff]],
  ["overlong 0xc0 0xaf", [0xc0, 0xaf]],
  ["surrogate 0xed 0xa0 0x80", [0xed, 0xa0, 0x80]],
  ["truncated 0xe2 0x82", [0xe2, 0x82]],
  ["lone continuation 0x80", [0x80]],
];

Deno.test("decodeLine decodes valid UTF-8 and returns null for invalid bytes", () => {
  assert.equal(decodeLine(bytes("héllo € 😀")), "héllo € 😀");
  assert.equal(decodeLine(new Uint8Array(0)), "");
  for (const [name, raw] of INVALID) assert.equal(decodeLine(bytes("a", raw, "b")), null, name);
});

Deno.test("ASCII lines, short and long, decode as the runtime's decoder does; isUtf8 agrees", () => {
  const reference = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const every = Uint8Array.from({ length: 128 }, (_, i) => i); // NUL and controls included
  for (const line of [every, bytes("x".repeat(1024)), bytes("y".repeat(5000)), bytes("")]) {
    assert.equal(decodeLine(line), reference.decode(line));
    assert.equal(isUtf8(line), true);
  }
  assert.equal(isUtf8(bytes("héllo")), true);
  for (const [name, raw] of INVALID) assert.equal(isUtf8(bytes("a", raw, "b")), false, name);
  assert.equal(isUtf8(bytes("a".repeat(2000), [0xff])), false, "invalid after a long ASCII run");
});

Deno.test("invalid UTF-8 is reported as invalid_utf8 and the lines around it survive in order", async () => {
  for (const [name, raw] of INVALID) {
    const input = bytes("before é\n", "x", raw, "y\r\n", "after 😀\n");
    for (const chunks of [[input], byteByByte(input)]) {
      assert.deepEqual(splitLines(chunks), ["before é", null, "after 😀"], name);
      const { log } = await runLogged(textLines, chunks);
      assert.deepEqual(
        log,
        [["out", "before é"], ["reject", "invalid_utf8"], ["out", "after 😀"]],
        name,
      );
    }
  }
});

Deno.test("an invalid last line at EOF is reported as invalid_utf8", async () => {
  const { log } = await runLogged(textLines, [bytes("ok\n", [0xff])]);
  assert.deepEqual(log, [["out", "ok"], ["reject", "invalid_utf8"]]);
});

Deno.test("an invalid byte in one line does not spoil a multi-byte character split across chunks in the next", async () => {
  const input = bytes([0xff], "\n€\n");
  for (let i = 0; i <= input.length; i++) {
    const { lines, rejects } = await streamLines(cut(input, [i]));
    assert.deepEqual(lines, ["€"], `split at ${i}`);
    assert.deepEqual(rejects, ["invalid_utf8"], `split at ${i}`);
  }
});

Deno.test("socketLines emits the lines of each read as one array", async () => {
  const out = await batchRun([bytes("a\nb\nc"), bytes("d\ne\n"), bytes("f\n")]);
  assert.deepEqual(out, [["a", "b"], ["cd", "e"], ["f"]]);
});

Deno.test("socketLines reads on until a line is complete: no empty arrays", async () => {
  const out = await batchRun([bytes("ab"), bytes("cd"), bytes("\n")]);
  assert.deepEqual(out, [["abcd"]]);
});

Deno.test("socketLines keeps a rejected line in its place among the others", async () => {
  const input = bytes("a\nb\n", [0xff], "\nc\n", "x".repeat(MAX + 1), "\nd\ne\n");
  assert.deepEqual(await batchRun([input], MAX), [
    ["a", "b", "REJECT:invalid_utf8", "c", "REJECT:too_long", "d", "e"],
  ]);
});

Deno.test("socketLines keeps the order when the rejection comes first or last", async () => {
  const input = bytes([0xc0, 0xaf], "\na\n", [0xed, 0xa0, 0x80], "\n");
  assert.deepEqual(await batchRun([input]), [
    ["REJECT:invalid_utf8", "a", "REJECT:invalid_utf8"],
  ]);
});

Deno.test("socketLines keeps the order of a too-long line fed in small chunks", async () => {
  const input = bytes("a\n", "x".repeat(40), "\nb\n");
  const chunks = cut(input, Array.from({ length: Math.floor(input.length / 5) }, (_, i) => i * 5));
  assert.deepEqual((await batchRun(chunks, MAX)).flat(), ["a", "REJECT:too_long", "b"]);
});

Deno.test("socketLines reports an invalid last line at EOF after the last batch", async () => {
  assert.deepEqual(await batchRun([bytes("a\n"), bytes("b\n", [0xff])]), [
    ["a"],
    ["b"],
    ["REJECT:invalid_utf8"],
  ]);
});
