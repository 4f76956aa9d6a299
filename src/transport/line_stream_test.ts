/**
 * Where lines end: \n, \r\n and EOF, in every chunking of the input, even
 * inside a character.
 */
import assert from "node:assert/strict";
import { decodeLine, LineSplitter } from "./line_stream.ts";
import {
  batchRun,
  byteByByte,
  bytes,
  cut,
  runSplitter,
  splitLines,
  streamLines,
  utf8,
} from "./line_stream_test_support.ts";

// --- endings ---------------------------------------------------------------------------------

Deno.test("a \\n ends a line and is not part of it", () => {
  assert.deepEqual(runSplitter([bytes("ab\ncd\n")]), [
    { line: "ab", terminator: 1 },
    { line: "cd", terminator: 1 },
  ]);
});

Deno.test("a \\r before \\n is dropped and the terminator length is 2", () => {
  assert.deepEqual(runSplitter([bytes("ab\r\ncd\n")]), [
    { line: "ab", terminator: 2 },
    { line: "cd", terminator: 1 },
  ]);
});

Deno.test("a \\r\\n split between two chunks is still one terminator", () => {
  assert.deepEqual(runSplitter([bytes("ab\r"), bytes("\ncd\n")]), [
    { line: "ab", terminator: 2 },
    { line: "cd", terminator: 1 },
  ]);
});

Deno.test("a lone \\r in the middle of a line stays in the line", async () => {
  assert.deepEqual(splitLines([bytes("a\rb\n")]), ["a\rb"]);
  assert.deepEqual(splitLines([bytes("\ra\r\r\n")]), ["\ra\r"]);
  assert.deepEqual((await streamLines([bytes("a\rb\r\nc\n")])).lines, ["a\rb", "c"]);
});

Deno.test("only one \\r before \\n is dropped", () => {
  assert.deepEqual(runSplitter([bytes("a\r\r\n")]), [{ line: "a\r", terminator: 2 }]);
});

Deno.test("the last partial line is flushed at EOF with terminator length 0", () => {
  assert.deepEqual(runSplitter([bytes("ab\ncd")]), [
    { line: "ab", terminator: 1 },
    { line: "cd", terminator: 0 },
  ]);
});

Deno.test("the last partial line is flushed at EOF by both streams", async () => {
  assert.deepEqual((await streamLines([bytes("a\r\nb\nc")])).lines, ["a", "b", "c"]);
  const out = await batchRun([bytes("a\nb"), bytes("c")]);
  assert.deepEqual(out, [["a"], ["bc"]]);
});

Deno.test("input ending in \\n produces no extra empty line at EOF", async () => {
  assert.deepEqual(splitLines([bytes("a\n")]), ["a"]);
  assert.deepEqual((await streamLines([bytes("a\r\n")])).lines, ["a"]);
});

Deno.test("empty input produces no line", async () => {
  assert.deepEqual(runSplitter([]), []);
  assert.deepEqual(runSplitter([new Uint8Array(0)]), []);
  assert.deepEqual((await streamLines([new Uint8Array(0)])).lines, []);
});

Deno.test("empty lines are emitted as empty strings", async () => {
  assert.deepEqual(runSplitter([bytes("\n\r\n\na\n\n")]), [
    { line: "", terminator: 1 },
    { line: "", terminator: 2 },
    { line: "", terminator: 1 },
    { line: "a", terminator: 1 },
    { line: "", terminator: 1 },
  ]);
  assert.deepEqual((await streamLines([bytes("\n\r\nx\n")])).lines, ["", "", "x"]);
});

Deno.test("a line spread over many chunks is joined in order", () => {
  assert.deepEqual(
    splitLines([bytes("ab"), bytes("cd"), bytes(""), bytes("ef\ngh"), bytes("\n")]),
    [
      "abcdef",
      "gh",
    ],
  );
});

Deno.test("the kept start of a line is a copy: a reused read buffer does not corrupt it", () => {
  const buffer = new Uint8Array(8);
  const splitter = new LineSplitter();
  const got: string[] = [];
  const line = (b: Uint8Array) => got.push(decodeLine(b) ?? "INVALID");
  buffer.set(utf8.encode("ab"));
  const sink = { line, reject: () => got.push("REJECT") };
  splitter.push(buffer.subarray(0, 2), sink);
  buffer.set(utf8.encode("cd\n"));
  splitter.push(buffer.subarray(0, 3), sink);
  assert.deepEqual(got, ["abcd"]);
});

// --- every split point ------------------------------------------------------------------------

// 1-, 2-, 3- and 4-byte characters, a lone \r, \r\n, an empty line and a last partial line.
const SAMPLE = bytes("aé\r€\n€x\r\n😀\n\nlast😀é");
const SAMPLE_LINES = ["aé\r€", "€x", "😀", "", "last😀é"];

Deno.test("the sample input covers 2, 3 and 4-byte characters", () => {
  assert.equal(utf8.encode("é").length, 2);
  assert.equal(utf8.encode("€").length, 3);
  assert.equal(utf8.encode("😀").length, 4);
  assert.deepEqual(splitLines([SAMPLE]), SAMPLE_LINES);
});

Deno.test("every single split point yields the same lines, also inside a character", async () => {
  for (let i = 0; i <= SAMPLE.length; i++) {
    const chunks = cut(SAMPLE, [i]);
    assert.deepEqual(splitLines(chunks), SAMPLE_LINES, `LineSplitter, split at ${i}`);
    const { lines, rejects } = await streamLines(chunks);
    assert.deepEqual(lines, SAMPLE_LINES, `TextLineStream, split at ${i}`);
    assert.deepEqual(rejects, []);
    const batches = await batchRun(chunks);
    assert.deepEqual(batches.flat(), SAMPLE_LINES, `socketLines, split at ${i}`);
  }
});

Deno.test("every pair of split points yields the same lines", () => {
  for (let i = 0; i <= SAMPLE.length; i++) {
    for (let j = i; j <= SAMPLE.length; j++) {
      assert.deepEqual(splitLines(cut(SAMPLE, [i, j])), SAMPLE_LINES, `split at ${i} and ${j}`);
    }
  }
});

Deno.test("one byte per chunk yields the same lines", async () => {
  assert.deepEqual(splitLines(byteByByte(SAMPLE)), SAMPLE_LINES);
  assert.deepEqual((await streamLines(byteByByte(SAMPLE))).lines, SAMPLE_LINES);
  assert.deepEqual((await batchRun(byteByByte(SAMPLE))).flat(), SAMPLE_LINES);
});
