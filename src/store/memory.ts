/**
 * History in process memory: a bounded ring per room. Nothing survives a
 * restart; it is the store for `--db :memory:` and for tests.
 *
 * @module
 */

import type { ChatMessage } from "../core/types.ts";
import type {
  HistoryStore,
  NewMessage,
  ReactResult,
  RecordKind,
  StoreHealth,
} from "../core/history.ts";

/**
 * One room's ring of recent messages, oldest first once unrolled. Slot i
 * holds id `firstId + i`: a deleted message leaves its slot empty (a
 * tombstone that reads skip), so positions stay arithmetic.
 */
class Ring {
  readonly items: (ChatMessage | undefined)[];
  start = 0;
  length = 0;
  lastId = 0;
  /** Slots holding a message (not a tombstone). */
  kept = 0;

  constructor(capacity: number) {
    this.items = new Array(capacity);
  }

  /** The id of slot 0. */
  get firstId(): number {
    return this.lastId - this.length + 1;
  }

  /** Adds a slot; returns the message it pushed out (undefined for none or a tombstone). */
  push(message: ChatMessage | undefined): ChatMessage | undefined {
    const capacity = this.items.length;
    if (message !== undefined) this.kept++;
    if (this.length < capacity) {
      this.items[(this.start + this.length) % capacity] = message;
      this.length++;
      return undefined;
    }
    const out = this.items[this.start];
    if (out !== undefined) this.kept--;
    this.items[this.start] = message;
    this.start = (this.start + 1) % capacity;
    return out;
  }

  /** The i-th slot, 0 being the oldest; undefined where a message was deleted. */
  at(i: number): ChatMessage | undefined {
    return this.items[(this.start + i) % this.items.length];
  }

  set(i: number, message: ChatMessage | undefined): void {
    this.kept += (message === undefined ? 0 : 1) - (this.at(i) === undefined ? 0 : 1);
    this.items[(this.start + i) % this.items.length] = message;
  }

  /** The slot of `id`, or -1 when it is not in the ring. */
  slot(id: number): number {
    const i = id - this.firstId;
    return Number.isInteger(i) && i >= 0 && i < this.length ? i : -1;
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
    // A new message has no edit or reactions, whatever the caller passed.
    const { edited: _edited, reactions: _reactions, ...fields } = message;
    const stored: ChatMessage = { ...fields, id: ++ring.lastId };
    if (stored.replyTo === undefined) delete stored.replyTo;
    this.#total++;
    if (ring.push(stored) !== undefined) this.#total--;
    return Promise.resolve(stored);
  }

