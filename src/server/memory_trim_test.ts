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
    intervalMs: 2,
    rss: () => state.rss,
    now: () => state.now,
    collect: () => {
      state.collected++;
      state.rss = state.afterCollect;
      // The pause: 100 ms on the trim's clock.
      state.now += 100;
    },
  });
  /** Lets the trim's clock run `ms` while its checks run (on the real clock) a few times. */
  const pass = async (ms: number, activity?: () => void) => {
    for (let i = 0; i < 10; i++) {
      activity?.();
      state.now += ms / 10;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { stats, state, trim, pass };
}

Deno.test("memory trim: collects once memory grew and the server was quiet for half a second", async () => {
  const { stats, state, trim, pass } = fakeTrim();
  try {
    state.rss = 140 * MB;
    // Busy: 40 KB written every 100 ms, for ten seconds of the trim's clock.
    await pass(10_000, () => stats.bytesOut += 40_000);
    assert.equal(state.collected, 0, "no trim while lines flow");
    // Only keepalives (100 bytes every 40 ms), but not for long enough yet.
    await pass(400, () => stats.bytesOut += 100);
    assert.equal(state.collected, 0, "400 ms of quiet is not enough");
    await pass(200, () => stats.bytesOut += 100);
    assert.equal(state.collected, 1, "keepalives are quiet");
    assert.equal(stats.memoryTrims, 1);
    // Grown again and quiet, but within 20 pauses (2 s) of the last trim's end.
    state.rss = 140 * MB;
    await pass(1800);
    assert.equal(state.collected, 1, "trims take at most a twentieth of the time");
    await pass(300);
    assert.equal(state.collected, 2);
    // Less than the growth above the last trim's result: nothing to do.
    state.rss = 90 * MB + 31 * MB;
    await pass(10_000);
    assert.equal(state.collected, 2);
  } finally {
    trim.stop();
  }
});

Deno.test("memory trim: the baseline follows memory down; a connection opening or a message breaks the quiet", async () => {
  const { stats, state, trim, pass } = fakeTrim();
  try {
    // Memory fell on its own (V8 gave pages back): growth counts from there.
    state.rss = 60 * MB;
    await pass(1000);
    state.rss = 93 * MB;
    // A connection opened and closed between every two checks: never quiet.
    await pass(10_000, () => {
      stats.connectionOpened("tcp");
      stats.connectionClosed("tcp");
    });
    assert.equal(state.collected, 0);
    // A chat message between every two checks: never quiet either.
    await pass(10_000, () => stats.messagesIn++);
    assert.equal(state.collected, 0);
    await pass(1000);
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
  // Nothing happens on these stats: the trim comes half a second after its first check.
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
