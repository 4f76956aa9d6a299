/**
 * The byte side of a TCP connection: its bytes and lines, read with small
 * buffers, and the sink its client output writes to and closes.
 *
 * @module
 */

import { type LineBatch, LineBatcher } from "./line_stream.ts";
import type { OutputSink } from "./output.ts";
import { ByteLink, type Outbox } from "./writer.ts";

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
