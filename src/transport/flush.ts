/**
 * The scheduler that decides when connections' outboxes are written, shared
 * by every door (TCP and WebSocket alike).
 *
 * Each write costs about ten microseconds here whatever its size (the op, its
 * completion, the syscall), so the number of writes, not of bytes, is what a
 * busy server must keep down. Four rules do that:
 *
 * 1. Writes start at the end of the event-loop turn, never at once: all the
 *    output a turn queued for a connection (a burst of joins, several
 *    broadcasts) leaves as one write.
 * 2. At most one write per connection is in flight; what is queued meanwhile
 *    waits for the next flush and leaves joined.
 * 3. Flushes are paced by their own cost: after a flush that started W writes
 *    the next waits about W x {@link PACING_US} microseconds, and more when
 *    over {@link BIG_ROUND} of them carried the same bytes (a very big room).
 *    A quiet server flushes at once; a server fanning out to thousands of
 *    members batches more lines into each write instead of drowning in writes.
 * 4. A round starts at most {@link MAX_ROUND_WRITES} different writes.
 *
 * Rule 2 and the queues themselves are the `Outbox`'s (`writer.ts`).
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** Pause after a flush per write it started, in microseconds (see rule 3). */
export const PACING_US = 10;
/** Members sent the same bytes in one flush round above which the pause grows faster. */
export const BIG_ROUND = 1000;

/**
 * Different writes one flush round starts at most; the rest wait for the next
 * round. The runtime performs a round's writes together after it, and
 * delivers their completions after the last: a round of 10,000 connections
 * (many small rooms, each member with a line) kept every one of them waiting
 * for the whole batch, which synchronised the connections into ever bigger
 * rounds (0.5 s apart with 10,000 clients at 2 lines/s). Writes repeating the
 * previous member's bytes (a big room) do not count.
 */
export const MAX_ROUND_WRITES = 256;

/** Something with output to start at the end of the turn (an `Outbox`). */
export interface Flushable {
  /** Starts writing what is pending; returns the number of writes started. */
  flush(): number;
}

/** Starts the writes of every connection with pending output, once per turn. */
class FlushScheduler {
  #dirty: Flushable[] = [];
  /** Index in {@link #dirty} of the first writer not yet flushed. */
  #head = 0;
  #pending = false;
  /** `performance.now()` before which the next flush should not start. */
  #notBefore = 0;

  add(writer: Flushable): void {
    this.#dirty.push(writer);
    this.#wake();
  }

  #wake(): void {
    if (this.#pending) return;
    this.#pending = true;
    // `setImmediate` runs after every I/O callback and microtask of the
    // current turn, so the turn's output is all queued by then; it costs
    // microseconds where `setTimeout(0)` costs a millisecond or more.
    const wait = this.#notBefore - performance.now();
    if (wait >= 1) setTimeout(this.#flush, wait);
    else setImmediate(this.#flush);
  }

  #flush = (): void => {
    this.#pending = false;
    const dirty = this.#dirty;
    let writes = 0;
    round.last = null;
    round.repeats = 0;
    let i = this.#head;
    // Every write started either repeated the previous member's bytes or is a different one.
    for (; i < dirty.length && writes - round.repeats < MAX_ROUND_WRITES; i++) {
      writes += dirty[i].flush();
    }
    if (i < dirty.length) {
      this.#head = i;
    } else {
      this.#dirty = [];
      this.#head = 0;
    }
    // A round that wrote the same bytes to more than BIG_ROUND members (a room
    // of thousands) waits more than linearly: at a modest rate each such round
    // would otherwise carry a line or two per member, and the writes alone
    // would fill the core.
    const pacing = writes * PACING_US * Math.max(1, round.repeats / BIG_ROUND);
    this.#notBefore = performance.now() + pacing / 1000;
    if (this.#head > 0) this.#wake();
  };
}

const scheduler = new FlushScheduler();

/** The current flush round: what was last written, and how many writes repeated it. */
const round: { last: object | null; repeats: number } = { last: null, repeats: 0 };

/** Has `target.flush()` called at the end of this turn, paced like every other flush. */
export function scheduleFlush(target: Flushable): void {
  scheduler.add(target);
}

/**
 * Tells the round a write of `chunk` is starting: the very same chunk as the
 * previous write (every member of a big room) counts as a repeat, which rule
 * 4 does not count and rule 3 paces.
 */
export function noteWrite(chunk: object): void {
  if (chunk === round.last) round.repeats++;
  round.last = chunk;
}
