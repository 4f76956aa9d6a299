import assert from "node:assert/strict";
import { getTextFormatter, type LogRecord } from "@logtape/logtape";
import { plainValue } from "./log.ts";

/** A record whose message interpolates `values`. */
function record(...values: unknown[]): LogRecord {
  const message: unknown[] = ["start"];
  for (const value of values) message.push(value, " ");
  return {
    category: ["chat", "test"],
    level: "info",
    message,
    rawMessage: "start",
    timestamp: 0,
    properties: {},
  };
}

Deno.test("log lines render values as the bare preset does, numbers without inspect", () => {
  const ours = getTextFormatter({ timestamp: "date-time", value: plainValue });
  const bare = getTextFormatter({ timestamp: "date-time", value: "bare" });
  const values = [
    7,
    -1.5,
    0,
    true,
    "127.0.0.1:4000",
    "nick\x1b[31mred\nforged line\r",
    { room: "lobby" },
    null,
    undefined,
    [1, "two"],
  ];
  for (const value of values) {
    assert.equal(ours(record(value)), bare(record(value)), `value ${Deno.inspect(value)}`);
  }
  // Control characters in a string never reach the log as they are.
  const line = ours(record("a\x1b[2Jb\nc"));
  assert.ok(!line.includes("\x1b") && line.split("\n").length === 2, line);
});
