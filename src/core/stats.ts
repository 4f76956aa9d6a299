/**
 * Counters the server keeps about itself, read by logs and metrics. Plain
 * numbers bumped on the hot path; no allocation per event.
 *
 * @module
 */

/** Why an inbound line was refused before it reached the hub. */
export type RejectReason = "too_long" | "invalid_utf8";

/** Why a connection was refused before it was served. */
export type RefusalReason = "server_full" | "per_address" | "new_per_minute" | "origin";

/** Which password was wrong: `/pass`, `/admin`, a nick's, `/login` (and IRC SASL), a room key. */
export type LoginKind = "pass" | "admin" | "nick" | "login" | "room";

/** Why a client was disconnected for what it sent or did not read. */
export type FloodReason = "excess_flood" | "too_slow";

/**
 * Upper bounds (seconds) of the delivery latency buckets: fixed, so observing
 * is a short scan and a counter bump, with no allocation.
 */
export const LATENCY_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
] as const;

/** A Prometheus histogram with fixed buckets: counts per bucket (not cumulative), sum, count. */
export class Histogram {
  /** One count per bucket of `bounds`, and a last one for +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/** Process-wide counters. */
export class Stats {
  /** Chat messages accepted (say, action, dm). */
  messagesIn = 0;
  /** Events handed to clients' queues. */
  eventsOut = 0;
  /** Bytes handed to sockets. */
  bytesOut = 0;
  /** Clients cut off because their outbound queue passed its bound. */
  slowConsumers = 0;
  /** Inbound lines refused, by reason. */
  readonly rejected: Record<RejectReason, number> = { too_long: 0, invalid_utf8: 0 };
  /** Open connections by transport. */
  readonly connections = new Map<string, number>();
  /** Connections refused before they were served, by reason. */
  readonly refused: Record<RefusalReason, number> = {
    server_full: 0,
    per_address: 0,
    new_per_minute: 0,
    origin: 0,
  };
  /** Clients disconnected as excess flood ({@link slowConsumers} counts the too slow). */
  excessFlood = 0;
  /** Wrong passwords, by which password. */
  readonly loginFailures: Record<LoginKind, number> = {
    pass: 0,
    admin: 0,
    nick: 0,
    login: 0,
    room: 0,
  };
  /**
   * Seconds from a room message's timestamp (taken when the server handled
   * the line) to the start of the write that carries it, once per member and
   * write (the oldest message of the write).
   */
  readonly deliveryLatency = new Histogram(LATENCY_BUCKETS);
  /** How late a 20 ms timer fired: the event loop's stalls (`transport/loop_lag.ts`). */
  readonly loopLag = new Histogram(LATENCY_BUCKETS);
  /** Memory-reducing collections run after a burst (`server/memory_trim.ts`). */
  memoryTrims = 0;
  /** Connections opened and closed so far, for {@link events}. */
  #connectionChanges = 0;

  /** A connection refused by the connection limiter (its refusal text) or for its origin. */
  connectionRefused(refusal: string): void {
    const reason: RefusalReason = refusal.startsWith("server full")
      ? "server_full"
      : refusal.startsWith("too many new")
      ? "new_per_minute"
      : refusal.startsWith("too many connections")
      ? "per_address"
      : "origin";
    this.refused[reason]++;
  }

  connectionOpened(transport: string): void {
    this.connections.set(transport, (this.connections.get(transport) ?? 0) + 1);
    this.#connectionChanges++;
  }

  connectionClosed(transport: string): void {
    this.connections.set(transport, (this.connections.get(transport) ?? 1) - 1);
    this.#connectionChanges++;
  }

  /**
   * A figure that moves with every chat message in and every connection
   * opened or closed (bytes written are {@link bytesOut}).
   */
  events(): number {
    return this.messagesIn + this.#connectionChanges;
  }

  /** Counters at the previous {@link rates} call. */
  #sample: { at: number; messagesIn: number; eventsOut: number } | null = null;

  /**
   * Messages in and events out per second since the previous call (the first
   * call: since `since`, when the counters were 0), and over how many seconds.
   */
  rates(now: number, since: number): {
    messagesPerSecond: number;
    eventsPerSecond: number;
    seconds: number;
  } {
    const last = this.#sample ?? { at: since, messagesIn: 0, eventsOut: 0 };
    const seconds = Math.max((now - last.at) / 1000, 0.001);
    this.#sample = { at: now, messagesIn: this.messagesIn, eventsOut: this.eventsOut };
    return {
      messagesPerSecond: (this.messagesIn - last.messagesIn) / seconds,
      eventsPerSecond: (this.eventsOut - last.eventsOut) / seconds,
      seconds: Math.round(seconds),
    };
  }

  /** Open connections, all transports together. */
  openConnections(): number {
    let n = 0;
    for (const v of this.connections.values()) n += v;
    return n;
  }
}
