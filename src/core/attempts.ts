/**
 * Failed password attempts per address (server password, registered nicks,
 * room passwords, `/admin`): a token bucket per address, so a guesser gets a
 * few tries and then one every few seconds, however many connections it
 * opens. Exempt addresses (the server exempts loopback unless asked, like
 * the connection limits: a reverse proxy on the same host would otherwise
 * lock everyone out) are never limited.
 *
 * @module
 */

import { TokenBucket } from "./flood.ts";

/** Settings; defaults live in `config.ts`. */
export interface AttemptLimits {
  /** Failures an address may have at once, then this many per minute. */
  failuresPerMinute: number;
  /** Addresses never limited; none by default. */
  exempt?: (address: string) => boolean;
}

/** Addresses tracked at most; the fullest buckets are forgotten first. */
const MAX_ADDRESSES = 100_000;

/** Who may try a password now. */
export class AttemptLimiter {
  readonly #buckets = new Map<string, TokenBucket>();

  readonly #exempt: (address: string) => boolean;

  /** `limits` may be replaced by a reload; it applies to addresses failing from then on. */
  constructor(public limits: AttemptLimits, private readonly now: () => number) {
    this.#exempt = limits.exempt ?? (() => false);
  }

  /** Milliseconds `address` must wait before its next attempt (0: it may try now). */
  waitMs(address: string): number {
    const bucket = this.#buckets.get(address);
    if (bucket === undefined) return 0;
    const wait = bucket.take(1);
    if (wait === 0) bucket.give(1); // only looking
    return wait;
  }

  /** An attempt from `address` failed. */
  failed(address: string): void {
    if (this.#exempt(address)) return;
    let bucket = this.#buckets.get(address);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_ADDRESSES) this.#forgetOldest();
      const n = this.limits.failuresPerMinute;
      bucket = new TokenBucket(n, n / 60, this.now);
      this.#buckets.set(address, bucket);
    }
    bucket.take(1);
  }

  /** Maps iterate in insertion order: the first entries are the oldest. */
  #forgetOldest(): void {
    let n = MAX_ADDRESSES / 10;
    for (const address of this.#buckets.keys()) {
      this.#buckets.delete(address);
      if (--n === 0) break;
    }
  }
}
