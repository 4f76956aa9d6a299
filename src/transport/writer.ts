/**
 * A per-connection outbound queue with a bound in bytes, and the scheduler
 * that decides when queues are written.
 *
 * Each write costs about ten microseconds here whatever its size (the op, its
 * completion, the syscall), so the number of writes, not of bytes, is what a
 * busy server must keep down. Three rules do that:
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
 * A member that reads slowly only grows its own queue, which is cut off at
 * `maxQueueBytes` (the caller is told through `onOverflow` and disconnects
 * the client): nobody else waits for it.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** Where the bytes go: a `Deno.Conn` fits. `write` may write only part. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<number>;
}

/** Callbacks of a {@link ConnWriter}. */
export interface WriterEvents {
  /** The queue passed its bound; the writer has stopped and dropped it. */
  onOverflow(): void;
  /** A write failed (peer gone); the writer has stopped. */
  onError(err: unknown): void;
  /** Bytes handed to the sink, for metrics. */
  onWritten?(bytes: number): void;
}

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

/** Something with output to start at the end of the turn (a TCP writer, a WebSocket queue). */
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

/** The current flush round: the bytes last written, and how many writes repeated them. */
const round: { last: Uint8Array | null; repeats: number } = { last: null, repeats: 0 };

/** Has `target.flush()` called at the end of this turn, paced like every other flush. */
export function scheduleFlush(target: Flushable): void {
  scheduler.add(target);
}

/** Bounded, coalescing writer. See the module doc. */
export class ConnWriter implements Flushable {
  readonly #sink: ByteSink;
  readonly #maxQueueBytes: number;
  readonly #events: WriterEvents;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #inFlightBytes = 0;
  #writing = false;
  #scheduled = false;
  #stopped = false;
  #idleWaiters: (() => void)[] | null = null;

  constructor(sink: ByteSink, maxQueueBytes: number, events: WriterEvents) {
    this.#sink = sink;
    this.#maxQueueBytes = maxQueueBytes;
    this.#events = events;
  }

  /** Bytes accepted but not yet written (queued plus in flight). */
  get pendingBytes(): number {
    return this.#queuedBytes + this.#inFlightBytes;
  }

  /** True once the writer has stopped (overflow, error or {@link stop}). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Queues bytes (never waits). The array is kept, not copied: callers hand
   * over buffers they no longer change, which is what lets one encoded
   * broadcast be shared by every member. Returns false if the bytes were not
   * accepted.
   */
  write(bytes: Uint8Array): boolean {
    if (this.#stopped) return false;
    if (this.#queuedBytes + this.#inFlightBytes + bytes.length > this.#maxQueueBytes) {
      this.stop();
      this.#events.onOverflow();
      return false;
    }
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
    if (!this.#writing) this.#schedule();
    return true;
  }

  /**
   * Starts writing everything queued as one write, unless a write is in
   * flight. Called by the scheduler; returns the number of writes started.
   */
  flush(): number {
    this.#scheduled = false;
    if (this.#writing || this.#stopped || this.#queue.length === 0) {
      this.#settle();
      return 0;
    }
    const chunk = this.#takeAll();
    if (chunk === round.last) round.repeats++;
    round.last = chunk;
    this.#writing = true;
    this.#inFlightBytes = chunk.length;
    this.#send(chunk, chunk.length);
    return 1;
  }

  /** Resolves once nothing is queued or in flight (or the writer stopped). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => (this.#idleWaiters ??= []).push(resolve));
  }

  /** Stops accepting and drops what is queued; a write in flight finishes or fails. */
  stop(): void {
    this.#stopped = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#settle();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    scheduler.add(this);
  }

  /** Writes `chunk`, continuing after partial writes; `total` is for metrics. */
  #send(chunk: Uint8Array, total: number): void {
    let written: Promise<number>;
    try {
      written = this.#sink.write(chunk);
    } catch (err) {
      // A closed resource can throw at once instead of rejecting.
      written = Promise.reject(err);
    }
    written.then(
      (n) => {
        if (n < chunk.length) return this.#send(chunk.subarray(n), total);
        this.#writing = false;
        this.#inFlightBytes = 0;
        this.#events.onWritten?.(total);
        if (this.#queue.length > 0 && !this.#stopped) this.#schedule();
        else this.#settle();
      },
      (err) => {
        this.#writing = false;
        this.#inFlightBytes = 0;
        if (!this.#stopped) {
          this.stop();
          this.#events.onError(err);
        }
        this.#settle();
      },
    );
  }

  #isIdle(): boolean {
    return !this.#writing && (this.#queue.length === 0 || this.#stopped);
  }

  /** Wakes {@link idle} waiters once nothing more will be written. */
  #settle(): void {
    if (this.#idleWaiters === null || !this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = null;
    for (const resolve of waiters) resolve();
  }

  /** Everything queued as one buffer: one write instead of many. */
  #takeAll(): Uint8Array {
    const queue = this.#queue;
    const total = this.#queuedBytes;
    this.#queue = [];
    this.#queuedBytes = 0;
    if (queue.length === 1) return queue[0];
    return joinShared(queue, total);
  }
}

/** Whether two lists hold the very same arrays in the same order (no closure: a hot path). */
function sameParts(a: Uint8Array[], b: Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The parts most recently joined, and what they made. */
let lastParts: Uint8Array[] = [];
let lastJoined = new Uint8Array(0);

/**
 * Joins `parts` into one buffer. The members of a room are flushed one after
 * another with the same broadcasts queued, the very same arrays in the same
 * order: the previous member's buffer is reused instead of allocating and
 * copying the same bytes once per member (in a room of thousands that was
 * most of a flush's cost: fresh pages to zero, then to copy into).
 */
function joinShared(parts: Uint8Array[], total: number): Uint8Array {
  if (sameParts(parts, lastParts)) return lastJoined;
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  lastParts = parts;
  lastJoined = joined;
  return joined;
}
