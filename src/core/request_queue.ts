/**
 * One client's requests, in order, within its flood budget.
 *
 * Each client's requests take effect in the order sent. Messages may be
 * stored concurrently (the store numbers and resolves them in order), but any
 * other request waits until the client's earlier work is done, so a client
 * that says a line and then leaves the room still sees its line first.
 *
 * Flood control in the manner of IRC servers' fakelag: a client over its
 * budget is slowed, not silenced. Its requests wait here, in order, and go
 * ahead as the budget refills; it is told once. What waits counts against a
 * bound (its bytes plus {@link WAITING_LINE_COST} a line): past it the client
 * is cut off ("excess flood").
 *
 * @module
 */

import type { TimerHandle, Timers } from "./clock.ts";
import type { FloodGate } from "./flood.ts";
import type { Command } from "./types.ts";
import type { ServerEvent } from "./events.ts";

/**
 * What a waiting line counts toward `--flood-max-waiting` beyond its own
 * bytes: roughly the memory a queued request takes, so that a flood of short
 * lines reaches the bound too.
 */
export const WAITING_LINE_COST = 64;

/** A request, the client's departure queued behind its requests, or a reply to send in order. */
export type Queued =
  | Command
  | { type: "gone"; message?: string }
  | { type: "reply"; event: ServerEvent };

/**
 * Who runs what the queue lets go; one runner serves every client's queue
 * (`owner` says whose), so an idle connection carries no closures.
 */
export interface QueueRunner<O> {
  /** Runs one item; a promise when it waits for the store (later items wait for it). */
  run(owner: O, item: Queued): Promise<unknown> | void;
  /** Whether `item` may run while this client's earlier messages are still being stored. */
  concurrent(item: Queued): boolean;
  /** The client went over its budget (told once until it catches up). */
  slowedDown(owner: O): void;
  /** What waits passed the bound. */
  flooded(owner: O): void;
  /** A run failed unexpectedly (a bug, not bad input). */
  failed(err: unknown): void;
}

/**
 * The empty backlog every idle queue shares: tens of thousands of idle
 * connections allocate no arrays until one of them has to wait. Frozen, so
 * a push to it would throw instead of leaking into the other queues.
 */
const NONE = Object.freeze([]) as unknown as never[];

/** A client's queue of requests. */
export class RequestQueue<O> {
  readonly #owner: O;
  readonly #runner: QueueRunner<O>;
  readonly #gate: FloodGate | null;
  readonly #maxWaiting: number;
  readonly #timers: Timers;
  #backlog: Queued[] = NONE;
  /** What each waiting item counts against the bound; -1 for what the budget does not meter. */
  #costs: number[] = NONE;
  /** Messages of this client still being stored. */
  #appending = 0;
  /** Other requests of this client still waiting for the store. */
  #blocking = 0;
  #waiting = 0;
  #toldSlowDown = false;
  #timer: TimerHandle | null = null;
  #stopped = false;
  #idle: (() => void)[] | null = null;

  constructor(
    owner: O,
    runner: QueueRunner<O>,
    gate: FloodGate | null,
    maxWaiting: number,
    timers: Timers,
  ) {
    this.#owner = owner;
    this.#runner = runner;
    this.#gate = gate;
    this.#maxWaiting = maxWaiting;
    this.#timers = timers;
  }

  /** Requests waiting behind unfinished ones or for the budget. */
  get pending(): number {
    return this.#backlog.length;
  }

  /** Whether this client's input is metered by a flood budget (not with `--no-limits`). */
  get metered(): boolean {
    return this.#gate !== null;
  }

  /**
   * Takes an item: it runs now if nothing before it is unfinished and the
   * budget allows, else it waits. `bytes` meters a request against the budget
   * (the client's lines); items without it (departures, replies) are not.
   */
  submit(item: Queued, bytes?: number): void {
    if (this.#stopped) return;
    if (this.#backlog.length > 0 || !this.#canRun(item)) return this.#wait(item, bytes);
    if (bytes !== undefined && this.#gate !== null) {
      const wait = this.#gate.admit(bytes);
      if (wait > 0) {
        this.#wait(item, bytes);
        return this.#slowDown(wait);
      }
    }
    this.#start(item);
  }

  /** Drops what waits and stops taking more (the client is gone). */
  stop(): void {
    this.#stopped = true;
    this.#backlog = NONE;
    this.#costs = NONE;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#notifyDrained();
  }

  /** Resolves once nothing waits (transports wait here before reading on). */
  drained(): Promise<void> {
    if (this.#backlog.length === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#idle ??= []).push(resolve));
  }

  #canRun(item: Queued): boolean {
    if (this.#blocking > 0) return false;
    return this.#runner.concurrent(item) || this.#appending === 0;
  }

  #wait(item: Queued, bytes: number | undefined): void {
    if (this.#backlog === NONE) {
      this.#backlog = [];
      this.#costs = [];
    }
    this.#backlog.push(item);
    if (bytes === undefined || this.#gate === null) {
      this.#costs.push(-1);
      return;
    }
    const cost = bytes + WAITING_LINE_COST;
    this.#costs.push(cost);
    this.#waiting += cost;
    // Slowed, it still sends: its waiting input passed the bound.
    if (this.#waiting > this.#maxWaiting) this.#runner.flooded(this.#owner);
  }

  /** Told once; the waiting requests resume as the budget refills. */
  #slowDown(waitMs: number): void {
    if (this.#stopped) return;
    if (!this.#toldSlowDown) {
      this.#toldSlowDown = true;
      this.#runner.slowedDown(this.#owner);
    }
    this.#timer ??= this.#timers.setTimeout(() => {
      this.#timer = null;
      this.#runBacklog();
    }, waitMs);
  }

  #start(item: Queued): void {
    const pending = this.#runner.run(this.#owner, item);
    if (pending === undefined) return;
    const concurrent = this.#runner.concurrent(item);
    if (concurrent) this.#appending++;
    else this.#blocking++;
    const finish = () => {
      if (concurrent) this.#appending--;
      else this.#blocking--;
      this.#runBacklog();
    };
    pending.then(finish, (err) => {
      finish();
      this.#runner.failed(err);
    });
  }

  #runBacklog(): void {
    // Read afresh each time round: a request that ends the client (stop) empties the queue.
    while (this.#backlog.length > 0 && this.#canRun(this.#backlog[0])) {
      const cost = this.#costs[0];
      if (cost >= 0 && this.#gate !== null) {
        const wait = this.#gate.admit(cost - WAITING_LINE_COST);
        if (wait > 0) return this.#slowDown(wait);
        this.#waiting -= cost;
      }
      this.#costs.shift();
      this.#start(this.#backlog.shift()!);
    }
    if (this.#backlog.length === 0) this.#toldSlowDown = false;
    this.#notifyDrained();
  }

  #notifyDrained(): void {
    if (this.#backlog.length > 0 || this.#idle === null) return;
    const waiters = this.#idle;
    this.#idle = null;
    for (const resolve of waiters) resolve();
  }
}
