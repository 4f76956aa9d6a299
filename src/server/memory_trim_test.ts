import assert from "node:assert/strict";
import v8 from "node:v8";
import { Stats } from "../core/stats.ts";
import { logger } from "../log.ts";
import { MemoryTrim } from "./memory_trim.ts";

const log = logger("test");
const MB = 1024 * 1024;

/** Waits (at most 2 s) until `done()`. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
}

/** A trim whose memory, clock and collection the test sets. */
function fakeTrim(growth = 32 * MB) {
  const stats = new Stats();
  const state = { rss: 100 * MB, now: 0, collected: 0, afterCollect: 90 * MB };
  const trim = new MemoryTrim(stats, growth, log, {
    intervalMs: 5,
    rss: () => state.rss,
    now: () => state.now,
    collect: () => {
      state.collected++;
      state.rss = state.afterCollect;
    },
  });
  return { stats, state, trim };
}

Deno.test("memory trim: collects once memory grew and the server went quiet, not while it is busy", async () => {
  const { stats, state, trim } = fakeTrim();
  try {
    // Busy: a byte written before every check.
    const busy = setInterval(() => stats.bytesOut++, 1);
    await new Promise((r) => setTimeout(r, 10));
    state.rss = 140 * MB;
    await new Promise((r) => setTimeout(r, 100));
    clearInterval(busy);
    assert.equal(state.collected, 0, "no trim while traffic flows");
    await until(() => state.collected > 0);
    assert.equal(state.collected, 1);
    assert.equal(stats.memoryTrims, 1);
    // Grown again and quiet, but within the minute since the last trim.
    state.rss = 140 * MB;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(state.collected, 1, "at most one trim a minute");
    state.now += 60_000;
    await until(() => state.collected > 1);
    assert.equal(state.collected, 2);
    // Less than the growth above the last trim's result: nothing to do.
    state.now += 60_000;
    state.rss = 90 * MB + 31 * MB;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(state.collected, 2);
  } finally {
    trim.stop();
  }
});

Deno.test("memory trim: the baseline follows memory down, and a connection opening is activity", async () => {
  const { stats, state, trim } = fakeTrim();
  try {
    // Memory fell on its own (V8 gave pages back): growth counts from there.
    state.rss = 60 * MB;
    await new Promise((r) => setTimeout(r, 30));
    // A connection opened and closed between every two checks: never quiet.
    const churn = setInterval(() => {
      stats.connectionOpened("tcp");
      stats.connectionClosed("tcp");
    }, 1);
    await new Promise((r) => setTimeout(r, 10));
    state.rss = 93 * MB;
    await new Promise((r) => setTimeout(r, 100));
    clearInterval(churn);
    assert.equal(state.collected, 0);
    await until(() => state.collected > 0);
    assert.equal(state.collected, 1, "93 MB is 33 MB above the 60 MB it fell to");
  } finally {
    trim.stop();
  }
});

Deno.test("memory trim: 0 turns it off", () => {
  const { trim } = fakeTrim(0);
  assert.equal(trim.running, false);
  trim.stop();
});

Deno.test("memory trim: the runtime's collection shrinks the young generation", async () => {
  const newSpace = () =>
    v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")!.space_size;
  // Objects that survive their first collections grow the young generation.
  const kept: unknown[] = [];
  for (let i = 0; i < 300_000; i++) kept.push({ i, text: `line ${i}` });
  const before = newSpace();
  assert.ok(before >= 8 * MB, `young generation grown: ${before} bytes`);
  const stats = new Stats();
  let rss = 0;
  const trim = new MemoryTrim(stats, 1, log, { intervalMs: 5, rss: () => rss });
  try {
    assert.equal(trim.running, true);
    rss = 2;
    await until(() => stats.memoryTrims > 0);
    assert.equal(stats.memoryTrims, 1);
    const after = newSpace();
    assert.ok(after <= before / 4, `young generation ${before} -> ${after} bytes`);
    assert.equal(kept.length, 300_000);
  } finally {
    trim.stop();
  }
});
