/**
 * The WebSocket transport: `Deno.upgradeWebSocket` -> the same hub as TCP.
 *
 * Two formats, chosen at the handshake: text (frames hold lines with exactly
 * the TCP semantics) and JSON (`?format=json` or the subprotocol
 * `chat.json`). Output is queued per member and leaves as one frame per flush
 * (items joined with `\n`, as the protocol allows): one `send` per event per
 * member cannot keep up with a big room. A member whose queue plus the
 * socket's `bufferedAmount` passes the bound is disconnected.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { Hub, Session } from "../core/hub.ts";
import type { Stats } from "../core/stats.ts";
import type { ClientPort, ErrorCode, Ref, ServerEvent } from "../core/types.ts";
import { encodeJsonEvent, parseJsonItem } from "../protocol/json.ts";
import { formatEventItem, parseTextLine } from "../protocol/text.ts";
import type { Tracked } from "./tcp.ts";
import { type Flushable, scheduleFlush } from "./writer.ts";

/** The subprotocol that selects the JSON format. */
export const JSON_SUBPROTOCOL = "chat.json";

/** What every WebSocket connection needs. */
export interface WsContext {
  hub: Hub;
  stats: Stats;
  log: Logger;
  maxLineBytes: number;
  maxQueueBytes: number;
  /** Seconds of silence before a ping; a peer that does not answer in as long again is dropped. */
  pingTimeoutS: number;
}

type Format = "text" | "json";

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
 * Upgrades the request and runs the connection. Returns the 101 response;
 * `done` resolves when the connection has closed.
 */
export function acceptWebSocket(
  request: Request,
  remote: string,
  address: string,
  ctx: WsContext,
  track: (entry: Tracked) => () => void,
): { response: Response; done: Promise<void> } {
  const { format, protocol } = requestedFormat(request);
  const { socket, response } = Deno.upgradeWebSocket(request, {
    protocol,
    idleTimeout: ctx.pingTimeoutS,
  });
  const connection = new WsConnection(socket, format, remote, address, ctx, track);
  return { response, done: connection.done };
}

/** One WebSocket client: its queue, its session and its frame handling. */
class WsConnection implements ClientPort, Flushable {
  readonly done: Promise<void>;
  readonly #socket: WebSocket;
  readonly #format: Format;
  readonly #ctx: WsContext;
  readonly #id = nextWsId++;
  readonly #remote: string;
  readonly #address: string;
  #session: Session | null = null;
  #queue: string[] = [];
  #queuedChars = 0;
  #scheduled = false;
  #closing = false;
  #reason = "peer";
  #untrack: () => void = () => {};
  #resolveDone!: () => void;
  #finished = false;

