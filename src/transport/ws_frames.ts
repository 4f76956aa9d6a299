/**
 * RFC 6455 framing, for the WebSocket connections the server upgrades on its
 * own listener (`ws_socket.ts`): a client's frames parsed out of the bytes
 * read (masked, as the RFC requires of clients), the server's frames
 * encoded (unmasked, never fragmented). No extensions are negotiated, so a
 * frame with a reserved bit set is a protocol error.
 *
 * @module
 */

import { copied } from "./writer.ts";

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** One frame from the peer, unmasked. */
export interface Frame {
  fin: boolean;
  opcode: number;
  /** Empty when `tooBig`. */
  payload: Uint8Array;
  /** Past the largest payload taken: its bytes are skipped as they come, never held. */
  tooBig?: boolean;
}

const EMPTY = new Uint8Array(0);

/** Why a peer's bytes cannot be a frame: the close code and reason to answer with. */
export class FrameError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/**
 * Frames out of a peer's bytes, which arrive in any cuts: `push` the bytes
 * of each read, then `next` until it returns null. Holds only what a frame
 * cut across reads needs; an idle connection holds nothing.
 */
export class FrameParser {
  readonly #maxPayload: number;
  /** Bytes not yet made into frames, as read: joined only once a frame's bytes are all there. */
  #parts: Uint8Array[] = [];
  #size = 0;
  /** How many bytes the next step needs (the header's, then the whole frame's). */
  #need = 2;
  /** Bytes of a frame too big to hold still to be skipped. */
  #skip = 0;

  /** `maxPayload`: the largest payload held; a bigger data frame comes out `tooBig`. */
  constructor(maxPayload: number) {
    this.#maxPayload = maxPayload;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#parts.push(bytes);
    this.#size += bytes.length;
  }

  /** The next whole frame, or null until more bytes come; throws {@link FrameError}. */
  next(): Frame | null {
    if (this.#skip > 0 && !this.#skipped()) return null;
    if (this.#size < this.#need) return null;
    const parts = this.#parts;
    const b = parts.length === 1 ? parts[0] : copied(parts, this.#size);
    if (parts.length > 1) this.#parts = [b];
    const frame = this.#parse(b);
    if (frame === null) return null;
    this.#need = 2;
    return frame;
  }

  #parse(b: Uint8Array): Frame | null {
    const first = b[0], second = b[1];
    if ((first & 0x70) !== 0) throw new FrameError(1002, "reserved bits set");
    const opcode = first & 0x0f;
    const fin = (first & 0x80) !== 0;
    if ((second & 0x80) === 0) throw new FrameError(1002, "client frames must be masked");
    let length = second & 0x7f;
    let at = 2;
    if (opcode >= OP_CLOSE) {
      if (opcode > OP_PONG) throw new FrameError(1002, `unknown opcode ${opcode}`);
      if (!fin || length > 125) throw new FrameError(1002, "bad control frame");
    } else if (opcode > OP_BINARY) throw new FrameError(1002, `unknown opcode ${opcode}`);
    if (length === 126) {
      if (b.length < 4) return this.#wait(4);
      length = (b[2] << 8) | b[3];
      at = 4;
    } else if (length === 127) {
      if (b.length < 10) return this.#wait(10);
      // Lengths of 2^32 and more are refused outright, not skipped.
      if (b[2] | b[3] | b[4] | b[5]) throw new FrameError(1009, "frame too big");
      length = ((b[6] << 24) >>> 0) + ((b[7] << 16) | (b[8] << 8) | b[9]);
      at = 10;
    }
    if (length > this.#maxPayload) {
      // Only data frames can be this long (control frames are at most 125 bytes).
      this.#skip = at + 4 + length;
      this.#skipped();
      return { fin, opcode, payload: EMPTY, tooBig: true };
    }
    const end = at + 4 + length;
    if (b.length < end) return this.#wait(end);
    const payload = b.subarray(at + 4, end);
    const m0 = b[at], m1 = b[at + 1], m2 = b[at + 2], m3 = b[at + 3];
    for (let i = 0; i < length; i += 4) {
      payload[i] ^= m0;
      if (i + 1 < length) payload[i + 1] ^= m1;
      if (i + 2 < length) payload[i + 2] ^= m2;
      if (i + 3 < length) payload[i + 3] ^= m3;
    }
    if (end === b.length) this.#parts = [];
    else this.#parts = [b.subarray(end)];
    this.#size = b.length - end;
    return { fin, opcode, payload };
  }

  /** Drops what is held of a frame being skipped; true once all of it is gone. */
  #skipped(): boolean {
    const drop = Math.min(this.#skip, this.#size);
    this.#skip -= drop;
    this.#size -= drop;
    this.#need = 2;
    if (this.#size === 0) this.#parts = [];
    else {
      const b = this.#parts.length === 1 ? this.#parts[0] : copied(this.#parts, this.#size + drop);
      this.#parts = [b.subarray(drop)];
    }
    return this.#skip === 0;
  }

  #wait(need: number): null {
    this.#need = need;
    return null;
  }
}

/** The header of an unmasked, final frame of `length` bytes: 2, 4 or 10 bytes. */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10;
}

function writeHeader(out: Uint8Array, opcode: number, length: number): number {
  out[0] = 0x80 | opcode;
  if (length < 126) {
    out[1] = length;
    return 2;
  }
  if (length < 0x10000) {
    out[1] = 126;
    out[2] = length >>> 8;
    out[3] = length & 0xff;
    return 4;
  }
  out[1] = 127;
  out[2] =
    out[3] =
    out[4] =
    out[5] =
      0;
  out[6] = length >>> 24;
  out[7] = (length >>> 16) & 0xff;
  out[8] = (length >>> 8) & 0xff;
  out[9] = length & 0xff;
  return 10;
}

const utf8 = new TextEncoder();

/** A final frame of `payload`. */
export function encodeFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(headerLength(payload.length) + payload.length);
  out.set(payload, writeHeader(out, opcode, payload.length));
  return out;
}

