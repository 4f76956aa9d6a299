import assert from "node:assert/strict";
import {
  BACKLOG_FACTOR,
  backlogged,
  backlogTotal,
  MAX_PAUSE_MS,
  relief,
  setBacklogLimit,
} from "./backlog.ts";
import { type ByteSink, ConnWriter } from "./writer.ts";

/** A sink whose writes complete when the test says so. */
class HeldSink implements ByteSink {
  readonly pending: { n: number; resolve(n: number): void }[] = [];
  write(bytes: Uint8Array): Promise<number> {
    return new Promise((resolve) => this.pending.push({ n: bytes.length, resolve }));
  }
  completeAll(): void {
    for (const { n, resolve } of this.pending.splice(0)) resolve(n);
  }
}

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 5));
const events = { onOverflow() {}, onError() {} };

Deno.test("output backlog: past the total bound readers pause until it drains, members are not cut", async () => {
  const maxQueue = 1000;
  setBacklogLimit(maxQueue);
  const start = backlogTotal();
  const sinks = Array.from({ length: BACKLOG_FACTOR * 2 }, () => new HeldSink());
  let cut = 0;
  const writers = sinks.map((sink) =>
    new ConnWriter(sink, maxQueue, { ...events, onOverflow: () => cut++ })
  );
  try {
    // Every member gets 600 bytes: under its own bound, twice the total one together.
    const line = new Uint8Array(600);
    for (const w of writers) assert.ok(w.write(line));
    assert.equal(backlogTotal() - start, 600 * writers.length, "queued bytes counted");
    assert.ok(backlogged(), "over the total bound");
    assert.equal(cut, 0, "nobody is cut for the server being behind");
    await turn(); // the flush starts the writes: in flight still counts
    assert.ok(backlogged(), "bytes in flight count until written");
    const waited = relief();
    let woken = false;
    waited.then(() => woken = true);
    // Half the members' writes complete: still over half the bound, the reader waits.
    for (const sink of sinks.slice(0, writers.length / 2)) sink.completeAll();
    await turn();
    assert.equal(woken, false, "still over half the bound");
    for (const sink of sinks) sink.completeAll();
    await turn();
    assert.equal(woken, true, "woken once under half the bound");
    assert.equal(backlogTotal(), start, "everything written is taken off");
    assert.ok(!backlogged());
  } finally {
    for (const w of writers) w.stop();
    setBacklogLimit(1024 * 1024);
  }
});

Deno.test("output backlog: a reader waits at most MAX_PAUSE_MS; dropped queues are taken off", async () => {
  setBacklogLimit(100);
  const start = backlogTotal();
  const sink = new HeldSink();
  const writer = new ConnWriter(sink, 1 << 20, events);
  try {
    writer.write(new Uint8Array(BACKLOG_FACTOR * 100 + 1));
    assert.ok(backlogged());
    const began = performance.now();
    await relief(); // the write never completes: the pause ends on its own
    const waited = performance.now() - began;
    assert.ok(waited >= MAX_PAUSE_MS - 5 && waited < MAX_PAUSE_MS * 10, `waited ${waited} ms`);
    writer.write(new Uint8Array(10)); // queued behind the write in flight
    writer.stop(); // the queued bytes go at once; the write in flight when it ends
    assert.equal(backlogTotal() - start, BACKLOG_FACTOR * 100 + 1);
    sink.completeAll();
    await turn();
    assert.equal(backlogTotal(), start);
  } finally {
    writer.stop();
    setBacklogLimit(1024 * 1024);
  }
});