  constructor(
    socket: WebSocket,
    format: Format,
    remote: string,
    address: string,
    ctx: WsContext,
    track: (entry: Tracked) => () => void,
  ) {
    this.#socket = socket;
    this.#format = format;
    this.#ctx = ctx;
    this.#remote = remote;
    this.#address = address;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    socket.onclose = () => this.#finish();
    socket.onopen = () => {
      ctx.stats.connectionOpened("ws");
      ctx.log.info("websocket {id} opened from {remote} ({format})", {
        id: this.#id,
        remote,
        format,
      });
      this.#untrack = track({
        // The hub has told the client already; what is queued goes out, then the close.
        goingAway: () => {
          if (this.#closing) return;
          this.#reason = "shutdown";
          this.#closeAfterFlush(1001, "server shutting down");
        },
        forceClose: () => {
          this.#closeNow(1001, "server shutting down");
          this.#finish();
        },
      });
      this.#session = ctx.hub.connect(this, this.#address);
    };
    socket.onmessage = (event) => this.#onFrame(event.data);
    socket.onerror = () => {
      // The close event follows; errors of a peer that vanished are routine.
    };
  }

  // --- ClientPort: the hub's view ---------------------------------------------------------------

  send(event: ServerEvent): void {
    if (this.#closing) return;
    const item = this.#format === "json" ? encodeJsonEvent(event) : formatEventItem(event);
    // The socket's own buffer is checked once per flush (it costs an op), the queue here.
    if (this.#queuedChars + item.length > this.#ctx.maxQueueBytes) return this.#tooSlow();
    this.#ctx.stats.eventsOut++;
    this.#queue.push(item);
    this.#queuedChars += item.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      scheduleFlush(this);
    }
  }

  close(): void {
    if (this.#reason === "peer") this.#reason = "server";
    this.#closeAfterFlush(1000, "bye");
  }

  // --- Flushable: the scheduler's view ----------------------------------------------------------

  /** Sends everything queued as one frame. */
  flush(): number {
    this.#scheduled = false;
    if (this.#queue.length === 0 || this.#socket.readyState !== WebSocket.OPEN) return 0;
    // What the peer has not taken yet counts against the same bound as the queue.
    if (this.#queuedChars + this.#socket.bufferedAmount > this.#ctx.maxQueueBytes) {
      this.#tooSlow();
      return 0;
    }
    const frame = this.#queue.length === 1 ? this.#queue[0] : this.#queue.join("\n");
    this.#queue = [];
    this.#queuedChars = 0;
    try {
      this.#socket.send(frame);
      this.#ctx.stats.bytesOut += frame.length;
    } catch {
      // Closed under us: the close event cleans up.
    }
    return 1;
  }

  // --- inbound ----------------------------------------------------------------------------------

  #onFrame(data: unknown): void {
    const session = this.#session;
    if (session === null || session.closed || this.#closing) return;
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
    if (utf8Length(data, max) > max) {
      this.#ctx.stats.rejected.too_long++;
      return hub.reply(session, {
        type: "error",
        code: "line_too_long",
        message: `frame too long (max ${max} bytes)`,
      });
    }
    for (const raw of data.split("\n")) {
      const item = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      const command = this.#format === "json" ? parseJsonItem(item) : parseTextLine(item);
      if (command === null) continue;
      if (command.type === "parse_error") {
        const ref = (command as { ref?: Ref }).ref;
        hub.reply(session, {
          type: "error",
          code: command.code as ErrorCode,
          message: command.message,
          ref,
        });
      } else {
        hub.handle(session, command, item.length);
      }
    }
  }

  // --- closing ----------------------------------------------------------------------------------

  #tooSlow(): void {
    if (this.#closing) return;
    this.#ctx.stats.slowConsumers++;
    this.#reason = "too slow";
    this.#ctx.log.warn("websocket {id} from {remote} too slow: disconnected", {
      id: this.#id,
      remote: this.#remote,
    });
    this.#closeNow(1008, "disconnected: too slow");
    // Known limit: Deno's WebSocket cannot drop the TCP connection without the
    // close handshake, so a peer that never reads keeps it (and the bytes
    // already handed to it) until it goes away. For the chat it is gone now.
    this.#finish("too slow");
  }

  #closeAfterFlush(code: number, reason: string): void {
    if (this.#closing) return;
    this.flush();
    this.#closeNow(code, reason);
  }

  #closeNow(code: number, reason: string): void {
    this.#closing = true;
    this.#queue = [];
    this.#queuedChars = 0;
    try {
      this.#socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  /**
   * The connection's end for the chat: on the close event, or earlier when it
   * is cut off (then with `quitMessage`, and not from inside the fan-out that
   * overflowed it: the client leaves its rooms on the next microtask).
   */
  #finish(quitMessage?: string): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#resolveDone();
    const session = this.#session;
    if (session === null) return; // never opened
    this.#closing = true;
    const hub = this.#ctx.hub;
    if (quitMessage === undefined) hub.disconnect(session);
    else queueMicrotask(() => hub.disconnect(session, quitMessage));
    this.#untrack();
    this.#ctx.stats.connectionClosed("ws");
    this.#ctx.log.info("websocket {id} closed from {remote} ({reason})", {
      id: this.#id,
      remote: this.#remote,
      reason: this.#reason,
    });
  }
}
