import assert from "node:assert/strict";
import { KeyedQueue } from "./keyed_queue.ts";

const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("keyed queue: one key's work runs in order, a failure does not stop the next", async () => {
  const queue = new KeyedQueue();
  const log: string[] = [];
  const slow = queue.run("a", async () => {
    await later(20);
    log.push("a1");
    throw new Error("a1 failed");
  });
  const fast = queue.run("a", () => Promise.resolve(log.push("a2")));
  const other = queue.run("b", () => Promise.resolve(log.push("b1")));
  await assert.rejects(slow, /a1 failed/);
  await Promise.all([fast, other]);
  assert.deepEqual(log, ["b1", "a1", "a2"], "b does not wait for a; a2 waits for a1");
});
