/**
 * IRC over WebSocket (IRCv3 `websocket`): `/ws` with the subprotocol
 * `text.ircv3.net` (text frames) or `binary.ircv3.net` (UTF-8 binary
 * frames), one IRC line per frame without CRLF, through the same
 * {@link IrcClient} as IRC over TCP.
 *
 * @module
 */

import type { Encoder } from "../core/broadcast.ts";
import type { Session } from "../core/hub.ts";
import { IrcClient, type IrcContext, type RegistrationWatcher } from "../irc/client.ts";
import { MAX_LINE_BYTES } from "../irc/message.ts";
import type { IrcWire } from "../irc/writer.ts";
import { secondsSince } from "./conn_record.ts";
import { ClientOutput, type OutputOwner } from "./output.ts";
import type { Tracked } from "./tcp.ts";
import type { WsContext, WsTracking } from "./ws.ts";
import {
  closeForShutdown,
  SHUTTING_DOWN,
  WsLineSink,
  WsListener,
  type WsSocket,
} from "./ws_sink.ts";

/** The IRCv3 WebSocket subprotocols, in order of preference. */
const SUBPROTOCOLS = ["text.ircv3.net", "binary.ircv3.net"] as const;

type Subprotocol = (typeof SUBPROTOCOLS)[number];

/** The IRC subprotocol a handshake offers, if any. */
export function ircSubprotocol(request: Request): Subprotocol | null {
  const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) =>
    p.trim()
  );
  return SUBPROTOCOLS.find((p) => offered.includes(p)) ?? null;
}

/** IRC lines as the frames of one WebSocket: each without its CRLF. */
function frameWire(): IrcWire<readonly string[]> {
  return {
    encode: (lines) => lines === "" ? [] : lines.slice(0, -2).split("\r\n"),
    shared: new Map<number, Encoder<readonly string[]>>(),
  };
}

/** Shared encodings per server: the wire is made once per IRC context. */
const wires = new WeakMap<IrcContext, IrcWire<readonly string[]>>();

let nextId = 1;

/**
 * One IRC client on a WebSocket: its socket's event listener and the
 * server's handle on it (no closures per connection).
 */
export class IrcWsConnection extends WsListener
  implements OutputOwner, RegistrationWatcher, Tracked {
  readonly #ctx: WsContext;
  readonly #tracking: WsTracking;
  readonly #out: ClientOutput<readonly string[]>;
  readonly #client: IrcClient<readonly string[]>;
  readonly #id = nextId++;
  readonly #remote: string;
  readonly #address: string;
  readonly #protocol: Subprotocol;
  #reason = "peer";
  #finished = false;
  #opened = false;
  /** When it opened (`performance.now()`), for its closing line. */
  #since = 0;
  #registration: ReturnType<typeof setTimeout> | undefined;
  #decoder: TextDecoder | null = null;

  constructor(
    socket: WsSocket,
    protocol: Subprotocol,
    remote: string,
    address: string,
    ctx: WsContext,
    irc: IrcContext,
    tracking: WsTracking,
  ) {
    super(socket);
    this.#ctx = ctx;
    this.#tracking = tracking;
    this.#remote = remote;
    this.#address = address;
    this.#protocol = protocol;
    this.#out = new ClientOutput(
      new WsLineSink(socket, protocol === "binary.ircv3.net"),
      { encode: () => [] },
      { maxQueueBytes: ctx.maxQueueBytes, stats: ctx.stats, owner: this },
    );
    let wire = wires.get(irc);
    if (wire === undefined) wires.set(irc, wire = frameWire());
    this.#client = new IrcClient(irc, wire, this.#out, address, this);
    socket.binaryType = "arraybuffer";
  }

  protected override onSocketClose(): void {
    this.#finish();
  }

  protected override onOpen(): void {
    this.#opened = true;
    this.#registration = setTimeout(() => {
      if (this.#client.registered || this.#out.closing) return;
      this.#reason = "registration timeout";
      this.#client.error("Closing Link: registration timed out");
    }, this.#client.ctx.registrationTimeoutMs);
    this.#ctx.stats.connectionOpened("irc");
    this.#since = performance.now();
    this.#ctx.log.debug("websocket {id} opened from {remote} ({protocol})", {
      id: this.#id,
      remote: this.#remote,
      protocol: this.#protocol,
    });
    this.#tracking.live.add(this);
  }

  /** The core has told the client; what is queued goes out, then a 1001 close. */
  goingAway(): void {
    closeForShutdown(this.#out, () => (this.#reason = "shutdown"));
  }

  /** Past the drain deadline: closed at once. */
  forceClose(): void {
    this.#out.forceClose(SHUTTING_DOWN);
    this.#finish();
  }

  get #session(): Session | null {
    return this.#client.session;
  }

  onClose(): void {
    if (this.#reason === "peer") this.#reason = "server";
  }

  /** Registered: the registration timer has nothing left to do. */
  registered(): void {
    clearTimeout(this.#registration);
    this.#registration = undefined;
  }

  onTooSlow(): void {
    this.#reason = "too slow";
    this.#finish("too slow");
  }

  /** One frame is one line; a trailing CRLF some clients send anyway is dropped. */
  protected override onMessage(data: unknown): void {
    if (this.#out.closing) return;
    let line: string;
    if (typeof data === "string") {
      line = data;
    } else {
      try {
        this.#decoder ??= new TextDecoder("utf-8", { fatal: true });
        line = this.#decoder.decode(new Uint8Array(data as ArrayBuffer));
      } catch {
        this.#ctx.stats.rejected.invalid_utf8++;
        return this.#client.invalidUtf8();
      }
    }
    if (line.length > MAX_LINE_BYTES) return this.onTooBig();
    for (const part of line.split(/\r?\n/)) if (part !== "") this.#client.receive(part);
  }

  protected override onTooBig(): void {
    if (this.#out.closing) return;
    this.#ctx.stats.rejected.too_long++;
    this.#client.numeric("417", "Input line was too long");
  }

  #finish(quitMessage?: string): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#registration);
    this.#tracking.ended(this.#address);
    this.#out.discard();
    this.#tracking.live.delete(this);
    const session = this.#session;
    const hub = this.#client.ctx.hub;
    if (session !== null) {
      if (quitMessage === undefined) hub.disconnect(session);
      else queueMicrotask(() => hub.disconnect(session, quitMessage));
    }
    if (this.#opened) this.#ctx.stats.connectionClosed("irc");
    this.#ctx.log.info("websocket {id} closed from {remote} ({reason}) after {seconds} s", {
      id: this.#id,
      remote: this.#remote,
      reason: this.#reason,
      seconds: this.#opened ? secondsSince(this.#since) : 0,
      protocol: this.#protocol,
    });
  }
}
