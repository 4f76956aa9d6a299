/**
 * A WebSocket served on the server's own TCP connection (RFC 6455, no
 * extensions), with the part of the `WebSocket` interface the doors use:
 * `readyState`, `bufferedAmount`, `send`, `close` and one listener object.
 *
 * Why not `Deno.upgradeWebSocket`: an idle connection upgraded by
 * `Deno.serve` holds the HTTP connection's state, the WebSocket's and a
 * pending read in the runtime besides ours (16–17 KiB each for a minimal
 * server, measured), where a connection read here costs what a TCP one does.
 * `Deno.serve` still answers every other request, and WebSockets that come
 * over TLS (see `http_front.ts`).
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { logger } from "../log.ts";
import type { WsSocket } from "./ws_sink.ts";
import { closeQuietly, isDisconnect } from "./socket.ts";
import { copied } from "./writer.ts";
import {
  closePayload,
  encodeFrame,
  encodeTextFrame,
  type Frame,
  FrameError,
  FrameParser,
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  parseClose,
  strictUtf8,
} from "./ws_frames.ts";

const CONNECTING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3;

/** How long a close waits for the peer's close frame before the connection is dropped. */
const CLOSE_GRACE_MS = 1000;
/**
 * The first read's buffer, doubled while reads fill it: an idle connection
 * holds its pending read's buffer, and a client's frames are mostly short.
 */
const FIRST_READ = 128;
const MAX_READ = 64 * 1024;
/** How often silent connections are looked at (each against its own ping timeout). */
const SWEEP_MS = 1000;

const log = logger("ws");

/** The sockets that ping when silent, and the one timer that looks at them. */
const pinging = new Set<RawWebSocket>();
let sweep: ReturnType<typeof setInterval> | undefined;

function watch(socket: RawWebSocket): void {
  pinging.add(socket);
  if (sweep !== undefined) return;
  sweep = setInterval(() => {
    const now = performance.now();
    for (const s of pinging) s.idle(now);
  }, SWEEP_MS);
  Deno.unrefTimer(sweep);
}

function unwatch(socket: RawWebSocket): void {
  if (!pinging.delete(socket) || pinging.size > 0) return;
  clearInterval(sweep);
  sweep = undefined;
}

/** The text most recently framed, and its frame. */
let lastText = "";
let lastFrame = encodeTextFrame("");

/**
 * A text frame, encoded once for every member a fan-out sends the very same
 * string (`ws_sink.ts` shares it); writes never change a frame's bytes.
 */
function textFrame(text: string): Uint8Array {
  if (text === lastText) return lastFrame;
  lastText = text;
  return lastFrame = encodeTextFrame(text);
}

/**
 * A message past `maxMessageBytes`, skipped rather than held: the door
 * answers it as a line too long, and the connection goes on.
 */
const TOO_BIG = { type: "toobig" } as const;

/** What a socket is made with: its ping timeout and its largest message. */
export interface RawOptions {
  /** Seconds of silence before a ping; as long again without an answer and it is dropped (0: never). */
  idleTimeoutS: number;
  /** The largest message held; a bigger one is skipped and reported as a `toobig` event. */
  maxMessageBytes: number;
}

/**
 * One WebSocket on a connection whose handshake has been read. `start`
 * writes the server's handshake, says `open`, then reads frames until the
 * connection ends. One write in flight; frames sent meanwhile wait in order
 * and count in `bufferedAmount`.
 */
export class RawWebSocket implements WsSocket {
  readyState = CONNECTING;
  bufferedAmount = 0;
  /** Binary messages always arrive as `ArrayBuffer`s (what the doors ask for). */
  binaryType: BinaryType = "arraybuffer";
  readonly #conn: Deno.Conn;
  readonly #options: RawOptions;
  #listener: EventListenerObject | null = null;
  readonly #parser: FrameParser;
  #waiting: Uint8Array[] | null = null;
  #writing = false;
  /** Closed once what is queued is written: the close handshake is over. */
  #dropWhenWritten = false;
  /** A fragmented message so far: its opcode and parts (null once it is too big to keep). */
  #fragments: { opcode: number; parts: Uint8Array[] | null; bytes: number } | null = null;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #seen = 0;
  #pinged = 0;
  #readSize = FIRST_READ;

