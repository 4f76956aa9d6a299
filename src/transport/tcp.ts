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
import type { ServerEvent } from "../core/types.ts";
import { textCodec } from "../protocol/text.ts";
import { formatAddress } from "./address.ts";
import { backlogged, relief } from "./backlog.ts";
import { streamEncoder } from "./encoders.ts";
import { isUtf8, type LineRejection, type LineSink, LineSplitter } from "./line_stream.ts";
import { ClientOutput, type OutputOwner } from "./output.ts";
import { closeQuietly, isDisconnect, socketChunks, socketLines, TcpSink } from "./socket.ts";
import { IrcConnection, type IrcDoor } from "./irc.ts";
import type { LineBatch } from "./line_stream.ts";

/** The text protocol's lines as bytes: one encoding per broadcast for every TCP member. */
const TEXT_STREAM = streamEncoder(textCodec);

/** What every TCP connection handler needs. */
export interface TcpContext {
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

/** `host:port` of the peer, for logs. */
export function remoteOf(conn: Deno.Conn): string {
  return formatAddress(conn.remoteAddr as Deno.NetAddr);
}

let nextConnId = 1;

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

/**
 * Runs one connection to its end: chat or echo depending on the context.
 * Resolves when the connection is closed; never rejects (errors are logged:
 * one bad client never disturbs the others or the accept loop).
 */
export async function handleConnection(
  conn: Deno.Conn,
  ctx: TcpContext,
  live: LiveConnections,
  door: "tcp" | "irc" = "tcp",
  firstLineGraceMs = FIRST_LINE_GRACE_MS,
): Promise<void> {
  const id = nextConnId++;
  const remote = remoteOf(conn);
  const { log, stats } = ctx;
  try {
    (conn as Deno.TcpConn).setNoDelay?.(true);
  } catch {
    // The peer may already be gone; reading will tell.
  }
  let closedBy = "peer";
  let transport: string = door;
  let opened = false;
  /** The chat on this connection, for its nick in the closing line. */
  let chat: { readonly nick: string | null } | null = null;
  try {
    if (ctx.hub === null) {
      stats.connectionOpened(transport);
      opened = true;
      closedBy = await runEcho(conn, ctx, live);
    } else if (door === "irc") {
      stats.connectionOpened(transport);
      opened = true;
      log.info("connection {id} opened from {remote} (irc)", { id, remote });
      const irc = new IrcConnection(conn, ctx, ctx.irc!);
      chat = irc;
      closedBy = await irc.run(live);
    } else {
      const lines = socketLines(conn, ctx.maxLineBytes);
      const first = await firstInput(lines, firstLineGraceMs);
      transport = first.irc ? "irc" : "tcp";
      stats.connectionOpened(transport);
      opened = true;
      log.info("connection {id} opened from {remote}", { id, remote, transport });
      if (first.irc) {
        const irc = new IrcConnection(conn, ctx, ctx.irc!);
        chat = irc;
        closedBy = await irc.run(live, lines, first.batch);
      } else {
        const text = new TcpChat(conn, ctx.hub, ctx);
        chat = text;
        closedBy = await text.run(live, lines, first.next);
      }
    }
  } catch (err) {
    if (isDisconnect(err)) {
      closedBy = "reset";
      log.debug("connection {id} from {remote} reset: {error}", { id, remote, error: String(err) });
    } else {
      closedBy = "error";
      log.error("connection {id} from {remote} failed: {error}", { id, remote, error: err });
    }
  } finally {
    closeQuietly(conn);
    if (opened) stats.connectionClosed(transport);
    const nick = chat?.nick ?? null;
    if (nick === null) {
      log.info("connection {id} closed from {remote} ({closedBy})", { id, remote, closedBy });
    } else {
      log.info("connection {id} closed from {remote} ({closedBy}) nick={nick}", {
        id,
        remote,
        closedBy,
        nick,
      });
    }
  }
}

/** What the text port found at first: an IRC client's registration, or a text client. */
type FirstInput =
  | { irc: true; batch: LineBatch }
  | { irc: false; next: Promise<IteratorResult<LineBatch>> };

/**
 * Waits up to `graceMs` ({@link FIRST_LINE_GRACE_MS}, less what was waited
 * already for a PROXY header) for the client's first lines: an
 * IRC registration means the IRC door; anything else, or silence, the text
 * protocol (with the read already under way handed on).
 */
async function firstInput(
  lines: AsyncGenerator<LineBatch>,
  graceMs: number,
): Promise<FirstInput> {
  const next = lines.next();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<null>((
    resolve,
  ) => (timer = setTimeout(resolve, graceMs, null)));
  const early = await Promise.race([next.then((r) => r, () => null), grace]);
  clearTimeout(timer);
  const line = early?.done === false ? early.value[0] : undefined;
  if (early !== null && typeof line === "string" && IRC_REGISTRATION.test(line.trim())) {
    return { irc: true, batch: early.done ? [] : early.value };
  }
  return { irc: false, next };
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
  readonly #out: ClientOutput<Uint8Array>;
  #session: Session | null = null;
  /** Who ended the connection, for the log. */
  #reason = "peer";
  #lastInput = performance.now();
  #pingedAt: number | null = null;

  constructor(conn: Deno.Conn, hub: Hub, ctx: TcpContext) {
    this.#conn = conn;
    this.#hub = hub;
    this.#ctx = ctx;
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
   * Reads and handles the client's lines until the end; `next` is the read
   * already under way. Returns who ended the connection.
   */
  async run(
    live: LiveConnections,
    lines: AsyncGenerator<LineBatch>,
    next: Promise<IteratorResult<LineBatch>>,
  ): Promise<string> {
    const hub = this.#hub;
    const out = this.#out;
    const { stats, maxLineBytes } = this.#ctx;
    live.add(this);
    const session = this.#session = hub.connect(
      out,
      (this.#conn.remoteAddr as Deno.NetAddr).hostname,
      { readsAll: true },
    );
    try {
      let first = true;
      read: for (let read = await next; !read.done; read = await lines.next()) {
        const batch = read.value;
        // Any input, a blank line included, shows the client is there.
        this.#lastInput = performance.now();
        this.#pingedAt = null;
        for (const line of batch) {
          if (session.closed || out.closing) break read;
          if (first && typeof line === "string" && HTTP_REQUEST.test(line)) {
            // A browser or a scanner speaking HTTP to the chat port: no reply, just close.
            this.#reason = "http request";
            out.forceClose();
            break read;
          }
          first = false;
          if (typeof line !== "string") {
            stats.rejected[line.rejected]++;
            hub.reply(session, rejection(line.rejected, maxLineBytes));
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
      }
    } catch (err) {
      // A read on a connection we closed ourselves ends like this; anything else is the peer's doing.
      if (!out.closing && !isDisconnect(err)) throw err;
      if (this.#reason === "peer" && !out.closing) this.#reason = "reset";
    } finally {
      hub.disconnect(session);
      // Replies to the client's last lines still go out after a half-close:
      // close once its last requests have taken effect and their output is written.
      await session.left;
      out.closeAfterFlush();
      await out.idle();
      live.delete(this);
    }
    return this.#reason;
  }
}

/** The error a client gets for a line it sent that was refused. */
function rejection(why: LineRejection, maxLineBytes: number): ServerEvent {
  return why === "too_long"
    ? { type: "error", code: "line_too_long", message: `line too long (max ${maxLineBytes} bytes)` }
    : { type: "error", code: "invalid_utf8", message: "invalid UTF-8" };
}

const INVALID_UTF8 = new TextEncoder().encode("Invalid UTF-8 detected\n");
const TERMINATORS = [new Uint8Array(0), new Uint8Array([10]), new Uint8Array([13, 10])];

/**
 * Echo mode, the tutorial's stage 2: every line comes back verbatim (with the
 * terminator it came with) to its sender only; no welcome, no rooms.
 */
async function runEcho(
  conn: Deno.Conn,
  ctx: TcpContext,
  live: LiveConnections,
): Promise<string> {
  const { stats } = ctx;
  let reason = "peer";
  const out = new ClientOutput(new TcpSink(conn), TEXT_STREAM, {
    maxQueueBytes: ctx.maxQueueBytes,
    stats,
    owner: { onTooSlow: () => (reason = "too slow") },
  });
  const tracked: Tracked = {
    goingAway: () => {
      reason = "shutdown";
      out.closeAfterFlush();
    },
    forceClose: () => out.forceClose(),
  };
  live.add(tracked);
  const tooLong = new TextEncoder().encode(`! line too long (max ${ctx.maxLineBytes} bytes)\n`);
  const splitter = new LineSplitter(ctx.maxLineBytes);
  const echo: LineSink = {
    line(bytes, terminator) {
      if (!isUtf8(bytes)) {
        stats.rejected.invalid_utf8++;
        out.write(INVALID_UTF8);
        return;
      }
      // The chunk's buffer is not reused, so views of it can be queued as they are.
      out.write(bytes);
      if (terminator > 0) out.write(TERMINATORS[terminator]);
    },
    reject() {
      stats.rejected.too_long++;
      out.write(tooLong);
    },
  };
  try {
    for await (const chunk of socketChunks(conn)) {
      if (out.closing) break;
      splitter.push(chunk, echo);
    }
    splitter.end(echo);
  } catch (err) {
    if (!out.closing && !isDisconnect(err)) throw err;
  } finally {
    out.closeAfterFlush();
    await out.idle();
    live.delete(tracked);
  }
  return reason;
}
