/**
 * One event for many recipients, encoded once per door. Fan-out hands the
 * same {@link Broadcast} to every member; each door asks it for its encoding
 * (text-line bytes, a JSON item, an IRC line...) and the first member of that
 * door pays for the encoding, the others share its result.
 *
 * @module
 */

import type { ServerEvent } from "./events.ts";

/** Turns an event into what one door sends: bytes for a socket, a string for a frame. */
export interface Encoder<T> {
  encode(event: ServerEvent): T;
}

/** An event and its encodings, one per encoder asked (most broadcasts meet one or two). */
export class Broadcast {
  #encoder: Encoder<unknown> | null = null;
  #encoded: unknown = undefined;
  #more: Map<Encoder<unknown>, unknown> | null = null;

  constructor(readonly event: ServerEvent) {}

  /** The event as `encoder` encodes it, computed on the first call for that encoder. */
  encoded<T>(encoder: Encoder<T>): T {
    if (this.#encoder === encoder) return this.#encoded as T;
    if (this.#encoder === null) {
      this.#encoder = encoder;
      return (this.#encoded = encoder.encode(this.event)) as T;
    }
    this.#more ??= new Map();
    let value = this.#more.get(encoder) as T | undefined;
    if (value === undefined) this.#more.set(encoder, value = encoder.encode(this.event));
    return value;
  }
}

/** What the core hands a client: one event, or a broadcast shared with others. */
export type Outgoing = ServerEvent | Broadcast;

/** The event inside `out`. */
export function eventOf(out: Outgoing): ServerEvent {
  return out instanceof Broadcast ? out.event : out;
}

/** `out` encoded by `encoder`: shared when it is a broadcast, fresh when it is one event. */
export function encodeWith<T>(out: Outgoing, encoder: Encoder<T>): T {
  return out instanceof Broadcast ? out.encoded(encoder) : encoder.encode(out);
}
