/**
 * A raw WebSocket client for the chat server's `/ws` endpoint (text format), written over
 * `Deno.connect` so the load generator spends as little CPU per message as possible.
 *
 * On the wire it behaves like a browser: an HTTP/1.1 upgrade with `Origin`, `Sec-WebSocket-Key`
 * (the `Sec-WebSocket-Accept` reply is checked) and version 13, no extensions offered, and every
 * client frame masked with a fresh random key. Server frames are parsed in place from one 64 KiB
 * buffer and their payload is split on `\n` as it arrives; the end of a message ends a line too, so
 * a frame that packs several events yields each of them. Pings are answered, a close frame is
 * returned. Lines to send are queued, coalesced and sent as text frames of at most
 * {@link MAX_FRAME_PAYLOAD} bytes (lines joined with `\n`, as a browser client would).
 *
 * @module
 */

import {
  concat,
  connectEach,
  type ConnectResult,
  type LineCallback,
  type LineClient,
} from "./conn.ts";
import { NEWLINE, nowNs } from "./lines.ts";
import { connectWithTimeout, formatTarget, type Target, writeAll } from "./net.ts";

/** Size of each connection's read buffer; a longer line is dropped (and counted). */
export const WS_READ_BUFFER_SIZE = 64 * 1024;

/**
 * Largest payload of a frame this client sends: the server's default `--max-line-bytes` (4096),
 * which bounds a whole inbound frame. More lines are split over several frames at line boundaries.
 */
export const MAX_FRAME_PAYLOAD = 4096;

/** Longest HTTP response head accepted during the handshake. */
const MAX_HANDSHAKE_BYTES = 16 * 1024;

