/**
 * The TCP transport, in the tutorial's shape: `Deno.listen`, a `for await`
 * accept loop, and one fire-and-forget handler per connection that reads the
 * socket through the line stream and writes replies through a bounded writer.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { Hub, Session } from "../core/hub.ts";
import type { Stats } from "../core/stats.ts";
import type { ServerEvent } from "../core/events.ts";
import { textCodec } from "../protocol/text.ts";
import { backlogged, relief } from "./backlog.ts";
import { ConnectionRecord, type RecordContext } from "./conn_record.ts";
import { streamEncoder } from "./encoders.ts";
import { runEcho } from "./echo.ts";
import type { LineBatch, LineRejection } from "./line_stream.ts";
import { ClientOutput, type OutputOwner } from "./output.ts";
import { isDisconnect, SocketReader, TcpSink, withDeadline } from "./socket.ts";
import type { PendingRead } from "./proxied_conn.ts";
import { MAX_LINE_BYTES } from "../irc/message.ts";
import { IrcConnection, type IrcDoor } from "./irc.ts";

export { remoteOf } from "./conn_record.ts";

/** The text protocol's lines as bytes: one encoding per broadcast for every TCP member. */
const TEXT_STREAM = streamEncoder(textCodec);

/** What every TCP connection handler needs. */
export interface TcpContext extends RecordContext {
  /** The chat core; `null` in echo mode. */
  hub: Hub | null;
  stats: Stats;
  log: Logger;
  maxLineBytes: number;
  maxQueueBytes: number;
  /** The IRC door, for IRC clients on the text port too; `null` in echo mode. */
  irc: IrcDoor | null;
}

/** A live connection as the server tracks it for shutdown. */
export interface Tracked {
  /** Say goodbye, flush, close. */
  goingAway(): void;
  /** Close now, dropping what is queued. */
  forceClose(): void;
  /** The idle sweep: ping a client silent for `limitMs`, close it if it stays silent as long. */
  idle?(now: number, limitMs: number): void;
}

/**
 * Accepts connections until the listener is closed. Accept errors (running
 * out of file descriptors, most often) are logged and retried after a pause:
 * they never end the loop, and the connections already open keep working.
 */
export async function acceptLoop(
  listener: Deno.Listener,
  onConnection: (conn: Deno.Conn) => void,
  log: Logger,
): Promise<void> {
  let pause = 10;
  for (;;) {
    try {
      for await (const conn of listener) {
        pause = 10;
        onConnection(conn);
      }
      return; // the listener was closed
    } catch (err) {
      log.warn("accept failed, retrying in {pause} ms: {error}", { pause, error: String(err) });
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 1000);
    }
  }
}

/** A first line that is an HTTP request line (`GET / HTTP/1.1`). */
const HTTP_REQUEST = /^(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|CONNECT|TRACE) \S+ HTTP\/\d(\.\d)?$/;

/**
 * A first line that is an IRC client's registration, in any case, with IRC's
 * parameters (`CAP LS 302`, `PASS secret`, `NICK bob`, `USER bob 0 * :Bob`):
 * never said in a room. A chat line that merely starts with one of these
 * words ("nick of time", "user here?") does not have their shape.
 */
const IRC_REGISTRATION =
  /^(CAP (LS|REQ|END|LIST)( .*)?|PASS :?\S+|NICK :?\S+|USER \S+ \S+ \S+ .*)$/i;

/**
 * How long the text port waits for a first line before it welcomes a text
 * client: an IRC client speaks first (its registration arrives with the
 * connection), a person at `nc` waits to be greeted.
 */
export const FIRST_LINE_GRACE_MS = 150;

/** Requests a client without flood control may have waiting before its connection stops being read. */
const MAX_BACKLOG = 256;

/** The live connections, for shutdown and the idle sweep (a `Set` fits). */
export interface LiveConnections {
  add(entry: Tracked): unknown;
  delete(entry: Tracked): unknown;
}

/** What was read of a connection before it was handed over (while looking for a PROXY header). */
export interface Start {
  /** The bytes read already (after any header). */
  first: Uint8Array;
  /** The read under way when the client stayed silent (it waits to be greeted). */
  pending: PendingRead | null;
}

/** Nothing read yet (a TLS connection: no PROXY header is looked for). */
export const NOTHING_READ: Start = Object.freeze({ first: new Uint8Array(0), pending: null });

/**
 * Starts serving one connection: chat or echo depending on the context, on
 * the text port the IRC door when the first line is an IRC registration.
 * Settles once the connection is handed to its door, and never rejects
 * (errors are logged: one bad client never disturbs the others or the
 * accept loop); its end is reported to `ctx.ended`. Each door runs the
 * connection from one async function of its own (see {@link ConnectionRecord}).
 */