  constructor(conn: Deno.Conn, options: RawOptions) {
    this.#conn = conn;
    this.#options = options;
    this.#parser = new FrameParser(options.maxMessageBytes);
  }

  /** One listener object (the door's connection) hears every event. */
  addEventListener(_type: string, listener: EventListenerObject): void {
    this.#listener = listener;
  }

  /**
   * Writes `handshake` (the 101 response), opens, and reads from `rest` (bytes
   * after it) on. The handshake waits for the end of the turn, so that what
   * the door sends on `open` (its welcome, flushed at the end of the turn)
   * leaves in the same write: one write per new client, not two.
   */
  start(handshake: Uint8Array, rest: Uint8Array): void {
    this.#writing = true;
    this.bufferedAmount += handshake.length;
    this.#waiting = [handshake];
    this.readyState = OPEN;
    this.#emit({ type: "open" });
    if (this.#options.idleTimeoutS > 0) {
      this.#seen = performance.now();
      watch(this);
    }
    if (rest.length > 0) this.#parser.push(rest);
    void this.#read();
    // After `open`: the door's flush was scheduled first, and its frames queue behind the handshake.
    setImmediate(() => {
      if (this.readyState !== CLOSED) this.#writeWaiting();
    });
  }

  send(data: string | Uint8Array): void {
    // As a browser's socket: a frame sent after the close began is dropped.
    if (this.readyState !== OPEN) return;
    this.#send(typeof data === "string" ? textFrame(data) : encodeFrame(OP_BINARY, data));
  }

  /** Text frames, one per string, in one write (IRC over WebSocket: a frame per line). */
  sendTexts(texts: readonly string[]): void {
    if (this.readyState !== OPEN) return;
    if (texts.length === 1) return this.#send(textFrame(texts[0]));
    const frames = texts.map(encodeTextFrame);
    let total = 0;
    for (const frame of frames) total += frame.length;
    this.#send(copied(frames, total));
  }

  /** Starts the close handshake; the peer has `CLOSE_GRACE_MS` to answer before it is dropped. */
  close(code = 1000, reason = ""): void {
    if (this.readyState >= CLOSING) return;
    this.readyState = CLOSING;
    this.#send(encodeFrame(OP_CLOSE, closePayload(code, reason)));
    this.#closeTimer = setTimeout(() => this.#drop(), CLOSE_GRACE_MS);
  }

