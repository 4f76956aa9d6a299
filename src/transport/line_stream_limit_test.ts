/**
 * The byte limit on a line: exactly at it passes, one over is rejected once,
 * and a line far over it is never buffered.
 */
import assert from "node:assert/strict";
import { decodeLine, LineSplitter, TextLineStream } from "./line_stream.ts";
import { socketLines } from "./socket.ts";
import {
  byteByByte,
  bytes,
  chunkConn,
  cut,
  EXACT,
  MAX,
  OVER,
  runLogged,
  splitLines,
  streamLines,
  textLines,
  utf8,
} from "./line_stream_test_support.ts";

// --- the byte limit ---------------------------------------------------------------------------

Deno.test("the test's exact-limit line has exactly maxLineBytes bytes", () => {
  assert.equal(utf8.encode(EXACT).length, MAX);
});

Deno.test("a line of exactly maxLineBytes passes, with \\n and with \\r\\n", async () => {
  for (const end of ["\n", "\r\n"]) {
    const input = bytes(EXACT, end, "next\n");
    for (const chunks of [[input], byteByByte(input)]) {
      assert.deepEqual(splitLines(chunks, MAX), [EXACT, "next"], JSON.stringify(end));
      const { lines, rejects } = await streamLines(chunks, MAX);
      assert.deepEqual(lines, [EXACT, "next"]);
      assert.deepEqual(rejects, []);
    }
  }
});

Deno.test("a line of exactly maxLineBytes passes when its \\r and \\n arrive in later chunks", () => {
  assert.deepEqual(splitLines([bytes(EXACT), bytes("\r"), bytes("\n")], MAX), [EXACT]);
});

Deno.test("a line of exactly maxLineBytes at EOF passes", async () => {
  assert.deepEqual(splitLines([bytes(EXACT)], MAX), [EXACT]);
  assert.deepEqual((await streamLines(byteByByte(bytes(EXACT)), MAX)).lines, [EXACT]);
});

Deno.test("a line of maxLineBytes+1 is rejected once with too_long, with \\n and \\r\\n", async () => {
  for (const end of ["\n", "\r\n"]) {
    const input = bytes("a\n", OVER, end, "b\n");
    for (const chunks of [[input], byteByByte(input)]) {
      assert.deepEqual(splitLines(chunks, MAX), ["a", "REJECT", "b"], JSON.stringify(end));
      const { lines, rejects } = await streamLines(chunks, MAX);
      assert.deepEqual(lines, ["a", "b"]);
      assert.deepEqual(rejects, ["too_long"]);
    }
  }
});

Deno.test("a line of maxLineBytes+1 ending in \\r then \\n in separate chunks is rejected once", () => {
  assert.deepEqual(splitLines([bytes(OVER), bytes("\r"), bytes("\n"), bytes("ok\n")], MAX), [
    "REJECT",
    "ok",
  ]);
});

Deno.test("a line far over the limit fed in small chunks is rejected exactly once", async () => {
  const input = bytes("first\n", "y".repeat(10_000), "\r\nnext\n");
  const chunks = cut(input, Array.from({ length: Math.floor(input.length / 7) }, (_, i) => i * 7));
  assert.deepEqual(splitLines(chunks, MAX), ["first", "REJECT", "next"]);
  const { log } = await runLogged(textLines, chunks, MAX);
  assert.deepEqual(log, [["out", "first"], ["reject", "too_long"], ["out", "next"]]);
});

Deno.test("a line far over the limit inside one chunk is rejected once", () => {
  assert.deepEqual(splitLines([bytes("z".repeat(1000), "\nnext\n")], MAX), ["REJECT", "next"]);
});

Deno.test("a too-long line that ends at EOF is rejected once and nothing is flushed", () => {
  assert.deepEqual(splitLines(byteByByte(bytes("ok\n", "w".repeat(50))), MAX), ["ok", "REJECT"]);
});

Deno.test("a last line of maxLineBytes+1 bytes at EOF is rejected, not flushed", async () => {
  // The byte kept for a possible `\r` must count once the input ends.
  assert.deepEqual(splitLines([bytes(OVER)], MAX), ["REJECT"]);
  const { lines, rejects } = await streamLines([bytes(OVER)], MAX);
  assert.deepEqual(lines, []);
  assert.deepEqual(rejects, ["too_long"]);
});

Deno.test("the limit counts bytes, not characters", () => {
  // 3 characters, 9 bytes.
  assert.deepEqual(splitLines([bytes("€€€\nok\n")], MAX), ["REJECT", "ok"]);
});

Deno.test("maxLineBytes 1 accepts one byte and rejects two", () => {
  assert.deepEqual(splitLines([bytes("a\nab\n\r\n")], 1), ["a", "REJECT", ""]);
});

Deno.test("the constructors reject maxLineBytes 0, negatives and non-integers with RangeError", () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => new LineSplitter(bad), RangeError, String(bad));
    assert.throws(() => new TextLineStream({ maxLineBytes: bad }), RangeError, String(bad));
    assert.throws(() => socketLines(chunkConn([]), bad), RangeError, String(bad));
  }
  assert.equal(new LineSplitter().maxLineBytes, 4096);
  assert.equal(new LineSplitter(1).maxLineBytes, 1);
});

Deno.test("the default limit is 4096 bytes", () => {
  const ok = "q".repeat(4096);
  assert.deepEqual(splitLines([bytes(ok, "\n", ok, "q\n")]), [ok, "REJECT"]);
});

// --- bounded memory ---------------------------------------------------------------------------

Deno.test("10 MB without a newline is rejected once, never buffered, and the next line arrives", () => {
  const splitter = new LineSplitter();
  const chunk = new Uint8Array(64 * 1024).fill(0x78);
  const total = 10 * 1024 * 1024;
  let lines = 0;
  let rejects = 0;
  const before = Deno.memoryUsage();
  for (let sent = 0; sent < total; sent += chunk.length) {
    splitter.push(chunk, { line: () => lines++, reject: () => rejects++ });
  }
  const after = Deno.memoryUsage();
  assert.equal(lines, 0);
  assert.equal(rejects, 1);
  const growth = after.heapUsed + after.external - (before.heapUsed + before.external);
  assert.ok(growth < 5 * 1024 * 1024, `memory grew by ${growth} bytes`);

  const got: string[] = [];
  splitter.push(bytes("tail\nnext line é\n"), {
    line: (b) => got.push(decodeLine(b) ?? "INVALID"),
    reject: () => rejects++,
  });
  assert.deepEqual(got, ["next line é"]);
  assert.equal(rejects, 1);
});

Deno.test("a long line fed in 1 KiB chunks is rejected as soon as it passes the limit, before its \\n", () => {
  // The rejection comes before the newline: the splitter did not wait to buffer the whole line.
  const splitter = new LineSplitter(4096);
  const chunk = new Uint8Array(1024).fill(0x78);
  let rejects = 0;
  let fedWhenRejected = -1;
  let fed = 0;
  for (let i = 0; i < 8; i++) {
    fed += chunk.length;
    splitter.push(chunk, {
      line: () => assert.fail("no line expected"),
      reject: () => {
        rejects++;
        fedWhenRejected = fed;
      },
    });
  }
  assert.equal(rejects, 1);
  assert.equal(fedWhenRejected, 5 * 1024);
});

Deno.test("a leading byte-order mark is kept as part of the line, not silently dropped", () => {
  assert.deepEqual(splitLines([new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x0a])]), ["\ufeffa"]);
});
