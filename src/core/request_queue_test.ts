import assert from "node:assert/strict";
import type { TimerHandle, Timers } from "./clock.ts";
import { FloodGate } from "./flood.ts";
import { type Queued, type QueueRunner, RequestQueue, WAITING_LINE_COST } from "./request_queue.ts";

/** Time that moves only when the test says so. */
class ManualTimers implements Timers {
  now = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  monotonic = () => this.now;
  setTimeout = (fn: () => void, ms: number): TimerHandle => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, fn });
    return id;
  };
  clearTimeout = (handle: TimerHandle) => void this.#timers.delete(handle as number);
  setInterval = (): TimerHandle => {
    throw new Error("not used");
  };
  clearInterval = () => {};

  /** Moves time on, firing what falls due, in order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = until;
  }
}

/** Records what ran; `store` makes a request wait until released. */
class Recorder implements QueueRunner<string> {
  ran: string[] = [];
  slowed = 0;
  floods = 0;
  failures: unknown[] = [];
  #waiting: (() => void)[] = [];

  run(_owner: string, item: Queued): Promise<unknown> | void {
    const label = item.type === "say" ? `say ${item.text}` : item.type;
    this.ran.push(label);
    if (item.type === "say" && item.text.startsWith("slow") || item.type === "join") {
      return new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }
  concurrent(item: Queued): boolean {
    return item.type === "say";
  }
  slowedDown(): void {
    this.slowed++;
  }
  flooded(): void {
    this.floods++;
  }
  failed(err: unknown): void {
    this.failures.push(err);
  }
  async release(): Promise<void> {
    for (const go of this.#waiting.splice(0)) go();
    await Promise.resolve();
    await Promise.resolve();
  }
}

const limits = { lineBurst: 2, lineRate: 1, byteBurst: 1000, byteRate: 1000, maxWaitingBytes: 500 };

function queue(runner: Recorder, timers = new ManualTimers(), metered = true) {
  const gate = metered ? new FloodGate(limits, timers.monotonic) : null;
  return { timers, q: new RequestQueue("c", runner, gate, limits.maxWaitingBytes, timers) };
}

const say = (text: string) => ({ type: "say" as const, text });

Deno.test("request queue: within budget, requests run at once, in order", () => {
  const runner = new Recorder();
  const { q } = queue(runner);
  q.submit(say("a"), 1);
  q.submit(say("b"), 1);
  assert.deepEqual(runner.ran, ["say a", "say b"]);
  assert.equal(q.pending, 0);
});

Deno.test("request queue: over budget, slowed (told once) and resumed as the budget refills", () => {
  const runner = new Recorder();
  const { q, timers } = queue(runner);
  for (const t of ["a", "b", "c", "d"]) q.submit(say(t), 1);
  assert.deepEqual(runner.ran, ["say a", "say b"], "the burst");
  assert.equal(runner.slowed, 1);
  assert.equal(q.pending, 2);
  timers.advance(999);
  assert.deepEqual(runner.ran, ["say a", "say b"], "not before the next token");
  timers.advance(1);
  assert.deepEqual(runner.ran, ["say a", "say b", "say c"]);
  timers.advance(1000);
  assert.deepEqual(runner.ran, ["say a", "say b", "say c", "say d"]);
  assert.equal(runner.slowed, 1, "told once");
  // Caught up: a new flood is told again.
  timers.advance(5000);
  for (const t of ["e", "f", "g"]) q.submit(say(t), 1);
  assert.equal(runner.slowed, 2);
});

Deno.test("request queue: what waits past the bound floods (each line counts its cost)", () => {
  const runner = new Recorder();
  const { q } = queue(runner);
  q.submit(say("a"), 1);
  q.submit(say("b"), 1);
  // 500 bytes may wait: each 1-byte line counts 1 + the per-line cost.
  const fit = Math.floor(limits.maxWaitingBytes / (1 + WAITING_LINE_COST));
  for (let i = 0; i < fit; i++) q.submit(say(`w${i}`), 1);
  assert.equal(runner.floods, 0);
  q.submit(say("over"), 1);
  assert.equal(runner.floods, 1);
});

Deno.test("request queue: other requests wait for stored messages; messages do not wait for each other", async () => {
  const runner = new Recorder();
  const { q } = queue(runner, undefined, false);
  q.submit(say("slow 1"));
  q.submit(say("slow 2"));
  q.submit({ type: "leave" });
  q.submit(say("after"));
  assert.deepEqual(runner.ran, ["say slow 1", "say slow 2"], "the leave waits for both");
  let drained = false;
  void q.drained().then(() => (drained = true));
  await runner.release();
  assert.deepEqual(runner.ran, ["say slow 1", "say slow 2", "leave", "say after"]);
  await Promise.resolve();
  assert.ok(drained);
});

Deno.test("request queue: stop drops what waits and takes nothing more", () => {
  const runner = new Recorder();
  const { q, timers } = queue(runner);
  for (const t of ["a", "b", "c"]) q.submit(say(t), 1);
  q.stop();
  assert.equal(q.pending, 0);
  timers.advance(10_000);
  q.submit(say("d"), 1);
  assert.deepEqual(runner.ran, ["say a", "say b"]);
});

Deno.test("request queue: a request that ends the client while others wait stops it cleanly", async () => {
  const runner = new Recorder();
  const { q } = queue(runner, undefined, false);
  const run = runner.run.bind(runner);
  runner.run = (owner, item) => {
    if (item.type === "quit") return void q.stop();
    return run(owner, item);
  };
  q.submit(say("slow 1"));
  q.submit({ type: "quit" });
  q.submit(say("never"));
  await runner.release();
  assert.deepEqual(runner.ran, ["say slow 1"]);
  assert.equal(q.pending, 0);
});
