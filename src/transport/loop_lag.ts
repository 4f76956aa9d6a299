/**
 * A probe of the event loop's stalls: a timer that should fire every
 * `intervalMs` notes how late it fired. A long turn (a flush round of
 * thousands of writes, a garbage collection pause) delays everything else
 * queued behind it, so this lateness is what a client's line waits beyond its
 * own processing; `/metrics` shows it as `chat_event_loop_lag_seconds`.
 *
 * `node:perf_hooks`'s `monitorEventLoopDelay` would be the standard tool, but
 * the runtime here returns figures that do not move when the loop is blocked.
 *
 * @module
 */

import type { Histogram } from "../core/stats.ts";

/** A running probe; {@link LoopLag.stop} ends it. */
export class LoopLag {
  readonly #histogram: Histogram;
  readonly #intervalMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #due = 0;

  /** Starts observing lateness (seconds) into `histogram` every `intervalMs`. */
  constructor(histogram: Histogram, intervalMs = 20) {
    this.#histogram = histogram;
    this.#intervalMs = intervalMs;
    this.#arm();
  }

  /** Stops the probe; idempotent. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    this.#due = performance.now() + this.#intervalMs;
    const timer = setTimeout(this.#fire, this.#intervalMs);
    // The probe never keeps the process alive on its own.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #fire = (): void => {
    this.#histogram.observe(Math.max(0, performance.now() - this.#due) / 1000);
    this.#arm();
  };
}
