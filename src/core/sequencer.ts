/**
 * Room messages in id order. The store numbers each room's messages with
 * consecutive ids; messages from other processes may arrive reordered or not
 * at all (pub/sub is at-most-once). The sequencer delivers each room's
 * messages in id order, once each: a gap that does not fill within
 * {@link GAP_WAIT_MS} is read from the shared history, and what is not there
 * either is skipped. With one process the messages come in order already and
 * pass straight through.
 *
 * @module
 */

import type { TimerHandle, Timers } from "./clock.ts";
import type { HistoryStore } from "./history.ts";
import type { Session } from "./session.ts";
import type { ChatMessage, Ref } from "./types.ts";

/** How long a gap in a room's message ids may stay open before it is read from history. */
export const GAP_WAIT_MS = 200;

/** A message to deliver, with the local sender and its request's ref (for its own copy). */
type Pending = [ChatMessage, Session?, Ref?];

/** Delivers a message to the room's members here. */
export type Deliver = (message: ChatMessage, sender?: Session, ref?: Ref) => void;

/** Per-room order of messages. */
export class RoomSequencer {
  readonly #store: HistoryStore;
  readonly #timers: Timers;
  readonly #deliver: Deliver;
  readonly #onError: (err: unknown) => void;
  /** Next message id expected per room. */
  readonly #nextIds = new Map<string, number>();
  /** Messages that came before the one expected. */
  readonly #early = new Map<string, Map<number, Pending>>();
  readonly #gapTimers = new Map<string, TimerHandle>();
  /** Rooms whose first local member just joined: their numbering is being read. */
  readonly #starting = new Set<string>();

  constructor(
    store: HistoryStore,
    timers: Timers,
    deliver: Deliver,
    onError: (err: unknown) => void,
  ) {
    this.#store = store;
    this.#timers = timers;
    this.#deliver = deliver;
    this.#onError = onError;
  }

  /**
   * A room just got its first local member: reads where its numbering
   * stands, holding the messages that arrive meanwhile. Every message
   * numbered after that point is delivered, in order, and none before.
   */
  start(room: string): void {
    this.#starting.add(room);
    this.#store.lastId(room).then((last) => {
      if (!this.#starting.delete(room)) return; // the room emptied meanwhile
      this.#nextIds.set(room, last + 1);
      const early = this.#early.get(room);
      if (early === undefined) return;
      this.#early.delete(room);
      for (const id of [...early.keys()].sort((a, b) => a - b)) {
        if (id > last) this.add(...early.get(id)!);
      }
    }, (err) => {
      // Without the numbering, the first message seen sets it.
      this.#starting.delete(room);
      this.#onError(err);
    });
  }

  /** The room has no local members any more. */
  forget(room: string): void {
    this.#starting.delete(room);
    this.#nextIds.delete(room);
    this.#early.delete(room);
    this.#clearGapTimer(room);
  }

  /** The last message id delivered in `room` here (0: none yet). */
  lastDelivered(room: string): number {
    return (this.#nextIds.get(room) ?? 1) - 1;
  }

  /** Stops the gap timers (shutdown). */
  stop(): void {
    for (const timer of this.#gapTimers.values()) this.#timers.clearTimeout(timer);
    this.#gapTimers.clear();
  }

  /** A numbered message, from this process (with its sender) or another. */
  add(message: ChatMessage, sender?: Session, ref?: Ref): void {
    const room = message.room;
    if (this.#starting.has(room)) return this.#hold(message, sender, ref);
    const next = this.#nextIds.get(room);
    if (next !== undefined && message.id < next) return; // delivered already
    if (next !== undefined && message.id > next) {
      this.#hold(message, sender, ref);
      if (!this.#gapTimers.has(room)) {
        this.#gapTimers.set(room, this.#timers.setTimeout(() => this.#fillGap(room), GAP_WAIT_MS));
      }
      return;
    }
    this.#deliver(message, sender, ref);
    this.#nextIds.set(room, message.id + 1);
    const early = this.#early.get(room);
    const following = early?.get(message.id + 1);
    if (following !== undefined) {
      early!.delete(message.id + 1);
      this.add(...following);
    } else if (early !== undefined && early.size === 0) {
      this.#early.delete(room);
      this.#clearGapTimer(room);
    }
  }

  /**
   * After the link to the other processes comes back: reads what each room
   * missed from the shared history, then accepts the numbering as it is now
   * (a Redis that lost its data numbers from 1 again).
   */
  async resync(): Promise<void> {
    for (const room of [...this.#nextIds.keys()]) {
      const next = this.#nextIds.get(room)!;
      const missing = await this.#store.after(room, next - 1, 1000).catch((err) => {
        this.#onError(err);
        return [];
      });
      for (const message of missing) this.add(message);
      if (missing.length === 0) this.forget(room);
    }
  }

  #hold(message: ChatMessage, sender?: Session, ref?: Ref): void {
    let early = this.#early.get(message.room);
    if (early === undefined) this.#early.set(message.room, early = new Map());
    early.set(message.id, [message, sender, ref]);
  }

  #clearGapTimer(room: string): void {
    const timer = this.#gapTimers.get(room);
    if (timer === undefined) return;
    this.#timers.clearTimeout(timer);
    this.#gapTimers.delete(room);
  }

  #fillGap(room: string): void {
    this.#gapTimers.delete(room);
    const next = this.#nextIds.get(room);
    const early = this.#early.get(room);
    if (next === undefined || early === undefined || early.size === 0) return;
    const first = Math.min(...early.keys());
    this.#store.after(room, next - 1, first - next).then((missing) => {
      for (const m of missing) this.add(m);
    }, this.#onError).finally(() => {
      // Whatever is still missing is gone: go on from the first message held.
      const stuck = this.#early.get(room);
      if (stuck === undefined || stuck.size === 0) return;
      const lowest = Math.min(...stuck.keys());
      const [message, sender, ref] = stuck.get(lowest)!;
      stuck.delete(lowest);
      this.#nextIds.set(room, lowest);
      this.add(message, sender, ref);
    });
  }
}
