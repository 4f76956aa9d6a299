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
import { IrcClient, type IrcContext, type RegistrationWatcher } from "../irc/client.ts";
import type { IrcWire } from "../irc/writer.ts";
import { encodeShared } from "./arena.ts";
import { backlogged, relief } from "./backlog.ts";
import type { ConnectionRecord } from "./conn_record.ts";
import type { LineBatch } from "./line_stream.ts";
import { ClientOutput, type OutputOwner } from "./output.ts";
import { isDisconnect, type SocketReader, TcpSink } from "./socket.ts";
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
export class IrcConnection implements Tracked, OutputOwner, RegistrationWatcher {
  readonly #conn: Deno.Conn;
  readonly #tcp: TcpContext;
  readonly #record: ConnectionRecord;
  readonly #out: ClientOutput<Uint8Array>;
  readonly #client: IrcClient<Uint8Array>;
  #reason = "peer";
  #lastInput = performance.now();
  #pingedAt: number | null = null;
  /** Closes a client that does not register in time; cleared once it has. */
  #registration: ReturnType<typeof setTimeout> | null = null;

  constructor(conn: Deno.Conn, tcp: TcpContext, door: IrcDoor, record: ConnectionRecord) {
    this.#conn = conn;
    this.#tcp = tcp;
    this.#record = record;
    // Events reach the client first (it renders them); the output only takes bytes.
    this.#out = new ClientOutput(new TcpSink(conn, TOO_SLOW), { encode: () => new Uint8Array() }, {
      maxQueueBytes: tcp.maxQueueBytes,
      stats: tcp.stats,
      owner: this,
    });
    const address = (conn.remoteAddr as Deno.NetAddr).hostname;
    this.#client = new IrcClient(door.irc, door.wire, this.#out, address, this);
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
   * Reads and handles the client's lines until the end, then ends the
   * connection's record. `batch` and `pending`: what was read first (lines,
   * or a read under way).
   */
  async run(
    live: LiveConnections,
    reader: SocketReader,
    batch: LineBatch | null,
    pending: Promise<number | null> | null,
  ): Promise<void> {
    const client = this.#client;
    const out = this.#out;
    try {
      live.add(this);
      this.#registration = setTimeout(() => {
        if (client.registered || out.closing) return;
        this.#reason = "registration timeout";
        client.error("Closing Link: registration timed out");
      }, client.ctx.registrationTimeoutMs);
      try {
        while (!out.closing) {
          if (batch !== null) {
            this.#take(batch);
            batch = null; // not kept while the next read waits
            const session = this.#session;
            if (
              session !== null && !session.requests.metered &&
              session.requests.pending > MAX_BACKLOG
            ) {
              await session.drained();
            }
            // The server itself is behind on everyone's output: read no more for a moment.
            if (backlogged()) await relief();
          }
          if (reader.ended) break;
          // Idle, the connection waits here: this frame and the read, nothing else.
          batch = reader.lines(await (pending ?? reader.read()));
          pending = null;
        }
      } catch (err) {
        if (!out.closing && !isDisconnect(err)) throw err;
        if (this.#reason === "peer" && !out.closing) this.#reason = "reset";
      } finally {
        this.registered();
        const session = this.#session;
        if (session !== null) {
          this.#client.ctx.hub.disconnect(session);
          await session.left;
        }
        out.closeAfterFlush();
        await out.idle();
        live.delete(this);
      }
    } catch (err) {
      this.#reason = this.#record.failed(err);
    }
    this.#record.closed(this.#reason, this.nick);
  }

  /** Registered (or gone): the registration timer has nothing left to do. */
  registered(): void {
    if (this.#registration === null) return;
    clearTimeout(this.#registration);
    this.#registration = null;
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