  lastId(room: string): Promise<number> {
    return Promise.resolve(this.#rooms.get(room)?.lastId ?? 0);
  }

  recent(room: string, limit: number): Promise<ChatMessage[]> {
    const ring = this.#rooms.get(room);
    if (ring === undefined) return Promise.resolve([]);
    return Promise.resolve(this.#backwards(ring, ring.length, limit));
  }

  after(room: string, after: number, limit: number): Promise<ChatMessage[]> {
    const ring = this.#rooms.get(room);
    if (ring === undefined || ring.length === 0) return Promise.resolve([]);
    // Ids within a ring are consecutive, so the position is arithmetic.
    const from = Math.max(0, Math.floor(after) + 1 - ring.firstId);
    const out: ChatMessage[] = [];
    for (let i = from; i < ring.length && out.length < limit; i++) {
      const m = ring.at(i);
      if (m !== undefined) out.push(m);
    }
    return Promise.resolve(out);
  }

  before(room: string, before: number, limit: number): Promise<ChatMessage[]> {
    const ring = this.#rooms.get(room);
    if (ring === undefined || ring.length === 0) return Promise.resolve([]);
    const end = Math.min(ring.length, Math.max(0, Math.ceil(before) - ring.firstId));
    return Promise.resolve(this.#backwards(ring, end, limit));
  }

  idAtTime(room: string, ts: number): Promise<number> {
    const ring = this.#rooms.get(room);
    if (ring === undefined) return Promise.resolve(0);
    // Timestamps do not decrease along the ring: the last one at or before ts, by bisection.
    // Kept slots below lo are at or before ts, kept slots from hi on are after it.
    let lo = 0;
    let hi = ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      let j = mid;
      while (j < hi && ring.at(j) === undefined) j++;
      if (j < hi && ring.at(j)!.ts <= ts) lo = j + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0; i--) {
      const m = ring.at(i);
      if (m !== undefined) return Promise.resolve(m.id);
    }
    return Promise.resolve(0);
  }

  get(room: string, id: number): Promise<ChatMessage | null> {
    const ring = this.#rooms.get(room);
    const i = ring?.slot(id) ?? -1;
    return Promise.resolve(i < 0 ? null : ring!.at(i) ?? null);
  }

  /** Replaces the slot's object: messages already handed out do not change under their holder. */
  edit(room: string, id: number, text: string, ts: number): Promise<ChatMessage | null> {
    const ring = this.#rooms.get(room);
    const i = ring?.slot(id) ?? -1;
    const old = i < 0 ? undefined : ring!.at(i);
    if (old === undefined) return Promise.resolve(null);
    const edited: ChatMessage = { ...old, text, edited: ts };
    ring!.set(i, edited);
    return Promise.resolve(edited);
  }

  remove(room: string, id: number): Promise<boolean> {
    const ring = this.#rooms.get(room);
    const i = ring?.slot(id) ?? -1;
    if (i < 0 || ring!.at(i) === undefined) return Promise.resolve(false);
    ring!.set(i, undefined);
    this.#total--;
    return Promise.resolve(true);
  }

  react(
    room: string,
    id: number,
    emoji: string,
    nick: string,
    on: boolean,
  ): Promise<ReactResult | null> {
    const ring = this.#rooms.get(room);
    const i = ring?.slot(id) ?? -1;
    const old = i < 0 ? undefined : ring!.at(i);
    if (old === undefined) return Promise.resolve(null);
    // hasOwn: a reaction may be a word, "constructor" as well as anything else.
    const nicks = old.reactions !== undefined && Object.hasOwn(old.reactions, emoji)
      ? old.reactions[emoji]
      : [];
    if (nicks.includes(nick) === on) return Promise.resolve("unchanged");
    // Copied, not changed in place (see edit); an emoji without nicks goes.
    const list = on ? [...nicks, nick] : nicks.filter((n) => n !== nick);
    const reactions = { ...old.reactions, [emoji]: list };
    if (list.length === 0) delete reactions[emoji];
    const changed: ChatMessage = { ...old, reactions };
    if (Object.keys(reactions).length === 0) delete changed.reactions;
    ring!.set(i, changed);
    return Promise.resolve("changed");
  }

  countAfter(room: string, after: number): Promise<number> {
    const ring = this.#rooms.get(room);
    if (ring === undefined) return Promise.resolve(0);
    // All of them (every first visit's join): counted as the ring changes.
    if (Math.floor(after) < ring.firstId) return Promise.resolve(ring.kept);
    let n = 0;
    for (let i = Math.max(0, Math.floor(after) + 1 - ring.firstId); i < ring.length; i++) {
      if (ring.at(i) !== undefined) n++;
    }
    return Promise.resolve(n);
  }

  /** A scan of the rooms' rings, newest first, each stopping at `limit` matches. */
  search(rooms: string[], query: string, limit: number): Promise<ChatMessage[]> {
    const words = searchWords(query);
    if (words.length === 0 || limit < 1) return Promise.resolve([]);
    const found: ChatMessage[] = [];
    for (const room of new Set(rooms)) {
      const ring = this.#rooms.get(room);
      if (ring === undefined) continue;
      let n = 0;
      for (let i = ring.length - 1; i >= 0 && n < limit; i--) {
        const m = ring.at(i);
        if (m !== undefined && matches(m.text, words)) {
          found.push(m);
          n++;
        }
      }
    }
    found.sort((a, b) => b.ts - a.ts || b.id - a.id);
    return Promise.resolve(found.slice(0, Math.floor(limit)));
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

  /** The newest `limit` kept messages in slots below `end`, oldest first. */
  #backwards(ring: Ring, end: number, limit: number): ChatMessage[] {
    const out: ChatMessage[] = [];
    for (let i = end - 1; i >= 0 && out.length < Math.floor(limit); i--) {
      const m = ring.at(i);
      if (m !== undefined) out.push(m);
    }
    return out.reverse();
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

/** The words of a search query, lower-cased: what a matching text must all hold. */
export function searchWords(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter((w) => w !== "");
}

/** Whether `text` holds every one of `words` (from {@link searchWords}), case-insensitively. */
export function matches(text: string, words: string[]): boolean {
  const lower = text.toLowerCase();
  return words.every((w) => lower.includes(w));
}