export async function handleConnection(
  conn: Deno.Conn,
  ctx: TcpContext,
  live: LiveConnections,
  door: "tcp" | "irc" = "tcp",
  start: Start = NOTHING_READ,
): Promise<void> {
  const record = new ConnectionRecord(conn, ctx);
  try {
    (conn as Deno.TcpConn).setNoDelay?.(true);
  } catch {
    // The peer may already be gone; reading will tell.
  }
  try {
    if (ctx.hub === null) {
      record.open(door);
      void runEcho(conn, ctx, live, record, start);
    } else if (door === "irc") {
      record.open("irc", "irc");
      const reader = new SocketReader(conn, MAX_LINE_BYTES);
      const first = resume(reader, start);
      void new IrcConnection(conn, ctx, ctx.irc!, record).run(
        live,
        reader,
        first.batch,
        first.pending,
      );
    } else {
      const reader = new SocketReader(conn, ctx.maxLineBytes);
      const first = await firstInput(reader, start);
      record.open(first.irc ? "irc" : "tcp", "text");
      if (first.irc) {
        void new IrcConnection(conn, ctx, ctx.irc!, record).run(live, reader, first.batch, null);
      } else {
        void new TcpChat(conn, ctx.hub, ctx, record).run(live, reader, first.batch, first.pending);
      }
    }
  } catch (err) {
    record.closed(record.failed(err), null);
  }
}

/** What a door's read loop starts from: the lines read already, or the read under way. */
interface Resumed {
  batch: LineBatch | null;
  pending: Promise<number | null> | null;
}

/** The lines of what was read before `reader` took over, or the read still under way. */
function resume(reader: SocketReader, start: Start): Resumed {
  if (start.pending !== null) return { batch: null, pending: reader.adopt(start.pending) };
  if (start.first.length > 0) reader.push(start.first);
  return { batch: reader.take(), pending: null };
}

/** What the text port found at first: an IRC client's registration, or a text client. */
interface FirstInput extends Resumed {
  irc: boolean;
}

/**
 * The client's first lines, from what was read already or read within
 * {@link FIRST_LINE_GRACE_MS}: an IRC registration means the IRC door;
 * anything else, or silence, the text protocol (with the read under way
 * handed on, a failed one too: the text door's loop meets its error). A
 * client silent while a PROXY header was looked for has waited its grace.
 */
async function firstInput(reader: SocketReader, start: Start): Promise<FirstInput> {
  let { batch, pending } = resume(reader, start);
  // Only bytes without a complete line yet (or none, on TLS) wait for more.
  const deadline = performance.now() + FIRST_LINE_GRACE_MS;
  while (batch === null && pending === null && !reader.ended) {
    const read = reader.read();
    let n: number | null | undefined;
    try {
      n = await withDeadline(read, deadline);
    } catch {
      n = undefined;
    }
    if (n === undefined) pending = read;
    else batch = reader.lines(n);
  }
  const line = batch?.[0];
  const irc = typeof line === "string" && IRC_REGISTRATION.test(line.trim());
  return { irc, batch, pending };
}

/**
 * The chat protocol on one connection: its output (the hub's port to the
 * client, owned here), the server's handle for shutdown and the idle sweep,
 * and the read loop. A
 * class, not closures: with tens of thousands of idle connections each one
 * carries only its fields.
 */
class TcpChat implements Tracked, OutputOwner {
  readonly #conn: Deno.Conn;
  readonly #hub: Hub;
  readonly #ctx: TcpContext;
  readonly #record: ConnectionRecord;
  readonly #out: ClientOutput<Uint8Array>;
  #session: Session | null = null;
  /** Who ended the connection, for the log. */
  #reason = "peer";
  #lastInput = performance.now();
  #pingedAt: number | null = null;
  /** Whether a line has been taken (only the first may be an HTTP request line). */
  #spoke = false;

