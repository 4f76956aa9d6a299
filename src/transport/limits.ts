/**
 * Connection limits, the same for TCP and WebSocket: a global maximum, and
 * per address a maximum of concurrent connections and of new connections per
 * minute. Loopback addresses are exempt from the per-address limits unless
 * asked (a reverse proxy on the same host would otherwise count as one user).
 *
 * @module
 */

import { isLoopback } from "./address.ts";

/** Connection limit settings; defaults live in `config.ts`. */
export interface ConnectionLimits {
  maxConnections: number;
  maxPerAddress: number;
  maxNewPerMinute: number;
  /** Apply the per-address limits to loopback addresses too. */
  limitLoopback: boolean;
}

const MINUTE_MS = 60_000;

/** Counts connections and says which ones to refuse. */
export class ConnectionLimiter {
  #open = 0;
  readonly #perAddress = new Map<string, number>();
  /** Recent connection times per address, oldest first (pruned as they age out). */
  readonly #recent = new Map<string, number[]>();

  /** `limits` may be replaced by a reload; it applies from the next connection on. */
  constructor(public limits: ConnectionLimits, private readonly now: () => number = Date.now) {}

  /**
   * Admits a connection from `address` (and counts it until {@link release}),
   * or returns why it is refused.
   */
  admit(address: string): string | null {
    const { limits } = this;
    if (this.#open >= limits.maxConnections) {
      return `server full (max ${limits.maxConnections} connections)`;
    }
    if (limits.limitLoopback || !isLoopback(address)) {
      if ((this.#perAddress.get(address) ?? 0) >= limits.maxPerAddress) {
        return `too many connections from ${address} (max ${limits.maxPerAddress})`;
      }
      const now = this.now();
      const recent = (this.#recent.get(address) ?? []).filter((t) => now - t < MINUTE_MS);
      if (recent.length >= limits.maxNewPerMinute) {
        this.#recent.set(address, recent);
        return `too many new connections from ${address} (max ${limits.maxNewPerMinute} a minute)`;
      }
      recent.push(now);
      this.#recent.set(address, recent);
    }
    this.#open++;
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    return null;
  }

  /** A connection admitted earlier has closed. */
  release(address: string): void {
    this.#open--;
    const n = (this.#perAddress.get(address) ?? 1) - 1;
    if (n > 0) this.#perAddress.set(address, n);
    else this.#perAddress.delete(address);
    const recent = this.#recent.get(address);
    if (recent !== undefined && recent.every((t) => this.now() - t >= MINUTE_MS)) {
      this.#recent.delete(address);
    }
  }
}
