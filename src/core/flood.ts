/**
 * Flood control in the spirit of IRC servers' fakelag: a token bucket on
 * lines and one on bytes per connection. A client over its budget is slowed,
 * not silenced: its requests wait, in order, until the buckets refill.
 *
 * @module
 */

/** Flood control settings; defaults live in `config.ts`. */
export interface FloodLimits {
  /** Lines a client may send at once, then `lineRate` per second. */
  lineBurst: number;
  lineRate: number;
  /** Bytes a client may send at once, then `byteRate` per second. */
  byteBurst: number;
  byteRate: number;
  /** Input a slowed client may have waiting before it is disconnected ("excess flood"). */
  maxWaitingBytes: number;
}

/** A token bucket: `burst` tokens, refilled at `rate` per second. */
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(readonly burst: number, readonly rate: number, private readonly now: () => number) {
    this.#tokens = burst;
    this.#at = now();
  }

  /**
   * Takes `n` tokens if there are enough and returns 0; otherwise takes
   * nothing and returns the milliseconds until there will be.
   */
  take(n: number): number {
    this.#refill();
    const cost = Math.min(n, this.burst); // a request bigger than the burst waits for a full bucket
    if (this.#tokens >= cost) {
      this.#tokens -= cost;
      return 0;
    }
    return Math.ceil(((cost - this.#tokens) / this.rate) * 1000);
  }

  /** Returns `n` tokens taken by a request that then did not go ahead. */
  give(n: number): void {
    this.#tokens = Math.min(this.burst, this.#tokens + n);
  }

  #refill(): void {
    const now = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.rate);
    this.#at = now;
  }
}

/** The two buckets of one client. */
export class FloodGate {
  readonly #lines: TokenBucket;
  readonly #bytes: TokenBucket;

  constructor(limits: FloodLimits, now: () => number) {
    this.#lines = new TokenBucket(limits.lineBurst, limits.lineRate, now);
    this.#bytes = new TokenBucket(limits.byteBurst, limits.byteRate, now);
  }

  /** Admits a line of `bytes` bytes (0) or says how long to wait (ms) before asking again. */
  admit(bytes: number): number {
    const lineWait = this.#lines.take(1);
    if (lineWait > 0) return lineWait;
    const byteWait = this.#bytes.take(bytes);
    if (byteWait > 0) {
      this.#lines.give(1); // asked again later, for both
      return byteWait;
    }
    return 0;
  }
}