  constructor(conn: Deno.Conn, hub: Hub, ctx: TcpContext, record: ConnectionRecord) {
    this.#conn = conn;
    this.#hub = hub;
    this.#ctx = ctx;
    this.#record = record;
    this.#out = new ClientOutput(new TcpSink(conn), TEXT_STREAM, {
      maxQueueBytes: ctx.maxQueueBytes,
      stats: ctx.stats,
      owner: this,
    });
  }

  /** The client's nick, once it has a session (for the log). */
  get nick(): string | null {
    return this.#session?.nick ?? null;
  }

  // --- OutputOwner: how its output ends --------------------------------------------------------

  /** The hub closed the client. */
  onClose(): void {
    if (this.#reason === "peer") this.#reason = "server";
  }

  onTooSlow(): void {
    this.#reason = "too slow";
    // Not from inside the fan-out that overflowed us: leave on the next tick.
    const session = this.#session;
    if (session !== null) queueMicrotask(() => this.#hub.disconnect(session, "too slow"));
  }

  // --- Tracked: the server's view ---------------------------------------------------------------

  /** The hub has told the client already; what is queued goes out, then the close. */
  goingAway(): void {
    if (!this.#out.closing) this.#reason = "shutdown";
    this.#out.closeAfterFlush();
  }

  forceClose(): void {
    this.#out.forceClose();
  }

  idle(now: number, limitMs: number): void {
    const session = this.#session;
    if (session === null || this.#out.closing || now - this.#lastInput < limitMs) return;
    if (this.#pingedAt === null) {
      this.#pingedAt = now;
      this.#out.send({ type: "notice", text: "ping" });
    } else if (now - this.#pingedAt >= limitMs) {
      this.#reason = "idle";
      this.#hub.disconnect(session, "idle timeout");
      this.#out.closeAfterFlush();
    }
  }

  // --- the read loop ----------------------------------------------------------------------------

  /**
   * Reads and handles the client's lines until the end, then ends the
   * connection's record. `batch` and `pending`: what the text port read
   * first (lines, or a read under way).
   */
  async run(
    live: LiveConnections,
    reader: SocketReader,
    batch: LineBatch | null,
    pending: Promise<number | null> | null,
  ): Promise<void> {
    const out = this.#out;
    try {
      live.add(this);
      const session = this.#session = this.#hub.connect(
        out,
        (this.#conn.remoteAddr as Deno.NetAddr).hostname,
        { readsAll: true },
      );
      try {
        for (;;) {
          if (batch !== null) {
            if (!this.#take(session, batch)) break;
            batch = null; // not kept while the next read waits
          }
          // Without flood control (--no-limits), stop reading while this client's
          // requests wait for the store: the socket's buffer pushes back on it.
          // With it, keep reading: what waits counts toward --flood-max-waiting,
          // so a client that keeps sending while slowed is cut off instead of
          // parking its flood in the kernel's buffers.
          if (!session.requests.metered && session.requests.pending > MAX_BACKLOG) {
            await session.drained();
          }
          // The server itself is behind on everyone's output: read no more for a moment.
          if (backlogged()) await relief();
          if (reader.ended) break;
          // Idle, the connection waits here: this frame and the read, nothing else.
          batch = reader.lines(await (pending ?? reader.read()));
          pending = null;
        }
      } catch (err) {
        // A read on a connection we closed ourselves ends like this; anything else is the peer's doing.
        if (!out.closing && !isDisconnect(err)) throw err;
        if (this.#reason === "peer" && !out.closing) this.#reason = "reset";
      } finally {
        this.#hub.disconnect(session);
        // Replies to the client's last lines still go out after a half-close:
        // close once its last requests have taken effect and their output is written.
        await session.left;
        out.closeAfterFlush();
        await out.idle();
        live.delete(this);
      }
    } catch (err) {
      this.#reason = this.#record.failed(err);
    }
    this.#record.closed(this.#reason, this.nick);
  }

  /**
   * Hands the client's lines to the hub; false once reading should stop.
   * Out of {@link run}, whose suspended frame every idle connection keeps.
   */
  #take(session: Session, batch: LineBatch): boolean {
    const hub = this.#hub;
    const out = this.#out;
    // Any input, a blank line included, shows the client is there.
    this.#lastInput = performance.now();
    this.#pingedAt = null;
    for (const line of batch) {
      if (session.closed || out.closing) return false;
      if (!this.#spoke && typeof line === "string" && HTTP_REQUEST.test(line)) {
        // A browser or a scanner speaking HTTP to the chat port: no reply, just close.
        this.#reason = "http request";
        out.forceClose();
        return false;
      }
      this.#spoke = true;
      if (typeof line !== "string") {
        this.#ctx.stats.rejected[line.rejected]++;
        hub.reply(session, rejection(line.rejected, this.#ctx.maxLineBytes));
        continue;
      }
      const command = textCodec.decode(line);
      if (command === null) continue;
      if (command.type === "parse_error") {
        hub.reply(session, { type: "error", code: command.code, message: command.message });
      } else {
        hub.handle(session, command, line.length);
      }
    }
    return true;
  }
}

/** The error a client gets for a line it sent that was refused. */
function rejection(why: LineRejection, maxLineBytes: number): ServerEvent {
  return why === "too_long"
    ? { type: "error", code: "line_too_long", message: `line too long (max ${maxLineBytes} bytes)` }
    : { type: "error", code: "invalid_utf8", message: "invalid UTF-8" };
}
