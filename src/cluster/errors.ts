/**
 * Failures of work nobody awaits (a publish, a presence write, a reconnect
 * attempt): counted per operation for `/metrics`, and logged with their cause
 * at most once per operation per interval, so an outage that fails every
 * publish writes one line every ten seconds, not one per message.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";

/** Options of an {@link ErrorLog}. */
export interface ErrorLogOptions {
  /** At most one line per operation in this many milliseconds (default 10,000). */
  intervalMs?: number;
  /** The clock (default `Date.now`). */
  now?: () => number;
}

/**
 * Counts failures per operation and logs them, rate-limited: the first of an
 * operation is logged at once, the next ones within `intervalMs` are only
 * counted, and the next line logged says how many were left out.
 *
 * @example
 * ```ts
 * import { getLogger } from "@logtape/logtape";
 * import { ErrorLog } from "./errors.ts";
 *
 * const errors = new ErrorLog(getLogger(["chat", "cluster"]), "redis", ["publish"]);
 * errors.report("publish", new Error("Connection is closed."));
 * errors.report("publish", new Error("Connection is closed.")); // counted, not logged
 * if (errors.counts().publish !== 2) throw new Error("unexpected");
 * ```
 */
export class ErrorLog {
  readonly #log: Logger;
  readonly #subject: string;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #counts = new Map<string, number>();
  /** Per operation: until when it is quiet, and how many failures were left out meanwhile. */
  readonly #quiet = new Map<string, { until: number; skipped: number }>();

  /**
   * Logs to `log` as `<subject> <op> failed: <cause>`; `ops` are counted from
   * 0 (a counter that appears only once it is 1 hides its first increase).
   */
  constructor(log: Logger, subject: string, ops: readonly string[], options: ErrorLogOptions = {}) {
    this.#log = log;
    this.#subject = subject;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    for (const op of ops) this.#counts.set(op, 0);
  }

  /**
   * Counts a failure of `op` (`times` failures: one call that lost several events) and logs it
   * unless one was logged within the interval.
   */
  report(op: string, error: unknown, times = 1): void {
    this.#counts.set(op, (this.#counts.get(op) ?? 0) + times);
    const now = this.#now();
    const quiet = this.#quiet.get(op);
    if (quiet !== undefined && now < quiet.until) {
      quiet.skipped++;
      return;
    }
    const skipped = quiet?.skipped ?? 0;
    this.#quiet.set(op, { until: now + this.#intervalMs, skipped: 0 });
    const more = skipped === 0 ? "" : " ({skipped} more since the last line)";
    this.#log.warn(`${this.#subject} {op} failed: {error}${more}`, {
      op,
      error: describe(error),
      skipped,
    });
  }

  /** Failures so far, per operation. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}

/** An error on one line: its message, then its causes' (`a: b: c`). */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const text = error.message || error.name;
  return error.cause === undefined ? text : `${text}: ${describe(error.cause)}`;
}
