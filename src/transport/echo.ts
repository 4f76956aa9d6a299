/**
 * Echo mode (`--echo`), the tutorial's stage 2: every line comes back
 * verbatim (with the terminator it came with) to its sender only; no
 * welcome, no rooms.
 *
 * A connection reads into one buffer of its own and writes the reply before
 * it reads again, as the tutorial's loop does: the reply is the sender's
 * alone, so the socket's own push-back is its bound (a client that does not
 * read stops being read), and no queue, flush round or fresh buffer per read
 * is needed. Against the chat doors' output path it used before, 5-7% more
 * lines a second and a third less garbage per line (docs/performance.md).
 *
 * @module
 */

import type { ConnectionRecord } from "./conn_record.ts";
import { CR, isUtf8, LF, type LineSink, LineSplitter } from "./line_stream.ts";
import { closeQuietly, isDisconnect } from "./socket.ts";
import type { LiveConnections, Start, TcpContext, Tracked } from "./tcp.ts";
import { copied } from "./writer.ts";

const INVALID_UTF8 = new TextEncoder().encode("Invalid UTF-8 detected\n");
const TERMINATORS = [new Uint8Array(0), new Uint8Array([LF]), new Uint8Array([CR, LF])];
/**
 * First read buffer of a connection, and its least: it doubles while reads fill it, up to
 * {@link MAX_READ}, and halves after reads that use little of it (a burst's buffer is not kept).
 */
const INITIAL_READ = 256;
const MAX_READ = 64 * 1024;
const EMPTY = new Uint8Array(0);

/** One echo connection: the server's handle on it, and where its lines go. */
class Echo implements Tracked, LineSink {
  readonly #conn: Deno.Conn;
  readonly #ctx: TcpContext;
  readonly #tooLong: Uint8Array;
  /** The reply being put together line by line (off the usual path). */
  #parts: Uint8Array[] = [];
  #partsBytes = 0;
  #writing = false;
  /** Set by a shutdown: no more reads; the reply being written finishes first. */
  #closing = false;
  reason = "peer";

  constructor(conn: Deno.Conn, ctx: TcpContext) {
    this.#conn = conn;
    this.#ctx = ctx;
    this.#tooLong = new TextEncoder().encode(`! line too long (max ${ctx.maxLineBytes} bytes)\n`);
  }

