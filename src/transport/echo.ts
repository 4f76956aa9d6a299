/**
 * Echo mode (`--echo`), the tutorial's stage 2: every line comes back
 * verbatim (with the terminator it came with) to its sender only; no
 * welcome, no rooms.
 *
 * @module
 */

import { textCodec } from "../protocol/text.ts";
import type { ConnectionRecord } from "./conn_record.ts";
import { streamEncoder } from "./encoders.ts";
import { CR, isUtf8, LF, type LineSink, LineSplitter } from "./line_stream.ts";
import { ClientOutput, type OutputOwner } from "./output.ts";
import { isDisconnect, SocketReader, TcpSink } from "./socket.ts";
import type { LiveConnections, Start, TcpContext, Tracked } from "./tcp.ts";

const INVALID_UTF8 = new TextEncoder().encode("Invalid UTF-8 detected\n");
const TERMINATORS = [new Uint8Array(0), new Uint8Array([LF]), new Uint8Array([CR, LF])];

/** One echo connection: its output, the server's handle on it, and where its lines go. */
class Echo implements Tracked, OutputOwner, LineSink {
  readonly out: ClientOutput<Uint8Array>;
  readonly #ctx: TcpContext;
  readonly #tooLong: Uint8Array;
  reason = "peer";

  constructor(conn: Deno.Conn, ctx: TcpContext) {
    this.#ctx = ctx;
    this.out = new ClientOutput(new TcpSink(conn), streamEncoder(textCodec), {
      maxQueueBytes: ctx.maxQueueBytes,
      stats: ctx.stats,
      owner: this,
    });
    this.#tooLong = new TextEncoder().encode(`! line too long (max ${ctx.maxLineBytes} bytes)\n`);
  }

  onTooSlow(): void {
    this.reason = "too slow";
  }

  goingAway(): void {
    this.reason = "shutdown";
    this.out.closeAfterFlush();
  }

  forceClose(): void {
    this.out.forceClose();
  }

  /**
   * Echoes a chunk read. Its complete lines go back as one piece of the chunk
   * itself when each is within the limit and all are UTF-8 (the usual case):
   * no line is looked at one by one, nothing is copied. Anything else goes
   * through the splitter line by line.
   */
  push(chunk: Uint8Array, splitter: LineSplitter): void {
    let from = 0;
    if (splitter.midLine) {
      // The end of a line begun in an earlier chunk goes through the splitter.
      const first = chunk.indexOf(LF);
      if (first === -1) return splitter.push(chunk, this);
      splitter.push(chunk.subarray(0, first + 1), this);
      from = first + 1;
    }
    const last = chunk.lastIndexOf(LF);
    if (last < from || !this.#fine(chunk, from, last)) {
      return splitter.push(chunk.subarray(from), this);
    }
    this.out.write(chunk.subarray(from, last + 1));
    if (last + 1 < chunk.length) splitter.push(chunk.subarray(last + 1), this);
  }

  /** Whether the lines of `chunk` from `from` to its `\n` at `last` are within the limit, UTF-8. */
  #fine(chunk: Uint8Array, from: number, last: number): boolean {
    const max = this.#ctx.maxLineBytes;
    // A chunk no longer than the limit holds no line over it: the usual case, with no line looked at.
    for (let start = last - from < max ? last + 1 : from; start <= last;) {
      const nl = chunk.indexOf(LF, start);
      const length = nl - start - (nl > start && chunk[nl - 1] === CR ? 1 : 0);
      if (length > max) return false;
      start = nl + 1;
    }
    // A line cannot end inside a character (\n is never part of one): all valid is each valid.
    return isUtf8(chunk.subarray(from, last + 1));
  }

  line(bytes: Uint8Array, terminator: number): void {
    if (!isUtf8(bytes)) {
      this.#ctx.stats.rejected.invalid_utf8++;
      this.out.write(INVALID_UTF8);
      return;
    }
    // The reader never reuses a buffer, so views of it can be queued as they are.
    this.out.write(bytes);
    if (terminator > 0) this.out.write(TERMINATORS[terminator]);
  }

  reject(): void {
    this.#ctx.stats.rejected.too_long++;
    this.out.write(this.#tooLong);
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
  const out = echo.out;
  try {
    live.add(echo);
    const reader = new SocketReader(conn, ctx.maxLineBytes);
    const splitter = new LineSplitter(ctx.maxLineBytes);
    // What was read while looking for a PROXY header comes first.
    if (start.first.length > 0) splitter.push(start.first, echo);
    let pending = start.pending === null ? null : reader.adopt(start.pending);
    try {
      while (!out.closing) {
        const chunk = reader.bytes(await (pending ?? reader.read()));
        pending = null;
        if (chunk === null) break;
        if (out.closing) break;
        echo.push(chunk, splitter);
      }
      splitter.end(echo);
    } catch (err) {
      if (!out.closing && !isDisconnect(err)) throw err;
    } finally {
      out.closeAfterFlush();
      await out.idle();
      live.delete(echo);
    }
  } catch (err) {
    echo.reason = record.failed(err);
  }
  record.closed(echo.reason, null);
}
