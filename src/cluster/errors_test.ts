import assert from "node:assert/strict";
import type { Logger } from "@logtape/logtape";
import { describe, ErrorLog } from "./errors.ts";

/** A logger that keeps the warnings it is given. */
function recorder(): { log: Logger; lines: { message: string; props: Record<string, unknown> }[] } {
  const lines: { message: string; props: Record<string, unknown> }[] = [];
  const log = {
    warn: (message: string, props: Record<string, unknown>) => lines.push({ message, props }),
  } as unknown as Logger;
  return { log, lines };
}

Deno.test("error log: one line per operation per interval, the next one says how many were left out", () => {
  let now = 0;
  const { log, lines } = recorder();
  const errors = new ErrorLog(log, "redis", ["publish", "joined"], {
    intervalMs: 10_000,
    now: () => now,
  });
  assert.deepEqual(errors.counts(), { publish: 0, joined: 0 }, "known operations start at 0");
  errors.report("publish", new Error("Connection is closed."));
  errors.report("publish", new Error("Connection is closed."));
  errors.report("joined", new Error("timeout"));
  now = 9_999;
  errors.report("publish", new Error("Connection is closed."));
  assert.equal(lines.length, 2, "one line for publish, one for joined");
  assert.equal(lines[0].message, "redis {op} failed: {error}");
  assert.deepEqual(lines[0].props, { op: "publish", error: "Connection is closed.", skipped: 0 });
  now = 10_000;
  errors.report("publish", new Error("Connection is closed."));
  assert.equal(lines.length, 3);
  assert.equal(lines[2].message, "redis {op} failed: {error} ({skipped} more since the last line)");
  assert.equal(lines[2].props.skipped, 2);
  assert.deepEqual(errors.counts(), { publish: 4, joined: 1 });
  errors.report("publish", new Error("Connection is closed."), 64); // one batch of 64 events
  assert.deepEqual(errors.counts(), { publish: 68, joined: 1 }, "each lost event counts");
  assert.equal(lines.length, 3, "one call, within the interval: not logged");
});

Deno.test("error log: an error is described on one line with its causes", () => {
  const inner = new Error("connect ECONNREFUSED 127.0.0.1:6379");
  assert.equal(
    describe(new Error("publish failed", { cause: inner })),
    `publish failed: ${inner.message}`,
  );
  assert.equal(describe("plain"), "plain");
  assert.equal(describe(new TypeError("")), "TypeError");
});
