/**
 * The byte side of a TCP connection: its bytes and lines, read with small
 * buffers, and the sink its client output writes to and closes.
 *
 * @module
 */

import { type LineBatch, LineBatcher } from "./line_stream.ts";
import type { PendingRead } from "./proxied_conn.ts";
import type { OutputSink } from "./output.ts";
import { ByteLink, type Outbox } from "./writer.ts";

/** First read buffer of a connection; it doubles while reads fill it. */
const INITIAL_READ = 256;
/** Reads of at least this many bytes are made into a slab the connection's reads share. */
const SLAB_FROM = 1024;
/** A slab's size: a busy connection makes one buffer for many reads, not one per read. */
const SLAB_BYTES = 64 * 1024;

/**
 * A connection's bytes and lines, read with a small buffer that doubles, up
 * to `max`, whenever a read fills it: `conn.readable` allocates 64 KiB for
 * every pending read, which an idle connection holds forever (~86 KB of RSS
 * each, measured), while busy connections still read in large chunks here.
 *
 * A line batcher its owner's read loop drives (`await reader.read()`, then
 * `lines`), not an async generator or a byte stream piped through a
 * line-splitting `TransformStream`: every busy line went through each object
 * of that chain (about double the read path's cost, `deno task bench
 * read-path`), and an idle connection kept it all: the stream chain cost
 * 22.9 KB of RSS per connection against 12.1 KB; a suspended generator, its
 * request and promises still about 1 KB of heap.
 */
export class SocketReader extends LineBatcher {
  readonly #conn: Deno.Conn;
  readonly #max: number;
  #size = INITIAL_READ;
  #buffer: Uint8Array | null = null;
  #ended = false;
  /** Where big reads go: what earlier reads got is never written over (views of it live on). */
  #slab: Uint8Array | null = null;
  #slabAt = 0;

  /** Throws at once for a bad `maxLineBytes`. */
  constructor(conn: Deno.Conn, maxLineBytes: number, max = 64 * 1024) {
    super(maxLineBytes);
    this.#conn = conn;
    this.#max = max;
  }

  /** True once the peer's end has been taken (no more reads). */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Starts the next read into bytes no earlier read used (a new buffer, or the
   * slab's next part): the bytes read, or null at the end.
   */
  read(): Promise<number | null> {
    const size = this.#size;
    let buffer: Uint8Array;
    if (size < SLAB_FROM) buffer = new Uint8Array(size);
    else {
      if (this.#slab === null || this.#slab.length - this.#slabAt < size) {
        this.#slab = new Uint8Array(Math.max(SLAB_BYTES, size));
        this.#slabAt = 0;
      }
      buffer = this.#slab.subarray(this.#slabAt, this.#slabAt + size);
    }
    this.#buffer = buffer;
    return this.#conn.read(buffer);
  }

  /** Reads on with a read started before the reader took over (into its own buffer). */
  adopt(pending: PendingRead): Promise<number | null> {
    this.#buffer = pending.chunk;
    return pending.read;
  }

  /**
   * The bytes of the read that gave `n` (a view of a buffer never reused),
   * for a reader of raw bytes; null at the end.
   */
  bytes(n: number | null): Uint8Array | null {
    const buffer = this.#buffer;
    this.#buffer = null;
    if (n === null || buffer === null) {
      this.#ended = true;
      return null;
    }
    if (buffer.buffer === this.#slab?.buffer) this.#slabAt += n;
    this.#grow(n);
    return buffer.subarray(0, n);
  }

  /**
   * The lines the read that gave `n` completed (null at the end: the last
   * line without its `\n`), or null when it completed none.
   */
  lines(n: number | null): LineBatch | null {
    const chunk = this.bytes(n);
    if (chunk === null) this.end();
    else this.push(chunk);
    return this.take();
  }

  /** Doubles the next read's buffer while reads fill it, up to the maximum. */
  #grow(n: number): void {
    if (n === this.#size && this.#size < this.#max) {
      this.#size = Math.min(this.#size * 2, this.#max);
    }
  }
}

/**
 * The socket's lines, in batches: one batch per read that completed a line
 * (rejected lines in their places), as an async generator over a
 * {@link SocketReader} (for tests and benchmarks; the server drives readers
 * itself).
 */
export function socketLines(
  conn: Deno.Conn,
  maxLineBytes: number,
  max = 64 * 1024,
): AsyncGenerator<LineBatch, void, undefined> {
  // Made here, not in the generator, so that a bad limit throws at once.
  return readBatches(new SocketReader(conn, maxLineBytes, max));
}

async function* readBatches(reader: SocketReader): AsyncGenerator<LineBatch, void, undefined> {
  while (!reader.ended) {
    const batch = reader.lines(await reader.read());
    if (batch !== null) yield batch;
  }
}

/** Deadlines this close together share a timer. */
const GRANULE_MS = 5;

/**
 * The waits for one deadline granule: one timer for every connection
 * waiting on it, kept only while one does. A timer per connection (the
 * PROXY header's wait, the first line's) cost an accept storm a timer
 * object, its callback and the runtime's entry each, which often outlived
 * the wait in the heap.
 */
class Granule {
  static readonly #open = new Map<number, Granule>();
  readonly passed: Promise<undefined>;
  readonly #at: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiters = 0;

