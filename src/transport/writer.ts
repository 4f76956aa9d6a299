/**
 * A per-connection outbound queue with a bound, the {@link Outbox}, and the
 * {@link Link} that writes bytes on a socket.
 *
 * Each write costs about ten microseconds here whatever its size, so the
 * number of writes is what a busy server keeps down (see `flush.ts` for when
 * flushes run). An outbox has at most one write in flight; what is queued
 * meanwhile waits for the next flush and leaves joined.
 *
 * A member that reads slowly only grows its own queue, which is cut off at
 * `maxQueueBytes` (the caller is told through `onOverflow` and disconnects
 * the client): nobody else waits for it.
 *
 * @module
 */

import { contiguous } from "./arena.ts";
import { addBacklog } from "./backlog.ts";
import { type Flushable, noteWrite, scheduleFlush } from "./flush.ts";

export { BIG_ROUND, type Flushable, MAX_ROUND_WRITES, PACING_US, scheduleFlush } from "./flush.ts";

/** Where the bytes go: a `Deno.Conn` fits. `write` may write only part. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<number>;
}

/** Callbacks of a {@link ConnWriter}. */
export interface WriterEvents {
  /** The queue passed its bound; the outbox has stopped and dropped it. */
  onOverflow(): void;
  /** A write failed (peer gone); the outbox has stopped. */
  onError(err: unknown): void;
  /** Units handed to the medium (bytes, or a frame's UTF-16 units), for metrics. */
  onWritten?(units: number): void;
}

/**
 * How an {@link Outbox}'s items reach the peer: one door's medium (bytes on a
 * socket, text frames on a WebSocket).
 */
export interface Link<T> {
  /** What one item counts toward the bound: bytes, or UTF-16 units of a frame's text. */
  size(item: T): number;
  /** False while the medium cannot take anything (a WebSocket not open): the items wait. */
  ready(): boolean;
  /**
   * What the medium holds that the peer has not taken, beyond a write in
   * flight (a WebSocket's `bufferedAmount`): checked once per flush against
   * the same bound, since reading it may cost a call into the runtime.
   */
  backlog(): number;
  /**
   * Starts writing one flush's items, in order (joined into one write, or one
   * frame, or a frame each) and returns the number of writes started. Reports
   * the end to `done`, at once or when the write completes; until then the
   * outbox starts no other write.
   */
  send(items: T[], size: number, done: Delivery): number;
}

/** What a {@link Link} reports when a batch has left. */
export interface Delivery {
  /** The batch is written; `units` handed to the medium, for metrics. */
  sent(units: number): void;
  /** The write failed (peer gone). */
  failed(err: unknown): void;
}

/**
 * The empty queue every idle outbox shares (frozen: a push to it would throw);
 * a queue of its own is made by the first write after a flush.
 */
const EMPTY_QUEUE = Object.freeze([]) as unknown as never[];

/**
 * Bounded, coalescing queue of one connection's items (see the module doc),
 * whatever they are: it decides when and how many leave, its {@link Link}
 * how they are written. What an overflow, a failed write or a written batch
 * means is its subclass's business (its hooks), so the queue and its owner
 * are one object per connection, and one call on the hot path.
 */
export class Outbox<T> implements Flushable, Delivery {
  readonly #link: Link<T>;
  readonly #maxQueueBytes: number;
  #queue: T[] = EMPTY_QUEUE;
  #queuedBytes = 0;
  #inFlightBytes = 0;
  #writing = false;
  #scheduled = false;
  #stopped = false;
  #idleWaiters: (() => void)[] | null = null;

  constructor(link: Link<T>, maxQueueBytes: number) {
    this.#link = link;
    this.#maxQueueBytes = maxQueueBytes;
  }

  /** Units accepted but not yet written (queued plus in flight). */
  get pendingBytes(): number {
    return this.#queuedBytes + this.#inFlightBytes;
  }

