import assert from "node:assert/strict";
import { AttemptLimiter } from "./attempts.ts";

Deno.test("attempts: a burst of failures, then one per 60/n seconds, per address", () => {
  let now = 0;
  const limiter = new AttemptLimiter({ failuresPerMinute: 3 }, () => now);
  assert.equal(limiter.waitMs("203.0.113.5"), 0);
  for (let i = 0; i < 3; i++) limiter.failed("203.0.113.5");
  assert.equal(limiter.waitMs("203.0.113.5"), 20_000);
  assert.equal(limiter.waitMs("198.51.100.7"), 0, "other addresses are not affected");
  now = 10_000;
  assert.equal(limiter.waitMs("203.0.113.5"), 10_000);
  now = 20_000;
  assert.equal(limiter.waitMs("203.0.113.5"), 0, "looking does not spend the attempt");
  assert.equal(limiter.waitMs("203.0.113.5"), 0);
  limiter.failed("203.0.113.5");
  assert.ok(limiter.waitMs("203.0.113.5") > 0);
});

Deno.test("attempts: exempt addresses are never limited", () => {
  const loopback = (address: string) => address.startsWith("127.") || address.endsWith(":1");
  const open = new AttemptLimiter({ failuresPerMinute: 1, exempt: loopback }, () => 0);
  for (const address of ["127.0.0.1", "::1"]) {
    for (let i = 0; i < 5; i++) open.failed(address);
    assert.equal(open.waitMs(address), 0, address);
  }
  open.failed("203.0.113.5");
  assert.equal(open.waitMs("203.0.113.5"), 60_000, "the others are");
  const strict = new AttemptLimiter({ failuresPerMinute: 1 }, () => 0);
  strict.failed("127.0.0.1");
  assert.equal(strict.waitMs("127.0.0.1"), 60_000);
});