  /** The granule a wait until `deadline` (`performance.now()` time) ends with (rounded up). */
  static of(deadline: number): Granule {
    const at = Math.ceil(deadline / GRANULE_MS) * GRANULE_MS;
    let granule = Granule.#open.get(at);
    if (granule === undefined) Granule.#open.set(at, granule = new Granule(at));
    return granule;
  }

  private constructor(at: number) {
    this.#at = at;
    this.passed = new Promise((resolve) => {
      this.#timer = setTimeout(() => {
        this.#close();
        resolve(undefined);
      }, Math.max(0, at - performance.now()));
    });
  }

  join(): void {
    this.#waiters++;
  }

  /** A waiter is done; the last one stops the timer. */
  leave(): void {
    if (--this.#waiters > 0) return;
    clearTimeout(this.#timer);
    this.#close();
  }

  #close(): void {
    if (Granule.#open.get(this.#at) === this) Granule.#open.delete(this.#at);
  }
}

/** `promise`'s value, or `undefined` if the deadline (`performance.now()` time) passes first. */
export async function withDeadline<T>(
  promise: Promise<T>,
  deadline: number,
): Promise<T | undefined> {
  const granule = Granule.of(deadline);
  granule.join();
  try {
    return await Promise.race([promise, granule.passed]);
  } finally {
    granule.leave();
  }
}

/** Closes a connection that may already be closed. */
export function closeQuietly(conn: { close(): void }): void {
  try {
    conn.close();
  } catch {
    // Already closed: nothing to do.
  }
}

/** Errors that mean "the peer went away", logged at debug level only. */
export function isDisconnect(err: unknown): boolean {
  return err instanceof Deno.errors.BadResource ||
    err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.ConnectionAborted ||
    err instanceof Deno.errors.NotConnected ||
    err instanceof Deno.errors.Interrupted ||
    // A TLS client that hung up mid-handshake, or spoke plain TCP.
    err instanceof Deno.errors.InvalidData ||
    err instanceof Deno.errors.UnexpectedEof;
}

const TOO_SLOW = new TextEncoder().encode("! disconnected: too slow\n");

/** How long a cut-off client gets to take its last line. */
const LAST_WORDS_MS = 250;

/**
 * A TCP (or TLS) connection as a client output's sink: bytes, one write in
 * flight, partial writes continued ({@link ByteLink}); closing once the
 * outbox has written everything, or at once; and a client cut off as too
 * slow gets its last words (`lastWords`) if its socket takes them soon.
 */
export class TcpSink extends ByteLink implements OutputSink<Uint8Array> {
  readonly #conn: Deno.Conn;
  readonly #lastWords: Uint8Array;

  /** `lastWords`: the line a client cut off as too slow is sent (the text protocol's by default). */
  constructor(conn: Deno.Conn, lastWords: Uint8Array = TOO_SLOW) {
    super(conn);
    this.#conn = conn;
    this.#lastWords = lastWords;
  }

  end(outbox: Outbox<Uint8Array>): void {
    outbox.idle().then(() => closeQuietly(this.#conn));
  }

  abort(outbox: Outbox<Uint8Array>): void {
    outbox.stop();
    closeQuietly(this.#conn);
  }

  /**
   * The write in flight may finish (a stalled reader's usually does not);
   * then the last words, if the socket takes them before the deadline; then
   * the close.
   */
  cutOff(outbox: Outbox<Uint8Array>): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, LAST_WORDS_MS)));
    Promise.race([outbox.idle().then(() => true), timeout.then(() => false)])
      .then((idle) => {
        if (!idle) return;
        return Promise.race([this.#conn.write(this.#lastWords), timeout]);
      })
      // A peer cut off as too slow is usually gone or stalled: its last words may not land.
      .catch(() => {})
      .finally(() => {
        clearTimeout(timer);
        closeQuietly(this.#conn);
      });
  }
}
