/**
 * Gives memory back after a burst, once the server goes quiet.
 *
 * A storm of new connections (a restart, a network blip that reconnects
 * everyone) or a burst of traffic grows V8's young generation to its maximum
 * (two 16 MiB semi-spaces) and leaves the burst's garbage in old space. V8
 * hands both back only when its memory reducer runs, which on an idle server
 * can take minutes, because nothing allocates enough to start a collection.
 * That was 3 KB of every idle connection's 12 KB at 19,000 connections.
 *
 * So a check every half second: when resident memory has grown by
 * `growthBytes` since the last trim and nothing happened since the previous
 * check (no byte written to a client, no message in, no connection opened or
 * closed), the server runs a memory-reducing full collection. It pauses the
 * process (about 18 ms per 1000 connections), which is why it waits for a
 * quiet moment and runs at most once a minute.
 *
 * @module
 */

import v8 from "node:v8";
import vm from "node:vm";
import type { Logger } from "@logtape/logtape";
import type { Stats } from "../core/stats.ts";

/** The shortest time between two trims: each one pauses the process. */
const MIN_GAP_MS = 60_000;

/** What a trim needs besides its stats; tests replace the readings. */
export interface TrimOptions {
  /** How often to look (ms). */
  intervalMs?: number;
  /** Resident memory now, in bytes. */
  rss?: () => number;
  /** The collection; `null` when the runtime offers none. */
  collect?: (() => void) | null;
  /** The clock for the gap between trims (ms). */
  now?: () => number;
}

/** A running trim; {@link MemoryTrim.stop} ends it. */
export class MemoryTrim {
  readonly #stats: Stats;
  readonly #growthBytes: number;
  readonly #log: Logger;
  readonly #rss: () => number;
  readonly #collect: () => void;
  readonly #now: () => number;
  readonly #timer: ReturnType<typeof setInterval> | null = null;
  /** Resident memory after the last trim (or at start), lowered when it falls. */
  #baseline: number;
  #lastActivity = -1;
  #lastTrim = -Infinity;

  /**
   * Starts looking, unless `growthBytes` is 0 or the runtime cannot collect
   * on demand (then {@link running} is false and a warning says why).
   */
  constructor(stats: Stats, growthBytes: number, log: Logger, options: TrimOptions = {}) {
    this.#stats = stats;
    this.#growthBytes = growthBytes;
    this.#log = log;
    this.#rss = options.rss ?? (() => Deno.memoryUsage().rss);
    this.#now = options.now ?? (() => performance.now());
    const collect = options.collect === undefined ? memoryReducingCollection(log) : options.collect;
    this.#collect = collect ?? (() => {});
    this.#baseline = this.#rss();
    if (growthBytes <= 0 || collect === null) return;
    this.#timer = setInterval(this.#check, options.intervalMs ?? 500);
    // The trim never keeps the process alive on its own.
    Deno.unrefTimer(this.#timer);
  }

  /** Whether trims can happen. */
  get running(): boolean {
    return this.#timer !== null;
  }

  /** Stops looking; idempotent. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
  }

  #check = (): void => {
    const stats = this.#stats;
    const activity = stats.activity();
    const quiet = activity === this.#lastActivity;
    this.#lastActivity = activity;
    const rss = this.#rss();
    if (rss < this.#baseline) this.#baseline = rss;
    const now = this.#now();
    if (!quiet || rss < this.#baseline + this.#growthBytes || now - this.#lastTrim < MIN_GAP_MS) {
      return;
    }
    this.#collect();
    const after = this.#rss();
    const ms = this.#now() - now;
    this.#lastTrim = this.#now();
    this.#baseline = after;
    stats.memoryTrims++;
    this.#log.info("memory trimmed after a burst: {before} MB -> {after} MB resident, {ms} ms", {
      before: Math.round(rss / 1e6),
      after: Math.round(after / 1e6),
      ms: Math.round(ms),
    });
  };
}

/**
 * V8's memory-reducing full collection (the one behind its low-memory
 * notification: it compacts old space and shrinks the young generation), or
 * `null` if this runtime does not offer it. `gc` is exposed only to contexts
 * made after the flag is set, hence the new context.
 */
function memoryReducingCollection(log: Logger): (() => void) | null {
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc");
    if (typeof gc === "function") return () => gc();
    log.warning("memory trim is off: the runtime exposes no collection");
  } catch (error) {
    log.warning("memory trim is off: {error}", { error });
  }
  return null;
}
