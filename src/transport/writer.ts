/**
 * A per-connection outbound queue with a bound in bytes.
 *
 * At most one write is in flight; everything queued meanwhile leaves as one
 * joined write when it completes. A broadcast to a big room thus costs one
 * write per member per burst instead of one per line, and a member that reads
 * slowly only grows its own queue, which is cut off at `maxQueueBytes` (the
 * caller is told through `onOverflow` and disconnects the client): nobody else
 * waits for it.
 *
 * @module
 */

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

/** Bounded, coalescing writer. See the module doc. */
export class ConnWriter {
  readonly #sink: ByteSink;
  readonly #maxQueueBytes: number;
  readonly #events: WriterEvents;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #inFlightBytes = 0;
  #writing = false;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];

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
    if (this.pendingBytes + bytes.length > this.#maxQueueBytes) {
      this.stop();
      this.#events.onOverflow();
      return false;
    }
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
    if (!this.#writing) this.#pump();
    return true;
  }

  /** Resolves once nothing is queued or in flight (or the writer stopped). */
  idle(): Promise<void> {
    if (!this.#writing) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops accepting and drops what is queued; a write in flight finishes or fails. */
  stop(): void {
    this.#stopped = true;
    this.#queue = [];
    this.#queuedBytes = 0;
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#stopped) {
        const chunk = this.#takeAll();
        this.#inFlightBytes = chunk.length;
        let done = 0;
        while (done < chunk.length) {
          done += await this.#sink.write(done === 0 ? chunk : chunk.subarray(done));
        }
        this.#inFlightBytes = 0;
        this.#events.onWritten?.(chunk.length);
      }
    } catch (err) {
      this.#inFlightBytes = 0;
      if (!this.#stopped) {
        this.stop();
        this.#events.onError(err);
      }
    } finally {
      this.#writing = false;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Everything queued as one buffer: one write instead of many. */
  #takeAll(): Uint8Array {
    const queue = this.#queue;
    const total = this.#queuedBytes;
    this.#queue = [];
    this.#queuedBytes = 0;
    if (queue.length === 1) return queue[0];
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const part of queue) {
      joined.set(part, offset);
      offset += part.length;
    }
    return joined;
  }
}