  /** True once the outbox has stopped (overflow, error or {@link stop}). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Queues an item (never waits). It is kept, not copied: callers hand over
   * items they no longer change, which is what lets one encoded broadcast be
   * shared by every member. Returns false if the item was not accepted.
   */
  write(item: T): boolean {
    if (this.#stopped) return false;
    const size = this.#link.size(item);
    if (this.#queuedBytes + this.#inFlightBytes + size > this.#maxQueueBytes) {
      this.#overflow();
      return false;
    }
    if (this.#queue === EMPTY_QUEUE) this.#queue = [item];
    else this.#queue.push(item);
    this.#queuedBytes += size;
    addBacklog(size);
    if (!this.#writing) this.#schedule();
    return true;
  }

  /**
   * Starts writing everything queued, unless a write is in flight. Called by
   * the scheduler (or at once, to say goodbye); returns the number of writes
   * started.
   */
  flush(): number {
    this.#scheduled = false;
    if (this.#writing || this.#stopped || this.#queue.length === 0) {
      this.#settle();
      return 0;
    }
    const link = this.#link;
    if (!link.ready()) return 0;
    const size = this.#queuedBytes;
    if (size + link.backlog() > this.#maxQueueBytes) {
      this.#overflow();
      return 0;
    }
    const items = this.#queue;
    this.#queue = EMPTY_QUEUE;
    this.#queuedBytes = 0;
    this.#writing = true;
    this.#inFlightBytes = size;
    return link.send(items, size, this);
  }

  /** Resolves once nothing is queued or in flight (or the outbox stopped). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => (this.#idleWaiters ??= []).push(resolve));
  }

  /** Stops accepting and drops what is queued; a write in flight finishes or fails. */
  stop(): void {
    this.#stopped = true;
    addBacklog(-this.#queuedBytes);
    this.#queue = EMPTY_QUEUE;
    this.#queuedBytes = 0;
    this.#settle();
  }

  /** For the link: the batch in flight is written. */
  sent(units: number): void {
    this.#writing = false;
    addBacklog(-this.#inFlightBytes);
    this.#inFlightBytes = 0;
    this.onWritten(units);
    if (this.#queue.length > 0 && !this.#stopped) this.#schedule();
    else this.#settle();
  }

  /** For the link: the batch in flight could not be written. */
  failed(err: unknown): void {
    this.#writing = false;
    addBacklog(-this.#inFlightBytes);
    this.#inFlightBytes = 0;
    if (!this.#stopped) {
      this.stop();
      this.onError(err);
    }
    this.#settle();
  }

  /** The queue passed its bound; the outbox has stopped and dropped it. */
  protected onOverflow(): void {}

  /** A write failed (peer gone); the outbox has stopped. */
  protected onError(_err: unknown): void {}

  /** Units handed to the medium, for metrics. */
  protected onWritten(_units: number): void {}

  #overflow(): void {
    this.stop();
    this.onOverflow();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    scheduleFlush(this);
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
}

/**
 * Bytes on a stream socket: a flush's items leave as one write (joined, the
 * buffer shared with the previous member when the items are the same), a
 * partial write is continued with the rest.
 */
export class ByteLink implements Link<Uint8Array> {
  readonly #sink: ByteSink;

  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  size(bytes: Uint8Array): number {
    return bytes.length;
  }

  ready(): boolean {
    return true;
  }

  backlog(): number {
    return 0;
  }

  send(items: Uint8Array[], size: number, done: Delivery): number {
    const chunk = items.length === 1 ? items[0] : joinShared(items, size);
    noteWrite(chunk);
    this.#write(chunk, size, done);
    return 1;
  }

  /** Writes `chunk`, continuing after partial writes; `total` is for metrics. */
  #write(chunk: Uint8Array, total: number, done: Delivery): void {
    let written: Promise<number>;
    try {
      written = this.#sink.write(chunk);
    } catch (err) {
      // A closed resource can throw at once instead of rejecting.
      written = Promise.reject(err);
    }
    written.then(
      (n) => n < chunk.length ? this.#write(chunk.subarray(n), total, done) : done.sent(total),
      (err) => done.failed(err),
    );
  }
}

/**
 * A bounded, coalescing byte writer on a {@link ByteSink}: an {@link Outbox}
 * of bytes that reports to an events object.
 */
export class ConnWriter extends Outbox<Uint8Array> {
  readonly #events: WriterEvents;

  constructor(sink: ByteSink, maxQueueBytes: number, events: WriterEvents) {
    super(new ByteLink(sink), maxQueueBytes);
    this.#events = events;
  }

  protected override onOverflow(): void {
    this.#events.onOverflow();
  }

  protected override onError(err: unknown): void {
    this.#events.onError(err);
  }

  protected override onWritten(units: number): void {
    this.#events.onWritten?.(units);
  }
}

/** Whether two lists hold the very same arrays in the same order (no closure: a hot path). */
export function sameParts<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The parts most recently joined, and what they made. */
let lastParts: Uint8Array[] = [];
let lastJoined: Uint8Array = new Uint8Array(0);

/**
 * Joins `parts` into one buffer. The members of a room are flushed one after
 * another with the same broadcasts queued, the very same arrays in the same
 * order: the previous member's buffer is reused instead of allocating and
 * copying the same bytes once per member (in a room of thousands that was
 * most of a flush's cost: fresh pages to zero, then to copy into).
 */
function joinShared(parts: Uint8Array[], total: number): Uint8Array {
  if (sameParts(parts, lastParts)) return lastJoined;
  const joined = contiguous(parts, total) ?? copied(parts, total);
  lastParts = parts;
  lastJoined = joined;
  return joined;
}

/** `parts` copied into one new buffer. */
export function copied(parts: Uint8Array[], total: number): Uint8Array {
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
