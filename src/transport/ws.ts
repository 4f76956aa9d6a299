/**
 * The WebSocket transport: an upgraded request (`ws_upgrade.ts`) -> the same
 * hub as TCP.
 *
 * Two formats, chosen at the handshake: text (frames hold lines with exactly
 * the TCP semantics) and JSON (`?format=json` or the subprotocol
 * `chat.json`). Output goes through the client output every door shares and
 * leaves as one frame per flush (items joined with `\n`, as the protocol
 * allows; see `ws_sink.ts`). A member whose queue plus the socket's
 * `bufferedAmount` passes the bound is disconnected.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { Hub, Session } from "../core/hub.ts";
import type { Stats } from "../core/stats.ts";
import type { Encoder } from "../core/broadcast.ts";
import type { Codec } from "../protocol/codec.ts";
import { jsonCodec } from "../protocol/json.ts";
import { textCodec } from "../protocol/text.ts";
import { secondsSince } from "./conn_record.ts";
import { frameItemEncoder } from "./encoders.ts";
import { ClientOutput, type OutputOwner } from "./output.ts";
import type { LiveConnections, Tracked } from "./tcp.ts";
import {
  closeForShutdown,
  SHUTTING_DOWN,
  WsJoinedSink,
  WsListener,
  type WsSocket,
} from "./ws_sink.ts";
import type { IrcContext } from "../irc/client.ts";
import { ircSubprotocol, IrcWsConnection } from "./irc_ws.ts";
import { upgradeWebSocket } from "./ws_upgrade.ts";

/** The subprotocol that selects the JSON format. */
export const JSON_SUBPROTOCOL = "chat.json";

/**
 * How the server follows its WebSocket connections: the live set (for
 * shutdown), and each accepted connection's end (its limiter slot, the
 * drain's count). Data, not a closure per connection: every idle one would
 * keep its own.
 */
export interface WsTracking {
  live: LiveConnections;
  /** A WebSocket from `address` (as the limiter admitted it) has ended. */
  ended(address: string): void;
}

/** What every WebSocket connection needs. */
export interface WsContext {
  hub: Hub;
  stats: Stats;
  log: Logger;
  maxLineBytes: number;
  maxQueueBytes: number;
  /** Seconds of silence before a ping; a peer that does not answer in as long again is dropped. */
  pingTimeoutS: number;
  /** The IRC door, for `text.ircv3.net` and `binary.ircv3.net`; `null` when there is none. */
  irc?: IrcContext | null;
}

type Format = "text" | "json";

/** Each format's codec, and its items as a frame carries them (one encoding per broadcast). */
const FORMATS: Record<Format, { codec: Codec; items: Encoder<string> }> = {
  text: { codec: textCodec, items: frameItemEncoder(textCodec) },
  json: { codec: jsonCodec, items: frameItemEncoder(jsonCodec) },
};

/** The format a handshake asks for: `?format=json` or the `chat.json` subprotocol. */
export function requestedFormat(request: Request): { format: Format; protocol?: string } {
  const url = new URL(request.url);
  const protocols = (request.headers.get("sec-websocket-protocol") ?? "")
    .split(",").map((p) => p.trim());
  if (protocols.includes(JSON_SUBPROTOCOL)) return { format: "json", protocol: JSON_SUBPROTOCOL };
  return { format: url.searchParams.get("format") === "json" ? "json" : "text" };
}

const encoder = new TextEncoder();

/** UTF-8 length of `text`, computed only when the cheap bounds cannot decide. */
function utf8Length(text: string, limit: number): number {
  if (text.length > limit || text.length * 3 <= limit) return text.length;
  return encoder.encode(text).length;
}

let nextWsId = 1;

/**
 * The largest WebSocket message a connection upgraded here holds (4 lines'
 * worth, at least 64 KiB); a bigger one is skipped as it arrives, never
 * held. Either way a message over the line limit gets the `line_too_long`
 * error and the connection goes on, as a long TCP line does.
 */
const MIN_MESSAGE_BYTES = 64 * 1024;

/**
 * Upgrades the request and runs the connection. Returns the 101 response;
 * the connection's end reaches `tracking.ended`.
 */
export function acceptWebSocket(
  request: Request,
  remote: string,
  address: string,
  ctx: WsContext,
  tracking: WsTracking,
): Response {
  const limits = {
    idleTimeoutS: ctx.pingTimeoutS,
    maxMessageBytes: Math.max(MIN_MESSAGE_BYTES, 4 * ctx.maxLineBytes),
  };
  const irc = ctx.irc ? ircSubprotocol(request) : null;
  if (irc !== null) {
    const { socket, response } = upgradeWebSocket(request, { protocol: irc, ...limits });
    new IrcWsConnection(socket, irc, remote, address, ctx, ctx.irc!, tracking);
    return response;
  }
  const { format, protocol } = requestedFormat(request);
  const { socket, response } = upgradeWebSocket(request, { protocol, ...limits });
  new WsConnection(socket, format, remote, address, ctx, tracking);
  return response;
}

