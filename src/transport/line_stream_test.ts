import assert from "node:assert/strict";
import {
  decodeLine,
  isUtf8,
  type LineRejection,
  LineSplitter,
  type LineStreamOptions,
  TextLineStream,
} from "./line_stream.ts";
import { socketLines } from "./socket.ts";

const utf8 = new TextEncoder();

/** Builds bytes from strings (UTF-8) and raw byte arrays. */
function bytes(...parts: (string | number[])[]): Uint8Array {
  const pieces = parts.map((p) => (typeof p === "string" ? utf8.encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Cuts `input` at the given offsets (ascending). */
function cut(input: Uint8Array, offsets: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const at of [...offsets, input.length]) {
    chunks.push(input.slice(from, at));
    from = at;
  }
  return chunks;
}

/** One chunk per byte. */
function byteByByte(input: Uint8Array): Uint8Array[] {
  return Array.from(input, (b) => Uint8Array.of(b));
}

type SplitEvent = { line: string | null; terminator: number } | "reject";

/** Runs a LineSplitter over `chunks` then ends it; lines are decoded strictly (null: invalid). */
function runSplitter(chunks: Uint8Array[], maxLineBytes?: number): SplitEvent[] {
  const splitter = new LineSplitter(maxLineBytes);
  const events: SplitEvent[] = [];
  const line = (b: Uint8Array, terminator: number) =>
    events.push({ line: decodeLine(b), terminator });
  const sink = { line, reject: () => events.push("reject") };
  for (const chunk of chunks) splitter.push(chunk, sink);
  splitter.end(sink);
  return events;
}

/** The decoded lines of a splitter run, with "REJECT" in place of each rejection. */
function splitLines(chunks: Uint8Array[], maxLineBytes?: number): (string | null)[] {
  return runSplitter(chunks, maxLineBytes).map((e) => (e === "reject" ? "REJECT" : e.line));
}

type LogEntry<T> = ["out", T] | ["reject", LineRejection];

/**
 * Pipes `chunks` through a stream and logs, in the order they happen, every chunk the
 * stream enqueues and every `onReject` call. Both happen synchronously inside the
 * stream's transform, so enqueues are observed by wrapping the controller's `enqueue`
 * for the duration of the run (reading the output would only see them later).
 */
async function runLogged<T>(
  make: (options: LineStreamOptions) => TransformStream<Uint8Array, T>,
  chunks: Uint8Array[],
  maxLineBytes?: number,
): Promise<{ log: LogEntry<T>[]; out: T[]; rejects: LineRejection[] }> {
  const log: LogEntry<T>[] = [];
  const rejects: LineRejection[] = [];
  const stream = make({
    maxLineBytes,
    onReject: (reason) => {
      rejects.push(reason);
      log.push(["reject", reason]);
    },
  });
  const proto = TransformStreamDefaultController.prototype as unknown as {
    enqueue(chunk: unknown): void;
  };
  const original = proto.enqueue;
  proto.enqueue = function (this: unknown, chunk: unknown) {
    log.push(["out", (Array.isArray(chunk) ? [...chunk] : chunk) as T]);
    return original.call(this, chunk);
  };
  try {
    const out = await Array.fromAsync(ReadableStream.from(chunks).pipeThrough(stream));
    // The wrapper saw exactly what was read.
    assert.deepEqual(log.filter((e) => e[0] === "out").map((e) => e[1]), out);
    return { log, out, rejects };
  } finally {
    proto.enqueue = original;
  }
}

const textLines = (o: LineStreamOptions) => new TextLineStream(o);
/**
 * A connection whose reads return `chunks` in order (a chunk larger than the
 * read buffer over several reads), then the end.
 */
function chunkConn(chunks: Uint8Array[]): Deno.Conn {
  let i = 0;
  let at = 0;
  const read = (buffer: Uint8Array): Promise<number | null> => {
    while (i < chunks.length && at === chunks[i].length) [i, at] = [i + 1, 0];
    if (i === chunks.length) return Promise.resolve(null);
    const n = Math.min(buffer.length, chunks[i].length - at);
    buffer.set(chunks[i].subarray(at, at + n));
    at += n;
    return Promise.resolve(n);
  };
  return { read } as unknown as Deno.Conn;
}

/** Runs socketLines over `chunks`; rejected lines show as "REJECT:<reason>" in their places. */
async function batchRun(chunks: Uint8Array[], maxLineBytes = 4096): Promise<string[][]> {
  const out = await Array.fromAsync(socketLines(chunkConn(chunks), maxLineBytes));
  return out.map((batch) =>
    batch.map((item) => (typeof item === "string" ? item : `REJECT:${item.rejected}`))
  );
}

/** The lines of a TextLineStream run and its rejections. */
async function streamLines(chunks: Uint8Array[], maxLineBytes?: number) {
  const { out, rejects } = await runLogged(textLines, chunks, maxLineBytes);
  return { lines: out, rejects };
}

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

// --- the byte limit ---------------------------------------------------------------------------

const MAX = 8;
// Exactly MAX bytes, with multi-byte characters: 3 + 3 + 2.
const EXACT = "€€é";
const OVER = "x".repeat(MAX + 1);

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