/**
 * A text frame of `text`, encoded straight behind its header: the UTF-8
 * length is known only after encoding, so room is made for the longest it
 * can be and the header is written once it is known.
 */
export function encodeTextFrame(text: string): Uint8Array {
  const most = text.length * 3;
  const room = headerLength(most);
  const out = new Uint8Array(room + most);
  const { written } = utf8.encodeInto(text, out.subarray(room));
  const header = headerLength(written);
  writeHeader(out.subarray(room - header), OP_TEXT, written);
  const frame = out.subarray(room - header, room + written);
  // A big frame of mostly ASCII would keep up to three times its size until written: copy it.
  return out.length > SPARE_FROM && frame.length * 2 < out.length ? frame.slice() : frame;
}

/** Frames' buffers above this size are cut to what they hold (see {@link encodeTextFrame}). */
const SPARE_FROM = 64 * 1024;

/** A close frame's payload: the code, then the reason (cut to fit in 123 bytes). */
export function closePayload(code: number, reason: string): Uint8Array {
  const text = utf8.encode(reason);
  let cut = Math.min(text.length, 123);
  // Never cut inside a character: continuation bytes are 10xxxxxx.
  while (cut < text.length && cut > 0 && (text[cut] & 0xc0) === 0x80) cut--;
  const out = new Uint8Array(2 + cut);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text.subarray(0, cut), 2);
  return out;
}

/** The code and reason of a close frame's payload (1005, none given, when it is empty). */
export function parseClose(payload: Uint8Array): { code: number; reason: string } {
  if (payload.length === 0) return { code: 1005, reason: "" };
  if (payload.length === 1) throw new FrameError(1002, "bad close frame");
  const code = (payload[0] << 8) | payload[1];
  const valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
  if (!valid) throw new FrameError(1002, `bad close code ${code}`);
  return { code, reason: strictUtf8(payload.subarray(2)) };
}

const strict = new TextDecoder("utf-8", { fatal: true });

/** `bytes` as text; a {@link FrameError} 1007 if they are not UTF-8. */
export function strictUtf8(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    throw new FrameError(1007, "text is not UTF-8");
  }
}