/** The GUID of RFC 6455 §1.3, appended to the key for `Sec-WebSocket-Accept`. */
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Base64 of raw bytes. */
function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Position of `\r\n\r\n` in `buf[0, end)`, or -1. */
function headEnd(buf: Uint8Array, end: number): number {
  for (let i = 0; i + 3 < end; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

/**
 * Builds one masked client frame per item of `payloads` into a single buffer (one write).
 * Each frame gets its own random masking key.
 */
function maskedFrames(opcode: number, payloads: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of payloads) total += p.length + (p.length < 126 ? 6 : p.length < 65536 ? 8 : 14);
  const out = new Uint8Array(total);
  const keys = crypto.getRandomValues(new Uint8Array(4 * payloads.length));
  let at = 0;
  payloads.forEach((p, f) => {
    out[at++] = 0x80 | opcode;
    if (p.length < 126) {
      out[at++] = 0x80 | p.length;
    } else if (p.length < 65536) {
      out[at++] = 0x80 | 126;
      out[at++] = p.length >>> 8;
      out[at++] = p.length & 0xff;
    } else {
      out[at++] = 0x80 | 127;
      const hi = Math.floor(p.length / 2 ** 32);
      for (let i = 3; i >= 0; i--) out[at + i] = (hi >>> ((3 - i) * 8)) & 0xff;
      for (let i = 7; i >= 4; i--) out[at + i] = (p.length >>> ((7 - i) * 8)) & 0xff;
      at += 8;
    }
    const k = f * 4;
    out.set(keys.subarray(k, k + 4), at);
    at += 4;
    for (let i = 0; i < p.length; i++) out[at + i] = p[i] ^ keys[k + (i & 3)];
    at += p.length;
  });
  return out;
}

/**
 * Splits `\n`-terminated lines into frame payloads of at most `max` bytes, each payload being
 * whole lines joined by `\n` (no trailing `\n`). A single line longer than `max` gets a frame of
 * its own (the server then refuses it, as it would refuse the line over TCP).
 */
export function linePayloads(data: Uint8Array, max = MAX_FRAME_PAYLOAD): Uint8Array[] {
  let end = data.length;
  if (end > 0 && data[end - 1] === NEWLINE) end--; // the last line's terminator is implied
  const out: Uint8Array[] = [];
  let start = 0;
  while (start < end) {
    if (end - start <= max) {
      out.push(data.subarray(start, end));
      break;
    }
    // The last newline that keeps the payload within max; else the end of the first line.
    let cut = data.lastIndexOf(NEWLINE, start + max);
    if (cut < start) cut = data.indexOf(NEWLINE, start);
    if (cut < 0 || cut > end) cut = end;
    out.push(data.subarray(start, cut));
    start = cut + 1;
  }
  return out;
}

/** Where a connection's WebSocket endpoint is and how to present itself. */
export interface WsEndpoint {
  /** The HTTP listener (loopback). */
  target: Target;
  /** Request path (default `/ws`). */
  path?: string;
  /** `Origin` header, like a browser on the server's own page (default `http://HOST:PORT`). */
  origin?: string;
}

/** One WebSocket connection in text format, with the same interface as a TCP `LineConn`. */
export class WsConn implements LineClient {
  readonly #conn: Deno.TcpConn;
  #buf: Uint8Array;
  #filled: number;
  #pending: Uint8Array[] = [];
  #rawQueue: Uint8Array[] = [];
  #writing = false;
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;
  #closeSent = false;
  /** Set when the peer closed the connection or an I/O error happened (not on our own close). */
  lost = false;
  /** Lines longer than the read buffer that were dropped. */
  overlong = 0;
  /** Frames received (data and control). */
  frames = 0;
  /** Close code the server sent, if it sent a close frame. */
  closeCode: number | null = null;

  private constructor(conn: Deno.TcpConn, buf: Uint8Array, filled: number) {
    this.#conn = conn;
    this.#buf = buf;
    this.#filled = filled;
  }

  /**
   * Connects and performs the opening handshake. Rejects (with the connection closed) when the
   * server refuses the upgrade, answers wrongly, or all this takes longer than `timeoutMs`.
   */
  static async connect(endpoint: WsEndpoint, timeoutMs: number): Promise<WsConn> {
    const deadline = performance.now() + timeoutMs;
    const conn = await connectWithTimeout(endpoint.target, timeoutMs);
    conn.setNoDelay(true);
    const remaining = Math.max(1, deadline - performance.now());
    const timer = setTimeout(() => {
      try {
        conn.close(); // makes the pending read or write fail
      } catch {
        // Already closed.
      }
    }, remaining);
    try {
      return await WsConn.#handshake(conn, endpoint);
    } catch (err) {
      try {
        conn.close();
      } catch {
        // Closed by the timer.
      }
      const timedOut = performance.now() >= deadline;
      throw timedOut ? new Error(`WebSocket handshake timed out after ${timeoutMs} ms`) : err;
    } finally {
      clearTimeout(timer);
    }
  }

  static async #handshake(conn: Deno.TcpConn, endpoint: WsEndpoint): Promise<WsConn> {
    const host = formatTarget(endpoint.target);
    const key = base64(crypto.getRandomValues(new Uint8Array(16)));
    const request = [
      `GET ${endpoint.path ?? "/ws"} HTTP/1.1`,
      `Host: ${host}`,
      "Connection: Upgrade",
      "Upgrade: websocket",
      "Sec-WebSocket-Version: 13",
      `Sec-WebSocket-Key: ${key}`,
      `Origin: ${endpoint.origin ?? `http://${host}`}`,
      "User-Agent: Mozilla/5.0 (chat-bench raw WebSocket client)",
      "Cache-Control: no-cache",
      "",
      "",
    ].join("\r\n");
    const bytes = encoder.encode(request);
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));

    const buf = new Uint8Array(WS_READ_BUFFER_SIZE);
    let filled = 0;
    let end = -1;
    while (end < 0) {
      if (filled >= MAX_HANDSHAKE_BYTES) throw new Error("WebSocket handshake: response too long");
      const n = await conn.read(buf.subarray(filled, MAX_HANDSHAKE_BYTES));
      if (n === null) throw new Error("WebSocket handshake: connection closed by the server");
      filled += n;
      if (filled >= 5 && decoder.decode(buf.subarray(0, 5)) !== "HTTP/") {
        const first = decoder.decode(buf.subarray(0, Math.min(filled, 60))).split(/\r?\n/)[0];
        throw new Error(`WebSocket handshake: not an HTTP response ("${first}")`);
      }
      end = headEnd(buf, filled);
    }
    const head = decoder.decode(buf.subarray(0, end)).split("\r\n");
    const status = /^HTTP\/1\.1 (\d{3})/.exec(head[0]);
    if (status === null || status[1] !== "101") {
      throw new Error(`WebSocket handshake refused: ${head[0]}`);
    }
    const headers = new Map<string, string>();
    for (const line of head.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    const digest = await crypto.subtle.digest("SHA-1", encoder.encode(key + WS_GUID));
    if (headers.get("sec-websocket-accept") !== base64(new Uint8Array(digest))) {
      throw new Error("WebSocket handshake: wrong Sec-WebSocket-Accept");
    }
    if (headers.get("upgrade")?.toLowerCase() !== "websocket") {
      throw new Error("WebSocket handshake: no Upgrade: websocket in the response");
    }
    if (headers.has("sec-websocket-extensions")) {
      throw new Error("WebSocket handshake: the server chose an extension that was not offered");
    }
    // Frames that arrived with the response head stay in the buffer for readLines.
    const rest = filled - (end + 4);
    buf.copyWithin(0, end + 4, filled);
    return new WsConn(conn, buf, rest);
  }

  /** Whether {@link close} was called or the connection failed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Reads frames until the connection ends, calling `onLine` for every line of every text (or
   * binary) message, then `afterChunk` once per read. Resolves when the connection is closed by
   * either side; never rejects.
   */
  async readLines(onLine: LineCallback, afterChunk?: () => void): Promise<void> {
    const buf = this.#buf;
    let filled = this.#filled; // bytes in buf
    let pos = 0; // next byte to parse
    // Data frame state: payload bytes still to come (-1: expecting a frame header), whether it is
    // the message's last frame, where the line in progress starts, and whether that line is being
    // dropped for being too long.
    let remain = -1;
    let fin = true;
    let lineStart = 0;
    let skipping = false;
    // A line that continues across the frames of a fragmented message (rare).
    let carry: Uint8Array | null = null;
    let inMessage = false; // a fragmented data message is open

    const emit = (start: number, end: number, recvNs: number) => {
      if (skipping) {
        skipping = false;
        carry = null;
        return;
      }
      if (carry !== null) {
        const line = concat([carry, buf.subarray(start, end)]);
        carry = null;
        onLine(line, 0, line.length, recvNs);
      } else if (end > start) {
        onLine(buf, start, end, recvNs);
      }
    };

    try {
      let recvNs = nowNs();
      reading: for (;;) {
        // --- parse what is in the buffer ---------------------------------------------------
        for (;;) {
          if (remain < 0) {
            // Frame header: 2 bytes, then 0/2/8 length bytes, then 0/4 mask bytes.
            if (filled - pos < 2) break;
            const b0 = buf[pos];
            const b1 = buf[pos + 1];
            const opcode = b0 & 0x0f;
            const masked = (b1 & 0x80) !== 0;
            let len = b1 & 0x7f;
            let hdr = 2;
            if (len === 126) {
              if (filled - pos < 4) break;
              len = (buf[pos + 2] << 8) | buf[pos + 3];
              hdr = 4;
            } else if (len === 127) {
              if (filled - pos < 10) break;
              len = 0;
              for (let i = 2; i < 10; i++) len = len * 256 + buf[pos + i];
              hdr = 10;
            }
            if (masked) {
              throw new Error("server frames must not be masked"); // RFC 6455 §5.1
            }
            if (opcode >= 0x8) {
              // Control frame: at most 125 bytes, handled whole.
              if (len > 125) throw new Error("control frame too long");
              if (filled - pos < hdr + len) break;
              this.frames++;
              const payload = buf.slice(pos + hdr, pos + hdr + len);
              pos += hdr + len;
              if (opcode === OP_PING) {
                this.#sendControl(OP_PONG, payload);
              } else if (opcode === OP_CLOSE) {
                this.closeCode = len >= 2 ? (payload[0] << 8) | payload[1] : 1005;
                // Echo the status code, as the protocol asks, then end the connection.
                this.#sendControl(OP_CLOSE, payload.subarray(0, Math.min(len, 2)));
                break reading;
              } else if (opcode !== OP_PONG) {
                throw new Error(`unknown control opcode ${opcode}`);
              }
              continue;
            }
            if (opcode === OP_CONTINUATION) {
              if (!inMessage) throw new Error("continuation frame without a message");
            } else if (opcode === OP_TEXT || opcode === OP_BINARY) {
              if (inMessage) throw new Error("new message inside a fragmented one");
            } else {
              throw new Error(`unknown data opcode ${opcode}`);
            }
            this.frames++;
            fin = (b0 & 0x80) !== 0;
            inMessage = !fin;
            pos += hdr;
            lineStart = pos;
            remain = len;
          }
          // Data frame payload: split on \n as far as it has arrived (searching this frame only).
          const avail = Math.min(filled - pos, remain);
          const stop = pos + avail;
          if (avail > 0) {
            const view = buf.subarray(0, stop);
            let nl = view.indexOf(NEWLINE, pos);
            while (nl !== -1) {
              emit(lineStart, nl, recvNs);
              lineStart = nl + 1;
              nl = view.indexOf(NEWLINE, lineStart);
            }
          }
          pos = stop;
          remain -= avail;
          if (remain > 0) break; // more payload to come
          // The frame is complete.
          if (fin) {
            emit(lineStart, pos, recvNs); // the end of a message ends a line
          } else if (!skipping) {
            const part = buf.slice(lineStart, pos);
            carry = carry === null ? part : concat([carry, part]);
            if (carry.length > buf.length) {
              this.overlong++;
              carry = null;
              skipping = true;
            }
          }
          lineStart = pos;
          remain = -1;
        }

        // --- keep only the unparsed bytes (a header, or the line in progress) -----------------
        // (The part of a line being dropped is not kept.)
        const keep = remain < 0 || skipping ? pos : lineStart;
        if (keep > 0) {
          buf.copyWithin(0, keep, filled);
          filled -= keep;
          pos -= keep;
          lineStart = Math.max(0, lineStart - keep);
        }
        if (filled === buf.length) {
          // A line in progress fills the whole buffer: drop it up to its end.
          this.overlong++;
          skipping = true;
          carry = null;
          filled = 0;
          pos = 0;
          lineStart = 0;
        }
        afterChunk?.();

        // --- read more -------------------------------------------------------------------------
        const n = await this.#conn.read(buf.subarray(filled));
        if (n === null) break;
        recvNs = nowNs();
        filled += n;
      }
      if (!this.#closed) this.lost = true;
      // After a close frame from the server, let the reply go out before the socket closes.
      if (this.#closeSent) await this.#flushing;
    } catch {
      if (!this.#closed) this.lost = true;
    }
    this.close();
  }

  /**
   * Queues complete `\n`-terminated lines for sending. While a write is in progress, further lines
   * are collected and sent afterwards; each flush becomes as few text frames as the frame limit
   * allows, in one write. Data written after {@link close} is dropped.
   */
  write(data: Uint8Array): void {
    if (this.#closed || data.length === 0) return;
    this.#pending.push(data);
    if (!this.#writing) this.#flushing = this.#flush();
  }

  /** Queues a control frame (pong, close); it goes out with the next write. */
  #sendControl(opcode: number, payload: Uint8Array): void {
    if (this.#closed || this.#closeSent) return;
    if (opcode === OP_CLOSE) this.#closeSent = true;
    this.#rawWrite(maskedFrames(opcode, [payload]));
  }

  /** Queues already framed bytes. */
  #rawWrite(frames: Uint8Array): void {
    this.#rawQueue.push(frames);
    if (!this.#writing) this.#flushing = this.#flush();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while ((this.#pending.length > 0 || this.#rawQueue.length > 0) && !this.#closed) {
        const parts = this.#rawQueue;
        this.#rawQueue = [];
        if (this.#pending.length > 0) {
          parts.push(maskedFrames(OP_TEXT, linePayloads(concat(this.#pending))));
          this.#pending = [];
        }
        const chunk = concat(parts);
        await writeAll(this.#conn, chunk);
      }
    } catch {
      if (!this.#closed) this.lost = true;
      this.close();
    } finally {
      this.#writing = false;
    }
  }

  /** Closes the connection (idempotent, without a closing handshake); a pending read then ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    this.#rawQueue = [];
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime.
    }
  }
}

/** Opens `count` WebSocket connections to `endpoint`, 50 at a time. Never rejects. */
export function connectAllWs(
  endpoint: WsEndpoint,
  count: number,
  options: { concurrency?: number; timeoutMs?: number; onProgress?: (done: number) => void } = {},
): Promise<ConnectResult<WsConn>> {
  return connectEach(count, (timeoutMs) => WsConn.connect(endpoint, timeoutMs), options);
}
