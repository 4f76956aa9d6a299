/**
 * The leak test: clients come and go for a long time (connect, join a room, say a line, leave,
 * disconnect; TCP and WebSocket), and the server's memory is read from its `/metrics` before,
 * during and after. A server that keeps anything per departed client ends higher than it started.
 *
 * @module
 */

import { type ChurnFigures, startChurn } from "./churn.ts";
import type { TransportMix } from "./fanout.ts";
import { formatTarget, sleep, type Target } from "./net.ts";
import { mb } from "./report.ts";

/** Settings of a leak run. */
export interface LeakOptions {
  target?: Target;
  wsTarget?: Target;
  /** The server's HTTP listener, for `/metrics`. */
  metricsTarget: Target;
  transport: TransportMix;
  /** Clients per second. */
  perSecond: number;
  /** Measured seconds of churn. */
  durationS: number;
  /** Churn before the first reading, so that caches and pools are warm. */
  warmupS: number;
  progress?: (message: string) => void;
}

/** The server's memory at one moment. */
export interface MemorySample {
  /** Seconds since the measured churn began (negative: before). */
  t: number;
  rssBytes: number;
  heapUsedBytes: number;
}

/** What a leak run measured. */
export interface LeakResult {
  mode: "leak";
  transport: TransportMix;
  perSecond: number;
  durationS: number;
  warmupS: number;
  churn: ChurnFigures;
  samples: MemorySample[];
  /** After the warm-up and {@link SETTLE_S} idle seconds, before the measured churn. */
  start: MemorySample;
  /** After the measured churn and {@link SETTLE_S} idle seconds. */
  end: MemorySample;
  /** end / start of the resident memory. */
  rssRatio: number;
  /**
   * The median RSS of the churn's last sixth over that of its second sixth (its first is the climb
   * to the plateau): a server that keeps anything per departed client grows under the same load,
   * whether or not the runtime has given idle memory back at the end. It takes a run of minutes:
   * the climb lasts about 40 s at 100 clients a second.
   */
  churnRatio: number;
}

/** The median RSS of the samples taken in [from, to) seconds of churn. */
function medianRss(samples: MemorySample[], from: number, to: number): number {
  const values = samples.filter((m) => m.t >= from && m.t < to).map((m) => m.rssBytes)
    .sort((a, b) => a - b);
  return values.length === 0 ? NaN : values[Math.floor(values.length / 2)];
}

/**
 * Idle seconds before each of the two readings compared, after the warm-up and after the measured
 * churn alike. V8's memory reducer shrinks the young generation once the process allocates little,
 * starting from a collection: in 20-30 s in some runs, not within a minute in others (an idle
 * server may not collect at all). So the end/start ratio says when memory came back, and
 * {@link LeakResult.churnRatio} whether anything was kept.
 */
const SETTLE_S = 60;
/** Seconds between readings while the server idles after the churn (they go in the chart). */
const IDLE_EVERY_S = 10;

/** Reads the server's memory gauges from `/metrics`. */
export async function readMemory(target: Target, t: number): Promise<MemorySample> {
  const response = await fetch(`http://${formatTarget(target)}/metrics`);
  const text = await response.text();
  const gauge = (name: string) =>
    Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
  return {
    t,
    rssBytes: gauge("chat_memory_rss_bytes"),
    heapUsedBytes: gauge("chat_memory_heap_used_bytes"),
  };
}

/** Runs the leak test. */
export async function runLeak(options: LeakOptions): Promise<LeakResult> {
  const { perSecond, durationS, warmupS, transport, metricsTarget } = options;
  const progress = options.progress ?? (() => {});
  const churnOptions = {
    target: options.target,
    wsTarget: options.wsTarget,
    perSecond,
    holdMs: 1000,
    transport,
    script: "talk" as const,
    rooms: 100,
  };
  progress(`warming up: ${perSecond} clients/s for ${warmupS} s`);
  const warm = startChurn(churnOptions);
  await sleep(warmupS * 1000);
  await warm.stop();
  progress(`idle for ${SETTLE_S} s before the first reading`);
  await sleep(SETTLE_S * 1000);
  const samples: MemorySample[] = [];
  const start = await readMemory(metricsTarget, 0);
  samples.push(start);
  progress(`measuring: ${perSecond} clients/s for ${durationS} s; RSS ${mb(start.rssBytes)} MB`);
  const churn = startChurn(churnOptions);
  const began = performance.now();
  const every = Math.max(5, durationS / 60);
  while ((performance.now() - began) / 1000 < durationS) {
    await sleep(Math.min(every, durationS - (performance.now() - began) / 1000) * 1000);
    const sample = await readMemory(metricsTarget, (performance.now() - began) / 1000);
    samples.push(sample);
    progress(
      `${Math.round(sample.t)} s: RSS ${mb(sample.rssBytes)} MB, heap ${
        mb(sample.heapUsedBytes)
      } MB`,
    );
  }
  const figures = await churn.stop();
  progress(`idle for ${SETTLE_S} s before the last reading`);
  const stopped = performance.now();
  let end = samples[samples.length - 1];
  for (let idle = IDLE_EVERY_S; idle <= SETTLE_S; idle += IDLE_EVERY_S) {
    await sleep(Math.max(0, stopped + idle * 1000 - performance.now()));
    end = await readMemory(metricsTarget, (performance.now() - began) / 1000);
    samples.push(end);
    progress(`idle ${idle} s: RSS ${mb(end.rssBytes)} MB, heap ${mb(end.heapUsedBytes)} MB`);
  }
  return {
    mode: "leak",
    transport,
    perSecond,
    durationS,
    warmupS,
    churn: figures,
    samples,
    start,
    end,
    rssRatio: Math.round((end.rssBytes / start.rssBytes) * 1000) / 1000,
    churnRatio: Math.round(
      medianRss(samples, durationS * 5 / 6, durationS + 1) /
        medianRss(samples, durationS / 6, durationS * 2 / 6) * 1000,
    ) / 1000,
  };
}
