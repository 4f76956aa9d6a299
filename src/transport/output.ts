/**
 * The one way out to a client, whatever its door: a {@link ClientOutput}
 * takes the core's events (one event, or a broadcast shared by a room),
 * encodes them with the door's encoder, queues them (it is a bounded
 * {@link Outbox}) to leave as one write (or one frame) per flush, and
 * closes the connection politely, at once, or as too slow. What is particular
 * to a door (bytes on a socket, WebSocket frames and close codes) is its
 * {@link OutputSink}.
 *
 * @module
 */

import { type Encoder, encodeWith, eventOf, type Outgoing } from "../core/broadcast.ts";
import type { Stats } from "../core/stats.ts";
import type { ClientPort } from "../core/types.ts";
import { type Link, Outbox } from "./writer.ts";

/**
 * How a connection says goodbye where its medium has words for it (a
 * WebSocket close frame); a byte stream just closes.
 */
export interface Goodbye {
  code: number;
  reason: string;
}

/** A door's medium under a {@link ClientOutput}: how items are written, and how it closes. */
export interface OutputSink<T> extends Link<T> {
  /** Closes once `outbox` has written what it holds (the outbox takes nothing more). */
  end(outbox: Outbox<T>, goodbye?: Goodbye): void;
  /** Drops what `outbox` holds and closes now. */
  abort(outbox: Outbox<T>, goodbye?: Goodbye): void;
  /**
   * The client passed its bound and `outbox` has stopped: last words if the
   * peer can take them soon, then the close.
   */
  cutOff(outbox: Outbox<T>): void;
}

/** The door's connection behind a {@link ClientOutput}: told how the client's output ends. */
export interface OutputOwner {
  /** The client is being cut off as too slow (called from inside the send that overflowed). */
  onTooSlow(): void;
  /** The core closed the client (its port's `close`), before what is queued goes out. */
  onClose?(): void;
}

/** What a {@link ClientOutput} needs besides its sink and encoder. */
export interface OutputOptions {
  /** The bound on what is queued and not yet taken by the peer; past it the client is cut off. */
  maxQueueBytes: number;
  /** Counts events out, bytes out and slow consumers. */
  stats: Stats;
  /** Told when the client is cut off as too slow, or closed by the core. */
  owner: OutputOwner;
}

/**
 * One client's way out: bounded, coalescing, never waiting for the network.
 * The core's port to the client: doors hand it to the hub as it is (their
 * bookkeeping hears from it as its {@link OutputOwner}), and it is its own
 * {@link Outbox}: fan-out reaches a member's queue in one call.
 *
 * @example A TCP door's output
 * ```ts ignore
 * const out = new ClientOutput(new TcpSink(conn), TEXT_STREAM, { maxQueueBytes, stats, owner });
 * out.send({ type: "notice", text: "hello" }); // queued, written at the end of the turn
 * out.close();                                 // written, then closed
 * ```
 */
export class ClientOutput<T> extends Outbox<T> implements ClientPort {
  readonly #sink: OutputSink<T>;
  readonly #encoder: Encoder<T>;
  readonly #stats: Stats;
  readonly #owner: OutputOwner;
  #closing = false;
  #cut = false;
  /**
   * Timestamp (ms) of the oldest room message queued and not yet written; 0
   * for none. One observation per write, not per message: fan-out stays one
   * comparison per member.
   */
  #oldestMessageTs = 0;

  constructor(sink: OutputSink<T>, encoder: Encoder<T>, options: OutputOptions) {
    super(sink, options.maxQueueBytes);
    this.#sink = sink;
    this.#encoder = encoder;
    this.#stats = options.stats;
    this.#owner = options.owner;
  }

  /** True once a close has begun: nothing more is queued. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Queues an event, encoded by this door's encoder (once for all the members
   * of a broadcast). Dropped once a close has begun: a client told the server
   * is shutting down hears nothing after it.
   */
  send(out: Outgoing): void {
    if (this.#closing) return;
    const item = encodeWith(out, this.#encoder);
    // An event this door does not show (tags alone, on the text door) encodes to nothing.
    if ((item as { length: number }).length === 0) return;
    if (!super.write(item)) return;
    this.#stats.eventsOut++;
    if (this.#oldestMessageTs === 0) {
      const event = eventOf(out);
      if (event.type === "message") this.#oldestMessageTs = event.message.ts;
    }
  }

  /** Starts the write of what is queued, and times the oldest message in it. */
  override flush(): number {
    const writes = super.flush();
    if (writes > 0 && this.#oldestMessageTs !== 0) {
      // Message times are wall-clock milliseconds, taken when the line was handled.
      const seconds = Math.max(0, Date.now() - this.#oldestMessageTs) / 1000;
      this.#stats.deliveryLatency.observe(seconds);
      this.#oldestMessageTs = 0;
    }
    return writes;
  }

  /** Queues an item already encoded (echoed bytes, a fixed line); false if refused. */
  override write(item: T): boolean {
    return !this.#closing && super.write(item);
  }

  /** The core's close: what is queued is written, then the connection closes. */
  close(): void {
    this.#owner.onClose?.();
    this.closeAfterFlush();
  }

  /** Writes what is queued, then closes (with `goodbye` where the medium says one). */
  closeAfterFlush(goodbye?: Goodbye): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#sink.end(this, goodbye);
  }

  /** Drops what is queued and closes now. */
  forceClose(goodbye?: Goodbye): void {
    this.#closing = true;
    this.#sink.abort(this, goodbye);
  }

  /** The connection is gone already: drop what is queued, take nothing more. */
  discard(): void {
    this.#closing = true;
    this.stop();
  }

  // --- the outbox's hooks -----------------------------------------------------------------------

  protected override onOverflow(): void {
    if (this.#cut) return;
    this.#cut = true;
    this.#closing = true;
    this.#stats.slowConsumers++;
    this.#sink.cutOff(this);
    this.#owner.onTooSlow();
  }

  protected override onError(): void {
    this.forceClose();
  }

  protected override onWritten(units: number): void {
    this.#stats.bytesOut += units;
  }
}
