/**
 * Time as the core sees it, injectable so that flood budgets, summaries and
 * gap waits are tested without sleeping.
 *
 * @module
 */

/** A timer handle, whatever the clock's timers return. */
export type TimerHandle = unknown;

/** Monotonic time and timers. */
export interface Timers {
  /** Monotonic milliseconds (budgets and waits; never the wall clock). */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

/** The runtime's own timers. */
export const systemTimers: Timers = {
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as number),
};
