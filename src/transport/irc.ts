/**
 * The IRC door over TCP (`--irc`, `--irc-tls`, and the text port when a
 * connection's first line is an IRC registration): lines in, through an
 * {@link IrcClient}, and its bytes out through the same bounded output as
 * every other door.
 *
 * @module
 */

import type { Encoder } from "../core/broadcast.ts";
import type { Session } from "../core/hub.ts";
import { IrcClient, type IrcContext, type IrcWire } from "../irc/client.ts";
import { encodeShared } from "./arena.ts";
import { backlogged, relief } from "./backlog.ts";
import { MAX_LINE_BYTES } from "../irc/message.ts";
import type { LineBatch } from "./line_stream.ts";
import { ClientOutput, type OutputOwner } from "./output.ts";
import { isDisconnect, socketLines, TcpSink } from "./socket.ts";
import type { LiveConnections, TcpContext, Tracked } from "./tcp.ts";

/** Requests a client without flood control may have waiting before its connection stops being read. */
const MAX_BACKLOG = 256;

const utf8 = new TextEncoder();

/** IRC lines as bytes for a stream socket, with this door's shared encodings. */
export function ircStreamWire(): IrcWire<Uint8Array> {
  return { encode: encodeShared, shared: new Map<number, Encoder<Uint8Array>>() };
}

/** What an IRC connection over TCP needs besides the TCP context. */
export interface IrcDoor {
  irc: IrcContext;
  wire: IrcWire<Uint8Array>;
}

const TOO_SLOW = utf8.encode("ERROR :Closing Link: too slow (SendQ exceeded)\r\n");

/** One IRC client on a TCP (or TLS) connection. */
export class IrcConnection implements Tracked, OutputOwner {
  readonly #conn: Deno.Conn;
  readonly #tcp: TcpContext;
  readonly #out: ClientOutput<Uint8Array>;
  readonly #client: IrcClient<Uint8Array>;
  #reason = "peer";
  #lastInput = performance.now();
  #pingedAt: number | null = null;

  constructor(conn: Deno.Conn, tcp: TcpContext, door: IrcDoor) {
    this.#conn = conn;
    this.#tcp = tcp;
    // Events reach the client first (it renders them); the output only takes bytes.
    this.#out = new ClientOutput(new TcpSink(conn, TOO_SLOW), { encode: () => new Uint8Array() }, {
      maxQueueBytes: tcp.maxQueueBytes,
      stats: tcp.stats,
      owner: this,
    });
    const address = (conn.remoteAddr as Deno.NetAddr).hostname;
    this.#client = new IrcClient(door.irc, door.wire, this.#out, address);
  }

  get #session(): Session | null {
    return this.#client.session;
  }

  /** The client's nick, once registered (for the log). */
  get nick(): string | null {
    return this.#client.session?.nick ?? null;
  }

  onClose(): void {
    if (this.#reason === "peer") this.#reason = "server";
  }

  onTooSlow(): void {
    this.#reason = "too slow";
    const session = this.#session;
    const hub = this.#client.ctx.hub;
    if (session !== null) queueMicrotask(() => hub.disconnect(session, "too slow"));
  }

  goingAway(): void {
    if (!this.#out.closing) this.#reason = "shutdown";
    this.#out.closeAfterFlush();
  }

  forceClose(): void {
    this.#out.forceClose();
  }

  /** Silent clients get a `PING`; silent as long again, they are closed. */
  idle(now: number, limitMs: number): void {
    if (this.#out.closing || now - this.#lastInput < limitMs) return;
    if (this.#pingedAt === null) {
      this.#pingedAt = now;
      this.#client.write([{ tags: {}, command: "PING", params: [this.#client.ctx.server] }]);
    } else if (now - this.#pingedAt >= limitMs) {
      this.#reason = "idle";
      const session = this.#session;
      if (session !== null) this.#client.ctx.hub.disconnect(session, "Ping timeout");
      this.#client.error("Closing Link: Ping timeout");
    }
  }

  /**
   * Reads and handles the client's lines until the end; returns who ended
   * the connection. `lines` and `first` continue a connection already read
   * (the text port's, whose first line was IRC).
   */
  async run(
    live: LiveConnections,
    lines?: AsyncIterator<LineBatch>,
    first?: LineBatch,
  ): Promise<string> {
    live.add(this);
    const client = this.#client;
    const out = this.#out;
    const timer = setTimeout(() => {
      if (client.registered || out.closing) return;
      this.#reason = "registration timeout";
      client.error("Closing Link: registration timed out");
    }, client.ctx.registrationTimeoutMs);
    const reader = lines ?? socketLines(this.#conn, MAX_LINE_BYTES)[Symbol.asyncIterator]();
    try {
      if (first !== undefined) this.#take(first);
      while (!out.closing) {
        const next = await reader.next();
        if (next.done) break;
        this.#take(next.value);
        const session = this.#session;
        if (
          session !== null && !session.requests.metered && session.requests.pending > MAX_BACKLOG
        ) {
          await session.drained();
        }
        // The server itself is behind on everyone's output: read no more for a moment.
        if (backlogged()) await relief();
      }
    } catch (err) {
      if (!out.closing && !isDisconnect(err)) throw err;
      if (this.#reason === "peer" && !out.closing) this.#reason = "reset";
    } finally {
      clearTimeout(timer);
      const session = this.#session;
      if (session !== null) {
        this.#client.ctx.hub.disconnect(session);
        await session.left;
      }
      out.closeAfterFlush();
      await out.idle();
      live.delete(this);
    }
    return this.#reason;
  }

  #take(batch: LineBatch): void {
    this.#lastInput = performance.now();
    this.#pingedAt = null;
    const { stats } = this.#tcp;
    for (const line of batch) {
      if (this.#out.closing) return;
      if (typeof line === "string") {
        this.#client.receive(line);
        continue;
      }
      stats.rejected[line.rejected]++;
      if (line.rejected === "too_long") this.#client.numeric("417", "Input line was too long");
      else this.#client.invalidUtf8();
    }
  }
}
