/**
 * History in process memory: a bounded ring per room. Nothing survives a
 * restart; it is the store for `--db :memory:` and for tests.
 *
 * @module
 */

import type { ChatMessage } from "../core/types.ts";
import type { HistoryStore, NewMessage, RecordKind, StoreHealth } from "../core/history.ts";

/** One room's ring of recent messages, oldest first once unrolled. */
class Ring {
  readonly items: (ChatMessage | undefined)[];
  start = 0;
  length = 0;
  lastId = 0;

  constructor(capacity: number) {
    this.items = new Array(capacity);
  }

  push(message: ChatMessage): void {
    const capacity = this.items.length;
    if (this.length < capacity) {
      this.items[(this.start + this.length) % capacity] = message;
      this.length++;
    } else {
      this.items[this.start] = message;
      this.start = (this.start + 1) % capacity;
    }
  }

  /** The i-th kept message, 0 being the oldest. */
  at(i: number): ChatMessage {
    return this.items[(this.start + i) % this.items.length]!;
  }
}

/** {@link HistoryStore} kept in memory, `historySize` messages per room. */
export class MemoryHistoryStore implements HistoryStore {
  readonly #rooms = new Map<string, Ring>();
  readonly #historySize: number;
  readonly #records = new Map<string, string>();
  #total = 0;

  constructor(historySize = 10_000) {
    if (!Number.isInteger(historySize) || historySize < 1) {
      throw new RangeError(`historySize must be a positive integer, got ${historySize}`);
    }
    this.#historySize = historySize;
  }

  append(message: NewMessage): Promise<ChatMessage> {
    let ring = this.#rooms.get(message.room);
    if (ring === undefined) {
      ring = new Ring(Math.min(this.#historySize, 4));
      this.#rooms.set(message.room, ring);
    }
    ring = this.#grow(message.room, ring);
    const stored: ChatMessage = { ...message, id: ++ring.lastId };
    if (ring.length < ring.items.length) this.#total++;
    ring.push(stored);
    return Promise.resolve(stored);
  }

  lastId(room: string): Promise<number> {
    return Promise.resolve(this.#rooms.get(room)?.lastId ?? 0);
  }

  recent(room: string, limit: number): Promise<ChatMessage[]> {
    const ring = this.#rooms.get(room);
    if (ring === undefined) return Promise.resolve([]);
    const n = Math.min(Math.floor(limit), ring.length);
    const out: ChatMessage[] = [];
    for (let i = ring.length - n; i < ring.length; i++) out.push(ring.at(i));
    return Promise.resolve(out);
  }

  after(room: string, after: number, limit: number): Promise<ChatMessage[]> {
    const ring = this.#rooms.get(room);
    if (ring === undefined || ring.length === 0) return Promise.resolve([]);
    // Ids within a ring are consecutive, so the position is arithmetic.
    const oldest = ring.at(0).id;
    const from = Math.max(0, Math.floor(after) + 1 - oldest);
    const out: ChatMessage[] = [];
    for (let i = from; i < ring.length && out.length < limit; i++) out.push(ring.at(i));
    return Promise.resolve(out);
  }

  before(room: string, before: number, limit: number): Promise<ChatMessage[]> {
    const ring = this.#rooms.get(room);
    if (ring === undefined || ring.length === 0 || limit < 1) return Promise.resolve([]);
    const oldest = ring.at(0).id;
    const end = Math.min(ring.length, Math.max(0, Math.ceil(before) - oldest));
    const out: ChatMessage[] = [];
    for (let i = Math.max(0, end - Math.floor(limit)); i < end; i++) out.push(ring.at(i));
    return Promise.resolve(out);
  }

  idAtTime(room: string, ts: number): Promise<number> {
    const ring = this.#rooms.get(room);
    if (ring === undefined) return Promise.resolve(0);
    // Timestamps do not decrease along the ring: the last one at or before ts, by bisection.
    let lo = 0;
    let hi = ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ring.at(mid).ts <= ts) lo = mid + 1;
      else hi = mid;
    }
    return Promise.resolve(lo === 0 ? 0 : ring.at(lo - 1).id);
  }

  getRecord(kind: RecordKind, key: string): Promise<string | null> {
    return Promise.resolve(this.#records.get(`${kind}:${key}`) ?? null);
  }

  putRecord(kind: RecordKind, key: string, value: string | null): Promise<void> {
    if (value === null) this.#records.delete(`${kind}:${key}`);
    else this.#records.set(`${kind}:${key}`, value);
    return Promise.resolve();
  }

  size(): number {
    return this.#total;
  }

  health(): StoreHealth {
    return { ok: true };
  }

  close(): Promise<void> {
    this.#rooms.clear();
    return Promise.resolve();
  }

  /**
   * Rings start small and double up to `historySize`, so many quiet rooms
   * do not each reserve the full capacity.
   */
  #grow(room: string, ring: Ring): Ring {
    if (ring.length < ring.items.length || ring.items.length >= this.#historySize) return ring;
    const bigger = new Ring(Math.min(this.#historySize, ring.items.length * 2));
    for (let i = 0; i < ring.length; i++) bigger.push(ring.at(i));
    bigger.lastId = ring.lastId;
    this.#rooms.set(room, bigger);
    return bigger;
  }
}
