/**
 * From a codec's lines to what a door writes: bytes for a stream socket,
 * text for WebSocket frames. Each door makes its encoders once, at module
 * level: a `Broadcast` keeps one encoding per encoder object, so every
 * member of a door shares the bytes or the text its first member paid for.
 *
 * @module
 */

import type { Encoder } from "../core/broadcast.ts";
import type { ServerEvent } from "../core/events.ts";
import type { Codec } from "../protocol/codec.ts";
import { encodeShared } from "./arena.ts";

/**
 * A codec's lines as UTF-8 bytes for a byte stream, each line ended with
 * `lineEnd`: `\n` for the text protocol, `\r\n` for IRC (a codec's lines end
 * in `\n` and never hold a raw `\r`, so the door adds it).
 */
export function streamEncoder(codec: Codec, lineEnd: "\n" | "\r\n" = "\n"): Encoder<Uint8Array> {
  if (lineEnd === "\n") {
    return { encode: (event: ServerEvent) => encodeShared(codec.encode(event)) };
  }
  return {
    encode: (event: ServerEvent) => encodeShared(codec.encode(event).replaceAll("\n", "\r\n")),
  };
}

/**
 * A codec's lines as one WebSocket item: without the last `\n`, since the
 * items of a frame are joined with `\n` (an event of several lines stays
 * several lines).
 */
export function frameItemEncoder(codec: Codec): Encoder<string> {
  return { encode: (event: ServerEvent) => codec.encode(event).slice(0, -1) };
}

/**
 * A codec's lines one by one, without their `\n`: for a WebSocket that
 * carries one line per frame (IRC over WebSocket).
 */
export function frameLinesEncoder(codec: Codec): Encoder<readonly string[]> {
  return {
    encode: (event: ServerEvent) => {
      const lines = codec.encode(event);
      return lines === "" ? [] : lines.slice(0, -1).split("\n");
    },
  };
}
