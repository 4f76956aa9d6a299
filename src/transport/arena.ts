/**
 * UTF-8 encoding into views of a shared, append-only buffer.
 *
 * Whatever the server encodes for sockets (a room's broadcast, a reply)
 * goes into the current 64 KiB chunk, one after another, and a new chunk
 * starts when it is full; nothing is ever written over, and a chunk is freed
 * once no queue holds a view of it. Two things follow:
 *
 * - One allocation per chunk instead of one `ArrayBuffer` per line (each a
 *   backing store for the garbage collector to track).
 * - A member's queued lines are usually consecutive views of one chunk (the
 *   broadcasts of its room, in order), so a flush joins them without
 *   copying: {@link contiguous} gives one view over them. Members of a room
 *   whose queues drifted apart (one had a write in flight and missed a round)
 *   each get their own view instead of their own copy, which in a busy room
 *   made every flush copy the room's traffic once per member.
 *
 * @module
 */

const CHUNK_BYTES = 64 * 1024;
/** Longer text gets a buffer of its own (so a chunk holds at least 16 such lines). */
const OWN_BUFFER_UNITS = CHUNK_BYTES / 16 / 3;

const utf8 = new TextEncoder();
let chunk = new Uint8Array(CHUNK_BYTES);
let used = 0;

/** Encodes `text` as UTF-8; the view returned must not be written to. */
export function encodeShared(text: string): Uint8Array {
  if (text.length > OWN_BUFFER_UNITS) return utf8.encode(text);
  // At most 3 bytes per UTF-16 unit: make sure the whole text fits.
  if (used + text.length * 3 > CHUNK_BYTES) {
    chunk = new Uint8Array(CHUNK_BYTES);
    used = 0;
  }
  const start = used;
  used += utf8.encodeInto(text, chunk.subarray(start)).written;
  return chunk.subarray(start, used);
}

/**
 * One view over `parts` when they lie back to back in one buffer, in order
 * (as consecutive {@link encodeShared} results do); null otherwise.
 */
export function contiguous(
  parts: readonly Uint8Array[],
  total: number,
): Uint8Array<ArrayBuffer> | null {
  const first = parts[0];
  const buffer = first.buffer as ArrayBuffer;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i];
    if (part.buffer !== buffer || part.byteOffset !== end) return null;
    end += part.length;
  }
  return new Uint8Array(buffer, first.byteOffset, total);
}
