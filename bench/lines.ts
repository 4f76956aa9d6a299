/**
 * The benchmark's line format: building timestamped lines and finding the timestamp again in
 * whatever the server sends back.
 *
 * A benchmark line is `%T` + 16 hex digits of the send time (nanoseconds of `performance.now()`),
 * `%S` + 4 hex digits of the sender's number, padding `x` up to the requested size, and `\n`:
 *
 * ```
 * %T0000004a817c8000%S0003xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n
 * ```
 *
 * The server may wrap a line (`[lobby] guest-12: %T…`), so the parser looks for the marker
 * anywhere inside it. Everything works on bytes, without decoding to strings.
 *
 * @module
 */

/** The line terminator, `\n`. */
export const NEWLINE = 10;
/** `%`, first byte of both markers. */
const PERCENT = 0x25;
/** `T`, second byte of the timestamp marker. */
const MARK_T = 0x54;
/** `S`, second byte of the sender marker. */
const MARK_S = 0x53;
/** `x`, the padding byte. */
const PAD = 0x78;
/** Hex digits in the timestamp. */
const STAMP_DIGITS = 16;
/** Hex digits in the sender number. */
const SENDER_DIGITS = 4;
/** Offset of the sender marker from the timestamp marker. */
const SENDER_OFFSET = 2 + STAMP_DIGITS;
/** Length of `%T<16 hex>%S<4 hex>`. */
const HEADER_LENGTH = SENDER_OFFSET + 2 + SENDER_DIGITS;

/** Smallest line size (including `\n`) that holds a timestamp and a sender number. */
export const MIN_LINE_SIZE = HEADER_LENGTH + 1;
/** Largest sender number that fits in the line. */
export const MAX_SENDER = 16 ** SENDER_DIGITS - 1;

/** Lower-case hex digits as bytes. */
const HEX = new TextEncoder().encode("0123456789abcdef");

/** Value of a hex digit byte, or -1 (lower and upper case accepted). */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE[HEX[i]] = i;
for (let i = 10; i < 16; i++) HEX_VALUE["ABCDEF".charCodeAt(i - 10)] = i;

/** The benchmark clock: `performance.now()` in whole nanoseconds (monotonic, process-local). */
export function nowNs(): number {
  return Math.round(performance.now() * 1e6);
}

/** Writes `value` (0 <= value < 2^32) as 8 hex digits at `at`. */
function writeHex32(out: Uint8Array, at: number, value: number): void {
  for (let i = 7; i >= 0; i--) {
    out[at + i] = HEX[value & 15];
    value >>>= 4;
  }
}

/** Builds batches of identical-size lines for one sender. */
export class LineEncoder {
  readonly #size: number;
  readonly #template: Uint8Array;

  /**
   * @param size bytes per line including `\n`; at least {@link MIN_LINE_SIZE}
   * @param sender the sender's number, 0..{@link MAX_SENDER}, written into every line
   */
  constructor(size: number, sender: number) {
    if (!Number.isInteger(size) || size < MIN_LINE_SIZE) {
      throw new RangeError(`line size must be an integer >= ${MIN_LINE_SIZE}, got ${size}`);
    }
    if (!Number.isInteger(sender) || sender < 0 || sender > MAX_SENDER) {
      throw new RangeError(`sender must be an integer in 0..${MAX_SENDER}, got ${sender}`);
    }
    this.#size = size;
    const t = new Uint8Array(size).fill(PAD);
    t[0] = PERCENT;
    t[1] = MARK_T;
    t[SENDER_OFFSET] = PERCENT;
    t[SENDER_OFFSET + 1] = MARK_S;
    for (let i = SENDER_DIGITS - 1, v = sender; i >= 0; i--, v >>>= 4) {
      t[SENDER_OFFSET + 2 + i] = HEX[v & 15];
    }
    t[size - 1] = NEWLINE;
    this.#template = t;
  }

  /** Bytes per line including `\n`. */
  get size(): number {
    return this.#size;
  }

  /** `count` lines stamped with `stampNs`, back to back in one buffer (for one coalesced write). */
  encode(count: number, stampNs: number): Uint8Array {
    const t = this.#template;
    writeHex32(t, 2, Math.floor(stampNs / 2 ** 32));
    writeHex32(t, 10, stampNs >>> 0);
    const out = new Uint8Array(count * this.#size);
    for (let i = 0; i < count; i++) out.set(t, i * this.#size);
    return out;
  }
}

/**
 * Position of the timestamp marker `%T` followed by 16 hex digits in `buf[start, end)`, or -1.
 * The marker may be anywhere in the line (the server prefixes room and nick).
 */
export function findStamp(buf: Uint8Array, start: number, end: number): number {
  const last = end - 2 - STAMP_DIGITS;
  outer: for (let i = start; i <= last; i++) {
    if (buf[i] !== PERCENT || buf[i + 1] !== MARK_T) continue;
    for (let j = i + 2; j < i + 2 + STAMP_DIGITS; j++) {
      if (HEX_VALUE[buf[j]] < 0) continue outer;
    }
    return i;
  }
  return -1;
}

/** The send time (ns) of a line, given the marker position returned by {@link findStamp}. */
export function readStamp(buf: Uint8Array, at: number): number {
  let hi = 0;
  let lo = 0;
  for (let j = at + 2; j < at + 10; j++) hi = hi * 16 + HEX_VALUE[buf[j]];
  for (let j = at + 10; j < at + 18; j++) lo = lo * 16 + HEX_VALUE[buf[j]];
  return hi * 2 ** 32 + lo;
}

/**
 * The sender number that follows the timestamp at `at` (see {@link findStamp}), or -1 when the
 * line (which ends before `end`) carries none.
 */
export function readSender(buf: Uint8Array, at: number, end: number): number {
  const p = at + SENDER_OFFSET;
  if (p + 2 + SENDER_DIGITS > end || buf[p] !== PERCENT || buf[p + 1] !== MARK_S) return -1;
  let v = 0;
  for (let j = p + 2; j < p + 2 + SENDER_DIGITS; j++) {
    const d = HEX_VALUE[buf[j]];
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}
