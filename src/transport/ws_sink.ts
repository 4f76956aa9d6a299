/**
 * A WebSocket as a client output's sink, in two framings: the chat's items
 * joined with `\n` into one text frame per flush (one `send` per event per
 * member cannot keep up with a big room), or one frame per line (IRC over
 * WebSocket carries exactly one line per frame).
 *
 * `send` on a WebSocket never waits: what the peer has not taken shows in
 * `bufferedAmount`, which counts against the same bound as the queue.
 *
 * @module
 */

import type { ClientOutput, Goodbye, OutputSink } from "./output.ts";
import { type Delivery, type Outbox, sameParts } from "./writer.ts";

const utf8 = new TextEncoder();

/** What the WebSocket doors need of a socket: the browser's interface, in
 * part. Deno's `WebSocket` is one (over TLS); `ws_socket.ts` the other. */
export interface WsSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: BinaryType;
  send(data: string | Uint8Array<ArrayBuffer>): void;
  /** Text frames, one per string, in one write: where the socket can (the server's own). */
  sendTexts?(texts: readonly string[]): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: "open" | "message" | "close",
    listener: EventListenerObject,
    options?: AddEventListenerOptions,
  ): void;
}

/** The close of a client that has finished (`quit`), and the default goodbye. */
const BYE: Goodbye = { code: 1000, reason: "bye" };

/** Policy violation: the client did not read what it was sent. */
const TOO_SLOW: Goodbye = { code: 1008, reason: "disconnected: too slow" };

/** What both framings share: readiness, the socket's backlog, and closing. */
abstract class WsSinkBase<T> implements OutputSink<T> {
  protected readonly socket: WsSocket;

  constructor(socket: WsSocket) {
    this.socket = socket;
  }

  abstract size(item: T): number;
  abstract send(items: T[], size: number, done: Delivery): number;

  /** Frames wait until the socket is open. */
  ready(): boolean {
    return this.socket.readyState === 1 /* OPEN */;
  }

  /** What the peer has not taken yet (read once per flush: it costs a call into the runtime). */
  backlog(): number {
    return this.socket.bufferedAmount;
  }

  /** What is queued leaves now as the last frame(s), then the close frame. */
  end(outbox: Outbox<T>, goodbye: Goodbye = BYE): void {
    outbox.flush();
    this.abort(outbox, goodbye);
  }

  abort(outbox: Outbox<T>, goodbye: Goodbye = BYE): void {
    outbox.stop();
    this.#close(goodbye);
  }

  /**
   * Closed at once with 1008; for the chat it is gone now. A peer that
   * never reads loses its TCP connection after the close's grace on the
   * server's own socket (`ws_socket.ts`); over TLS Deno's WebSocket cannot
   * drop it without the close handshake, so the peer keeps it (and the bytes
   * already handed to it) until it goes away.
   */
  cutOff(): void {
    this.#close(TOO_SLOW);
  }

  /** Sends one text frame; its UTF-16 units, or 0 if the socket was closed under us. */
  protected frame(text: string): number {
    try {
      this.socket.send(text);
      return text.length;
    } catch {
      // Closed under us: the close event cleans up.
      return 0;
    }
  }

  #close(goodbye: Goodbye): void {
    try {
      this.socket.close(goodbye.code, goodbye.reason);
    } catch {
      // Already closing.
    }
  }
}

/**
 * Items (one event each, its lines joined with `\n`) joined with `\n` into
 * one text frame per flush: the chat's text and JSON formats, whose clients
 * split every frame on `\n`.
 */
export class WsJoinedSink extends WsSinkBase<string> {
  size(item: string): number {
    return item.length;
  }

  send(items: string[], _size: number, done: Delivery): number {
    done.sent(this.frame(items.length === 1 ? items[0] : joinShared(items)));
    return 1;
  }
}

/** The items most recently joined, and what they made. */
let lastItems: string[] = [];
let lastJoined = "";

/**
 * The members of a room are flushed one after another with the same
 * broadcasts queued: the very same strings, joined once into the very same
 * string, which a socket that frames it itself encodes once (`ws_socket.ts`).
 */
function joinShared(items: string[]): string {
  if (sameParts(items, lastItems)) return lastJoined;
  lastItems = items;
  return lastJoined = items.join("\n");
}

/**
 * One text frame per line: an item is one event's lines, without line
 * ends (IRC over WebSocket, where a frame is exactly one line).
 */
export class WsLineSink extends WsSinkBase<readonly string[]> {
  readonly #binary: boolean;

  /** `binary`: lines as UTF-8 binary frames (`binary.ircv3.net`) instead of text frames. */
  constructor(socket: WsSocket, binary = false) {
    super(socket);
    this.#binary = binary;
  }

  protected override frame(text: string): number {
    if (!this.#binary) return super.frame(text);
    try {
      this.socket.send(utf8.encode(text));
      return text.length;
    } catch {
      return 0; // closed under us: the close event cleans up
    }
  }

  size(lines: readonly string[]): number {
    let n = 0;
    for (const line of lines) n += line.length;
    return n;
  }

  send(items: (readonly string[])[], size: number, done: Delivery): number {
    if (!this.#binary && this.socket.sendTexts !== undefined) {
      // A flush's lines in one write, not one write and then the rest joined behind it.
      this.socket.sendTexts(items.length === 1 ? items[0] : items.flat());
      done.sent(size);
      return 1;
    }
    let units = 0;
    let frames = 0;
    for (const lines of items) {
      for (const line of lines) {
        units += this.frame(line);
        frames++;
      }
    }
    done.sent(units);
    return frames;
  }
}

/**
 * A WebSocket connection as its socket's listener (`handleEvent`): the open
 * once, each message, the close; no error listener (the close event
 * follows, and a vanished peer's errors are routine). One object per
 * connection, where `on*` handlers cost each a closure and the runtime's
 * wrapper around it.
 */
export abstract class WsListener implements EventListenerObject {
  constructor(socket: WsSocket) {
    socket.addEventListener("open", this, { once: true });
    socket.addEventListener("message", this);
    socket.addEventListener("close", this);
  }

  handleEvent(event: Event): void {
    if (event.type === "message") this.onMessage((event as MessageEvent).data);
    else if (event.type === "open") this.onOpen();
    else if (event.type === "close") this.onSocketClose();
    else if (event.type === "toobig") this.onTooBig();
  }

  protected abstract onOpen(): void;
  protected abstract onMessage(data: unknown): void;
  /** A message too big to hold was skipped (`ws_socket.ts`); the connection goes on. */
  protected abstract onTooBig(): void;
  protected abstract onSocketClose(): void;
}

/** The close of every WebSocket at a server shutdown. */
export const SHUTTING_DOWN: Goodbye = { code: 1001, reason: "server shutting down" };

/**
 * A server shutdown reaching a WebSocket's output (the core has told the
 * client): unless it is closing already, `first` (the connection notes why
 * it ends), then what is queued goes out and a 1001 close.
 */
export function closeForShutdown(out: ClientOutput<unknown>, first: () => void): void {
  if (out.closing) return;
  first();
  out.closeAfterFlush(SHUTTING_DOWN);
}