/**
 * One WebSocket client: its output, its session and its frame handling. It
 * is its socket's listener and the server's handle on it: no closures per
 * connection.
 */
class WsConnection extends WsListener implements OutputOwner, Tracked {
  readonly #codec: Codec;
  readonly #ctx: WsContext;
  readonly #tracking: WsTracking;
  readonly #id = nextWsId++;
  readonly #remote: string;
  readonly #address: string;
  readonly #format: Format;
  /** When it opened (`performance.now()`), for its closing line. */
  #since = 0;
  readonly #out: ClientOutput<string>;
  #session: Session | null = null;
  #reason = "peer";
  #finished = false;

  constructor(
    socket: WsSocket,
    format: Format,
    remote: string,
    address: string,
    ctx: WsContext,
    tracking: WsTracking,
  ) {
    super(socket);
    this.#codec = FORMATS[format].codec;
    this.#ctx = ctx;
    this.#tracking = tracking;
    this.#format = format;
    this.#out = new ClientOutput(new WsJoinedSink(socket), FORMATS[format].items, {
      maxQueueBytes: ctx.maxQueueBytes,
      stats: ctx.stats,
      owner: this,
    });
    this.#remote = remote;
    this.#address = address;
  }

  protected override onSocketClose(): void {
    this.#finish();
  }

  protected override onOpen(): void {
    const ctx = this.#ctx;
    ctx.stats.connectionOpened("ws");
    this.#since = performance.now();
    ctx.log.debug("websocket {id} opened from {remote} ({format})", {
      id: this.#id,
      remote: this.#remote,
      format: this.#format,
    });
    this.#tracking.live.add(this);
    // A text terminal shows every line; a JSON client says what it has read.
    this.#session = ctx.hub.connect(this.#out, this.#address, {
      readsAll: this.#format === "text",
    });
  }

  // --- Tracked: the server's shutdown ------------------------------------------------------------

  /** The core has told the client; what is queued goes out, then a 1001 close. */
  goingAway(): void {
    closeForShutdown(this.#out, () => (this.#reason = "shutdown"));
  }

  /** Past the drain deadline: closed at once. */
  forceClose(): void {
    this.#out.forceClose(SHUTTING_DOWN);
    this.#finish();
  }

  // --- OutputOwner: how its output ends -------------------------------------------------------

  /** The hub closed the client. */
  onClose(): void {
    if (this.#reason === "peer") this.#reason = "server";
  }

  // --- inbound ----------------------------------------------------------------------------------

  protected override onMessage(data: unknown): void {
    const session = this.#session;
    if (session === null || session.closed || this.#out.closing) return;
    const hub = this.#ctx.hub;
    if (typeof data !== "string") {
      return hub.reply(session, {
        type: "error",
        code: "binary_frame",
        message: "binary frames are not supported (send text frames)",
      });
    }
    // Checked before anything is parsed: the same bound as a TCP line.
    const max = this.#ctx.maxLineBytes;
    if (utf8Length(data, max) > max) return this.onTooBig();
    for (const raw of data.split("\n")) {
      const item = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      const command = this.#codec.decode(item);
      if (command === null) continue;
      if (command.type === "parse_error") {
        const { code, message, ref } = command;
        hub.reply(session, { type: "error", code, message, ref });
      } else {
        hub.handle(session, command, item.length);
      }
    }
  }

  /** A frame over the line limit: refused as a TCP line would be, and the connection goes on. */
  protected override onTooBig(): void {
    const session = this.#session;
    if (session === null || session.closed || this.#out.closing) return;
    this.#ctx.stats.rejected.too_long++;
    this.#ctx.hub.reply(session, {
      type: "error",
      code: "line_too_long",
      message: `frame too long (max ${this.#ctx.maxLineBytes} bytes)`,
    });
  }

  // --- closing ----------------------------------------------------------------------------------

  /** Cut off: its output has closed the socket with 1008; for the chat it is gone now. */
  onTooSlow(): void {
    this.#reason = "too slow";
    this.#ctx.log.warn("websocket {id} from {remote} too slow: disconnected", {
      id: this.#id,
      remote: this.#remote,
    });
    this.#finish("too slow");
  }

  /**
   * The connection's end for the chat: on the close event, or earlier when it
   * is cut off (then with `quitMessage`, and not from inside the fan-out that
   * overflowed it: the client leaves its rooms on the next microtask).
   */
  #finish(quitMessage?: string): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#tracking.ended(this.#address);
    const session = this.#session;
    if (session === null) return; // never opened
    this.#out.discard();
    const hub = this.#ctx.hub;
    if (quitMessage === undefined) hub.disconnect(session);
    else queueMicrotask(() => hub.disconnect(session, quitMessage));
    this.#tracking.live.delete(this);
    this.#ctx.stats.connectionClosed("ws");
    this.#ctx.log.info(
      "websocket {id} closed from {remote} ({reason}) after {seconds} s nick={nick}",
      {
        id: this.#id,
        remote: this.#remote,
        reason: this.#reason,
        seconds: secondsSince(this.#since),
        format: this.#format,
        nick: session.nick,
      },
    );
  }
}