  goingAway(): void {
    this.reason = "shutdown";
    this.#closing = true;
    // A pending read ends with the close; a reply being written is let finish.
    if (!this.#writing) closeQuietly(this.#conn);
  }

  forceClose(): void {
    this.#closing = true;
    closeQuietly(this.#conn);
  }

  /** Reads, replies, reads again, until the peer's end or a shutdown. */
  async run(start: Start): Promise<void> {
    const conn = this.#conn;
    const splitter = new LineSplitter(this.#ctx.maxLineBytes);
    // What was read while looking for a PROXY header (bytes, or a read under way, never both) is
    // the first read. Few values live across the awaits: each is stored in the loop's frame.
    let buffer = start.pending?.chunk ?? start.first;
    let n = start.pending === null ? buffer.length : await start.pending.read;
    for (;;) {
      const reply = n === null ? this.#end(splitter) : this.reply(buffer.subarray(0, n), splitter);
      if (reply.length > 0) {
        // Inline, not an async helper: a promise more per read.
        this.#writing = true;
        for (let at = 0; at < reply.length;) {
          at += await conn.write(at === 0 ? reply : reply.subarray(at));
        }
        this.#writing = false;
        this.#ctx.stats.bytesOut += reply.length;
      }
      if (n === null || this.#closing) break;
      buffer = nextBuffer(buffer, n);
      n = await conn.read(buffer);
      if (this.#closing) break;
    }
    if (this.#closing) closeQuietly(conn);
  }

  /**
   * The reply to a chunk read. Its complete lines go back as one piece of the
   * chunk itself when each is within the limit and all are UTF-8 (the usual
   * case): no line is looked at one by one, nothing is copied. Anything else
   * goes through the splitter line by line. The reply may be a view of the
   * chunk: it is written before the chunk's buffer is read into again (the
   * splitter keeps a copy of a line's start).
   */
  reply(chunk: Uint8Array, splitter: LineSplitter): Uint8Array {
    let from = 0;
    if (splitter.midLine) {
      // The end of a line begun in an earlier chunk goes through the splitter.
      const first = chunk.indexOf(LF);
      if (first === -1) {
        splitter.push(chunk, this);
        return this.#take();
      }
      splitter.push(chunk.subarray(0, first + 1), this);
      from = first + 1;
    }
    // Reads mostly end with a line's end: no search for it then.
    const last = chunk[chunk.length - 1] === LF ? chunk.length - 1 : chunk.lastIndexOf(LF);
    const lines = last < from
      ? EMPTY
      : from === 0 && last + 1 === chunk.length
      ? chunk
      : chunk.subarray(from, last + 1);
    if (lines.length === 0 || !this.#fine(lines)) {
      splitter.push(chunk.subarray(from), this);
      return this.#take();
    }
    if (this.#parts.length === 0 && lines === chunk) return lines;
    this.#add(lines);
    splitter.push(chunk.subarray(last + 1), this);
    return this.#take();
  }

  /** Whether the lines of `lines` (ending with a `\n`) are each within the limit, and UTF-8. */
  #fine(lines: Uint8Array): boolean {
    const max = this.#ctx.maxLineBytes;
    const last = lines.length - 1;
    // Lines no longer than the limit together hold no line over it: the usual case, none looked at.
    for (let start = last < max ? lines.length : 0; start <= last;) {
      const nl = lines.indexOf(LF, start);
      const length = nl - start - (nl > start && lines[nl - 1] === CR ? 1 : 0);
      if (length > max) return false;
      start = nl + 1;
    }
    // A line cannot end inside a character (\n is never part of one): all valid is each valid.
    return isUtf8(lines);
  }

  line(bytes: Uint8Array, terminator: number): void {
    if (!isUtf8(bytes)) {
      this.#ctx.stats.rejected.invalid_utf8++;
      this.#add(INVALID_UTF8);
      return;
    }
    this.#add(bytes);
    if (terminator > 0) this.#add(TERMINATORS[terminator]);
  }

  reject(): void {
    this.#ctx.stats.rejected.too_long++;
    this.#add(this.#tooLong);
  }

  #add(bytes: Uint8Array): void {
    this.#parts.push(bytes);
    this.#partsBytes += bytes.length;
  }

  /** The end of the input: a last line without its `\n` comes back as it is. */
  #end(splitter: LineSplitter): Uint8Array {
    splitter.end(this);
    return this.#take();
  }

  /** The reply put together, joined (empty when there is none). */
  #take(): Uint8Array {
    const parts = this.#parts;
    if (parts.length === 0) return EMPTY;
    this.#parts = [];
    const joined = parts.length === 1 ? parts[0] : copied(parts, this.#partsBytes);
    this.#partsBytes = 0;
    return joined;
  }
}

/** Runs an echo connection to its end, which `record` closes and logs. */
export async function runEcho(
  conn: Deno.Conn,
  ctx: TcpContext,
  live: LiveConnections,
  record: ConnectionRecord,
  start: Start,
): Promise<void> {
  const echo = new Echo(conn, ctx);
  live.add(echo);
  try {
    await echo.run(start);
  } catch (err) {
    // A read or write cut short by the server's own close is no failure.
    if (!isDisconnect(err) || echo.reason === "peer") echo.reason = record.failed(err);
  } finally {
    live.delete(echo);
  }
  record.closed(echo.reason, null);
}

/**
 * The buffer for the next read after one that used `used` bytes of `buffer`:
 * twice as big after a read that filled it, half after one that used under
 * an eighth, else the same.
 */
function nextBuffer(buffer: Uint8Array, used: number): Uint8Array {
  const size = buffer.length;
  if (used === size) {
    return size < MAX_READ ? new Uint8Array(Math.max(INITIAL_READ, size * 2)) : buffer;
  }
  if (used < size >> 3 && size > INITIAL_READ) return new Uint8Array(size >> 1);
  return buffer;
}
