import assert from "node:assert/strict";
import { FloodGate, TokenBucket } from "./flood.ts";

Deno.test("a token bucket gives its burst at once, then refills at its rate", () => {
  let now = 0;
  const bucket = new TokenBucket(3, 2, () => now);
  assert.equal(bucket.take(1), 0);
  assert.equal(bucket.take(1), 0);
  assert.equal(bucket.take(1), 0);
  assert.equal(bucket.take(1), 500, "one token at 2 per second: half a second");
  now = 500;
  assert.equal(bucket.take(1), 0);
  now = 10_000;
  for (let i = 0; i < 3; i++) assert.equal(bucket.take(1), 0);
  assert.ok(bucket.take(1) > 0, "never more than the burst");
});

Deno.test("a request bigger than the burst waits for a full bucket, not forever", () => {
  let now = 0;
  const bucket = new TokenBucket(10, 10, () => now);
  assert.equal(bucket.take(5), 0);
  assert.equal(bucket.take(100), 500, "10 tokens (the burst) at 10 per second, 5 there");
  now = 500;
  assert.equal(bucket.take(100), 0);
});

Deno.test("a flood gate needs both a line and the bytes, and takes neither alone", () => {
  let now = 0;
  const gate = new FloodGate(
    { lineBurst: 2, lineRate: 1, byteBurst: 10, byteRate: 10, maxWaitingBytes: 100 },
    () => now,
  );
  assert.equal(gate.admit(8), 0);
  assert.equal(gate.admit(8), 600, "bytes: 2 left, 6 more at 10/s");
  now = 600;
  assert.equal(gate.admit(8), 0, "the line token was not spent by the refused request");
  // Lines: 1 left after the first, +0.6 by 600 ms, 1 spent: 0.6 left, one per second.
  assert.equal(gate.admit(0), 400);
});
