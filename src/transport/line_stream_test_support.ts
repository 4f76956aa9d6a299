/**
 * What the line stream's tests share: bytes built from strings, chunkings of
 * an input, runs of the splitter, of a stream (logging what comes out, in
 * order) and of socketLines, and the small byte limit with lines at it.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  decodeLine,
  type LineRejection,
  LineSplitter,
  type LineStreamOptions,
  TextLineStream,
} from "./line_stream.ts";
import { socketLines } from "./socket.ts";

/** UTF-8 encoding of test strings. */
export const utf8 = new TextEncoder();

/** Builds bytes from strings (UTF-8) and raw byte arrays. */
export function bytes(...parts: (string | number[])[]): Uint8Array {
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
export function cut(input: Uint8Array, offsets: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const at of [...offsets, input.length]) {
    chunks.push(input.slice(from, at));
    from = at;
  }
  return chunks;
}

/** One chunk per byte. */
export function byteByByte(input: Uint8Array): Uint8Array[] {
  return Array.from(input, (b) => Uint8Array.of(b));
}

/** What a LineSplitter run gave: a line with its terminator's length, or a rejection. */
export type SplitEvent = { line: string | null; terminator: number } | "reject";

/** Runs a LineSplitter over `chunks` then ends it; lines are decoded strictly (null: invalid). */
export function runSplitter(chunks: Uint8Array[], maxLineBytes?: number): SplitEvent[] {
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
export function splitLines(chunks: Uint8Array[], maxLineBytes?: number): (string | null)[] {
  return runSplitter(chunks, maxLineBytes).map((e) => (e === "reject" ? "REJECT" : e.line));
}

/** One step of a logged stream run: a chunk enqueued, or a rejection. */
export type LogEntry<T> = ["out", T] | ["reject", LineRejection];

/**
 * Pipes `chunks` through a stream and logs, in the order they happen, every chunk the
 * stream enqueues and every `onReject` call. Both happen synchronously inside the
 * stream's transform, so enqueues are observed by wrapping the controller's `enqueue`
 * for the duration of the run (reading the output would only see them later).
 */
export async function runLogged<T>(
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

/** A TextLineStream with `o`, for {@link runLogged}. */
export const textLines = (o: LineStreamOptions) => new TextLineStream(o);

/**
 * A connection whose reads return `chunks` in order (a chunk larger than the
 * read buffer over several reads), then the end.
 */
export function chunkConn(chunks: Uint8Array[]): Deno.Conn {
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
export async function batchRun(chunks: Uint8Array[], maxLineBytes = 4096): Promise<string[][]> {
  const out = await Array.fromAsync(socketLines(chunkConn(chunks), maxLineBytes));
  return out.map((batch) =>
    batch.map((item) => (typeof item === "string" ? item : `REJECT:${item.rejected}`))
  );
}

/** The lines of a TextLineStream run and its rejections. */
export async function streamLines(chunks: Uint8Array[], maxLineBytes?: number) {
  const { out, rejects } = await runLogged(textLines, chunks, maxLineBytes);
  return { lines: out, rejects };
}

/** The small line limit the byte-limit tests use. */
export const MAX = 8;
/** Exactly MAX bytes, with multi-byte characters: 3 + 3 + 2. */
export const EXACT = "€€é";
/** One byte over MAX. */
export const OVER = "x".repeat(MAX + 1);
