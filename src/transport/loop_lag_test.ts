import assert from "node:assert/strict";
import { Histogram, LATENCY_BUCKETS } from "../core/stats.ts";
import { LoopLag } from "./loop_lag.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("the loop-lag probe sees a blocked event loop, and stops", async () => {
  const lag = new Histogram(LATENCY_BUCKETS);
  const probe = new LoopLag(lag, 10);
  try {
    await sleep(50);
    const before = lag.count;
    assert.ok(before >= 2, `the probe fired ${before} times in 50 ms`);
    // Block the loop for 120 ms: the timer due meanwhile fires at least ~100 ms late.
    const end = performance.now() + 120;
    while (performance.now() < end) { /* busy */ }
    await sleep(30);
    const late = lag.counts.slice(LATENCY_BUCKETS.indexOf(0.05) + 1).reduce((a, b) => a + b, 0);
    assert.equal(late, 1, "one observation over 50 ms");
  } finally {
    probe.stop();
  }
  const count = lag.count;
  await sleep(40);
  assert.equal(lag.count, count, "no observation after stop");
});
