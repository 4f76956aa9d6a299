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
 * So when the server has been quiet for half a second (no chat message in,
 * no connection opened or closed, under 32 KiB written: keepalive replies to
 * tens of thousands of idle clients stay under it, any chat to a room of
 * some size does not; looked at every 100 ms) and resident memory has grown
 * by `growthBytes` since the last trim, the server runs a memory-reducing
 * full collection. It pauses the process (about 18 ms per 1000
 * connections), which is why it waits for a quiet moment, and why trims
 * take at most a twentieth of the time: after a pause of p ms the next trim
 * waits 20p ms. (A storm that stalls for a second midway, its clients' SYNs
 * dropped and sent again, gets a trim then and another once it is over.)
 *
 * @module
 */

import v8 from "node:v8";
import vm from "node:vm";
import type { Logger } from "@logtape/logtape";
import type { Stats } from "../core/stats.ts";

/** How long the server must be quiet before a trim (ms). */
const QUIET_MS = 500;
/** What a quiet server may write in that time: keepalives, not chat. */
const QUIET_BYTES = 32 * 1024;
/** The time after a trim, in multiples of its pause, before the next one. */
const GAP_PER_PAUSE = 20;

/** What a trim needs besides its stats; tests replace the readings. */
export interface TrimOptions {
  /** How often to look (ms). */
  intervalMs?: number;
  /** Resident memory now, in bytes. */
  rss?: () => number;
  /** The collection; `null` when the runtime offers none. */
  collect?: (() => void) | null;
  /** The clock (ms): for the quiet half second and the gap between trims. */
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
  #lastEvents = -1;
  /** {@link Stats.bytesOut} when the quiet began. */
  #quietBytes = 0;
  /** When the quiet began: an event, or bytes past the allowance (ms on the trim's clock). */
  #quietSince = 0;
  /** When the next trim may run (ms on the trim's clock). */
  #nextAllowed = -Infinity;

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
    this.#timer = setInterval(this.#check, options.intervalMs ?? 100);
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
    const now = this.#now();
    const events = this.#stats.events();
    const bytes = this.#stats.bytesOut;
    if (events !== this.#lastEvents || bytes - this.#quietBytes > QUIET_BYTES) {
      this.#lastEvents = events;
      this.#quietBytes = bytes;
      this.#quietSince = now;
      return;
    }
    if (now - this.#quietSince < QUIET_MS || now < this.#nextAllowed) return;
    const rss = this.#rss();
    if (rss < this.#baseline) this.#baseline = rss;
    if (rss < this.#baseline + this.#growthBytes) return;
    this.#collect();
    const after = this.#rss();
    const end = this.#now();
    const ms = end - now;
    this.#nextAllowed = end + GAP_PER_PAUSE * ms;
    this.#baseline = after;
    this.#stats.memoryTrims++;
    this.#log.info("memory trimmed after a burst: {before} MB -> {after} MB resident, {ms} ms", {
      before: Math.round(rss / 1e6),
      after: Math.round(after / 1e6),
      ms: Math.round(ms),
    });
  };
}

/** The collection, once found: each context made for it costs memory. */
let found: (() => void) | null | undefined;

/**
 * V8's memory-reducing full collection (the one behind its low-memory
 * notification: it compacts old space and shrinks the young generation), or
 * `null` if this runtime does not offer it. `gc` is exposed only to contexts
 * made after the flag is set, hence the new context.
 */
function memoryReducingCollection(log: Logger): (() => void) | null {
  if (found !== undefined) return found;
  found = null;
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc");
    if (typeof gc === "function") found = () => gc();
    else log.warning("memory trim is off: the runtime exposes no collection");
  } catch (error) {
    log.warning("memory trim is off: {error}", { error });
  }
  return found;
}
