/**
 * The byte side of a TCP connection: its bytes and lines, read with small
 * buffers, and an output that queues, coalesces and closes politely.
 *
 * @module
 */

import type { Stats } from "../core/stats.ts";
import { type LineBatch, LineBatcher } from "./line_stream.ts";
import { ConnWriter, type WriterEvents } from "./writer.ts";

/** First read buffer of a connection; it doubles while reads fill it. */
const INITIAL_READ = 256;

/**
 * The socket's bytes, read with a small buffer that doubles, up to `max`,
 * whenever a read fills it: `conn.readable` allocates 64 KiB for every
 * pending read, which an idle connection holds forever (~86 KB of RSS each,
 * measured), while busy connections still read in large chunks here. Reads
 * happen only when the consumer asks for the next chunk.
 */
export async function* socketChunks(
  conn: Deno.Conn,
  max = 64 * 1024,
): AsyncGenerator<Uint8Array, void, undefined> {
  let size = INITIAL_READ;
  for (;;) {
    const buffer = new Uint8Array(size);
    const n = await conn.read(buffer);
    if (n === null) return;
    size = nextReadSize(n, size, max);
    yield buffer.subarray(0, n);
  }
}

/** The next read's buffer size: double while reads fill the buffer, up to `max`. */
function nextReadSize(read: number, size: number, max: number): number {
  return read === size && size < max ? Math.min(size * 2, max) : size;
}

/**
 * The socket's lines, in batches: one batch per read that completed a line
 * (rejected lines in their places). An async generator over the socket, not
 * a byte stream piped through a line-splitting `TransformStream`: with
 * thousands of busy connections every line went through each object of that
 * chain (the pipe's promises, two queues, a reader and a writer), which about
 * doubled the read path's cost (`deno task bench read-path`); and idle
 * connections cost 22.9 KB of RSS each with the chain, 12.1 KB without.
 */
export function socketLines(
  conn: Deno.Conn,
  maxLineBytes: number,
  max = 64 * 1024,
): AsyncGenerator<LineBatch, void, undefined> {
  // Made here, not in the generator, so that a bad limit throws at once.
  return readBatches(conn, new LineBatcher(maxLineBytes), max);
}

/** {@link socketLines}'s reading, in one generator (one suspended frame per idle connection). */
async function* readBatches(
  conn: Deno.Conn,
  batcher: LineBatcher,
  max: number,
): AsyncGenerator<LineBatch, void, undefined> {
  let size = INITIAL_READ;
  for (;;) {
    const buffer = new Uint8Array(size);
    const n = await conn.read(buffer);
    if (n === null) break;
    size = nextReadSize(n, size, max);
    batcher.push(buffer.subarray(0, n));
    const batch = batcher.take();
    if (batch !== null) yield batch;
  }
  batcher.end();
  const last = batcher.take();
  if (last !== null) yield last;
}

/** Closes a connection that may already be closed. */
export function closeQuietly(conn: Deno.Conn): void {
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

/** Who is told when a {@link TcpOutput}'s queue passed its bound. */
export interface SlowClientHandler {
  /** The client is being cut off as too slow. */
  onTooSlow(): void;
}

/**
 * The write side of one connection: a bounded {@link ConnWriter} plus the
 * rules for closing (after the queue drains, or at once when forced). It is
 * its writer's event handler itself: no closures per connection.
 */
export class TcpOutput implements WriterEvents {
  readonly #conn: Deno.Conn;
  readonly #stats: Stats;
  readonly #owner: SlowClientHandler;
  readonly writer: ConnWriter;
  #closing = false;

  constructor(conn: Deno.Conn, maxQueueBytes: number, stats: Stats, owner: SlowClientHandler) {
    this.#conn = conn;
    this.#stats = stats;
    this.#owner = owner;
    this.writer = new ConnWriter(conn, maxQueueBytes, this);
  }

  onWritten(bytes: number): void {
    this.#stats.bytesOut += bytes;
  }

  onOverflow(): void {
    this.#stats.slowConsumers++;
    this.#owner.onTooSlow();
    this.#sayTooSlowAndClose();
  }

  onError(): void {
    this.forceClose();
  }

  /** True once a close has begun. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Queues bytes; false if they were refused: once a close has begun nothing
   * more is queued (a client told the server is shutting down hears nothing
   * after it), nor after the client was cut off as too slow.
   */
  write(bytes: Uint8Array): boolean {
    return !this.#closing && this.writer.write(bytes);
  }

  /** Closes once what is queued has been written. */
  closeAfterFlush(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.writer.idle().then(() => closeQuietly(this.#conn));
  }

  /** Drops what is queued and closes now. */
  forceClose(): void {
    this.#closing = true;
    this.writer.stop();
    closeQuietly(this.#conn);
  }

  /**
   * A client past its queue bound gets one last line if its socket can take
   * it soon (a stalled reader usually cannot), then the connection closes.
   */
  #sayTooSlowAndClose(): void {
    if (this.#closing) return;
    this.#closing = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, LAST_WORDS_MS)));
    Promise.race([this.writer.idle().then(() => true), timeout.then(() => false)])
      .then((idle) => {
        if (!idle) return;
        return Promise.race([this.#conn.write(TOO_SLOW), timeout]);
      })
      .catch(() => {})
      .finally(() => {
        clearTimeout(timer);
        closeQuietly(this.#conn);
      });
  }
}