  /** The ping sweep: a ping after the timeout's silence, the drop after as long again. */
  idle(now: number): void {
    const limit = this.#options.idleTimeoutS * 1000;
    if (this.#pinged === 0) {
      if (now - this.#seen < limit || this.readyState !== OPEN) return;
      this.#pinged = now;
      this.#send(encodeFrame(OP_PING, new Uint8Array(0)));
    } else if (now - this.#pinged >= limit) {
      log.debug("websocket silent past its ping timeout: dropped");
      this.#drop();
    }
  }

  /**
   * Reads until the peer's close frame or the connection's end. What stops
   * the reading early (a protocol error, the peer's close) leaves the end to
   * the close handshake.
   */
  async #read(): Promise<void> {
    try {
      let more = this.#frames();
      while (more) {
        // A new buffer each read: the parser may still hold views of the last one.
        const buffer = new Uint8Array(this.#readSize);
        const n = await this.#conn.read(buffer);
        if (n === null) return this.#drop();
        if (n === buffer.length && this.#readSize < MAX_READ) this.#readSize *= 2;
        const bytes = buffer.subarray(0, n);
        if (this.#seen !== 0) {
          this.#seen = performance.now();
          this.#pinged = 0;
        }
        this.#parser.push(bytes);
        more = this.#frames();
      }
    } catch (err) {
      if (!isDisconnect(err)) log.warn("websocket read failed: {error}", { error: err });
      this.#drop();
    }
  }

  /** Handles the whole frames read so far; false once nothing more is to be read. */
  #frames(): boolean {
    try {
      for (let frame = this.#parser.next(); frame !== null; frame = this.#parser.next()) {
        if (!this.#frame(frame)) return false;
      }
      return true;
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      log.debug("websocket closed for a protocol error: {reason}", { reason: err.message });
      this.close(err.code, err.message);
      // Nothing more is read: the connection ends once the close frame is out.
      this.#dropOnceWritten();
      return false;
    }
  }

  #frame({ fin, opcode, payload, tooBig }: Frame): boolean {
    switch (opcode) {
      case OP_PING:
        if (this.readyState === OPEN) this.#send(encodeFrame(OP_PONG, payload));
        return true;
      case OP_PONG:
        return true;
      case OP_CLOSE: {
        const { code } = parseClose(payload);
        if (this.readyState === OPEN) {
          this.readyState = CLOSING;
          // The answer echoes the code; none given gets a plain 1000.
          this.#send(encodeFrame(OP_CLOSE, closePayload(code === 1005 ? 1000 : code, "")));
        }
        this.#dropOnceWritten();
        return false;
      }
    }
    if (this.readyState !== OPEN) return true; // closing: data is no longer delivered
    if (opcode === OP_CONTINUATION) {
      const message = this.#fragments;
      if (message === null) throw new FrameError(1002, "continuation without a message");
      message.bytes += payload.length;
      if (tooBig || message.bytes > this.#options.maxMessageBytes) message.parts = null;
      else message.parts?.push(payload.slice());
      if (!fin) return true;
      this.#fragments = null;
      if (message.parts === null) this.#emit(TOO_BIG);
      else this.#deliver(message.opcode, copied(message.parts, message.bytes));
      return true;
    }
    if (this.#fragments !== null) throw new FrameError(1002, "a message inside a message");
    if (!fin) {
      const parts = tooBig ? null : [payload.slice()];
      this.#fragments = { opcode, parts, bytes: payload.length };
    } else if (tooBig) this.#emit(TOO_BIG);
    else this.#deliver(opcode, payload);
    return true;
  }

  #deliver(opcode: number, payload: Uint8Array): void {
    const data = opcode === OP_TEXT ? strictUtf8(payload) : payload.slice().buffer;
    this.#emit({ type: "message", data });
  }

  #emit(event: { type: string; data?: unknown }): void {
    this.#listener?.handleEvent(event as unknown as Event);
  }

  // --- writing ----------------------------------------------------------------------------------

  #send(bytes: Uint8Array): void {
    this.bufferedAmount += bytes.length;
    if (this.#writing) (this.#waiting ??= []).push(bytes);
    else this.#write(bytes);
  }

  #write(bytes: Uint8Array): void {
    this.#writing = true;
    let written: Promise<number>;
    try {
      written = this.#conn.write(bytes);
    } catch (err) {
      written = Promise.reject(err); // a closed resource can throw at once
    }
    written.then((n) => this.#wrote(bytes, n), (err) => this.#writeFailed(err));
  }

  #wrote(bytes: Uint8Array, n: number): void {
    this.bufferedAmount -= n;
    if (n < bytes.length) return this.#write(bytes.subarray(n));
    if (this.#writeWaiting()) return;
    this.#writing = false;
    if (this.#dropWhenWritten) this.#drop();
  }

  /** Writes what waited, as one piece; false if nothing did. */
  #writeWaiting(): boolean {
    const waiting = this.#waiting;
    if (waiting === null) return false;
    this.#waiting = null;
    let total = 0;
    for (const part of waiting) total += part.length;
    this.#write(waiting.length === 1 ? waiting[0] : copied(waiting, total));
    return true;
  }

  /** The close handshake is over: the connection ends once what is queued is written. */
  #dropOnceWritten(): void {
    this.#dropWhenWritten = true;
    if (!this.#writing) this.#drop();
  }

  #writeFailed(err: unknown): void {
    this.#writing = false;
    this.#waiting = null;
    if (!isDisconnect(err)) log.warn("websocket write failed: {error}", { error: err });
    this.#drop();
  }

  /** The end: the connection closed, `close` told once. */
  #drop(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    clearTimeout(this.#closeTimer);
    unwatch(this);
    closeQuietly(this.#conn);
    this.#emit({ type: "close" });
  }
}
