/**
 * Counters the server keeps about itself, read by logs and metrics. Plain
 * numbers bumped on the hot path; no allocation per event.
 *
 * @module
 */

/** Why an inbound line was refused before it reached the hub. */
export type RejectReason = "too_long" | "invalid_utf8";

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

  connectionOpened(transport: string): void {
    this.connections.set(transport, (this.connections.get(transport) ?? 0) + 1);
  }

  connectionClosed(transport: string): void {
    this.connections.set(transport, (this.connections.get(transport) ?? 1) - 1);
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
