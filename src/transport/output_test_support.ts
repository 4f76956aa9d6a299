/**
 * What the tests of a client's output share: a wait for the end-of-turn
 * flush, an encoder that counts its calls, and the events they send.
 *
 * @module
 */

import type { Encoder } from "../core/broadcast.ts";
import type { ServerEvent } from "../core/events.ts";

/** Decodes the bytes a stream encoder gave. */
export const text = new TextDecoder();

/** Long enough for the end-of-turn flush (and its pacing pause) to have run. */
export const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

/** An encoder that counts its calls. */
export function counting<T>(encoder: Encoder<T>): Encoder<T> & { calls: number } {
  const counted = {
    calls: 0,
    encode(event: ServerEvent): T {
      counted.calls++;
      return encoder.encode(event);
    },
  };
  return counted;
}

/** `nick` joined dev: the event most of the tests send. */
export const joined = (nick: string): ServerEvent => ({ type: "joined", room: "dev", nick });

/** A history event of one message in dev. */
export const HISTORY: Extract<ServerEvent, { type: "history" }> = {
  type: "history",
  room: "dev",
  messages: [{ room: "dev", nick: "a", text: "hi", id: 1, ts: 0, kind: "say" }],
};
