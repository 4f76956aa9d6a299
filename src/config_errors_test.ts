/** What the config refuses: each mistake is a one-line ConfigError naming its source. */
import assert from "node:assert/strict";
import { configError, run } from "./config_test_support.ts";

// --- errors -----------------------------------------------------------------------------------

Deno.test("an unknown flag is a ConfigError naming it", () => {
  assert.match(configError(["--frobnicate"]), /--frobnicate/);
  assert.match(configError(["-x"]), /-x/);
});

Deno.test("a flag without its value is a ConfigError naming it", () => {
  assert.match(configError(["--max-line-bytes"]), /--max-line-bytes/);
});

Deno.test("--max-line-bytes abc is a ConfigError naming the flag and the value", () => {
  const message = configError(["--max-line-bytes", "abc"]);
  assert.equal(message, "--max-line-bytes: expected a whole number from 64 to 1048576, got 'abc'");
});

Deno.test("--max-line-bytes below or above its range is a ConfigError", () => {
  assert.equal(
    configError(["--max-line-bytes", "10"]),
    "--max-line-bytes: expected a whole number from 64 to 1048576, got '10'",
  );
  assert.match(configError(["--max-line-bytes", "63"]), /^--max-line-bytes: .*'63'/);
  assert.match(configError(["--max-line-bytes", "1048577"]), /^--max-line-bytes: .*'1048577'/);
});

Deno.test("a number that is not a whole non-negative number is a ConfigError", () => {
  for (const bad of ["-5", "1.5", "1e3", "0x100", " 100", "100 ", ""]) {
    assert.match(configError([`--max-line-bytes=${bad}`]), /^--max-line-bytes: /, bad);
  }
});

Deno.test("each numeric flag checks its own range", () => {
  assert.match(configError(["--max-queue-bytes", "4095"]), /^--max-queue-bytes: /);
  assert.match(configError(["--history-size", "0"]), /^--history-size: /);
  assert.match(configError(["--history-size", "10000001"]), /^--history-size: /);
  assert.match(configError(["--history-on-join", "1001"]), /^--history-on-join: /);
  assert.match(configError(["--drain-timeout", "3601"]), /^--drain-timeout: /);
});

Deno.test("a bad number from the environment is a ConfigError naming the variable", () => {
  for (
    const name of [
      "CHAT_MAX_LINE_BYTES",
      "CHAT_MAX_QUEUE_BYTES",
      "CHAT_HISTORY_SIZE",
      "CHAT_HISTORY_ON_JOIN",
      "CHAT_DRAIN_TIMEOUT",
    ]
  ) {
    assert.match(configError([], { [name]: "lots" }), new RegExp(`^${name}: .*'lots'`), name);
  }
});

Deno.test("a queue bound under twice the line limit is a ConfigError", () => {
  assert.equal(
    configError(["--max-line-bytes", "4096", "--max-queue-bytes", "8191"]),
    "--max-queue-bytes (8191) must be at least twice --max-line-bytes (4096)",
  );
  assert.equal(run(["--max-line-bytes", "4096", "--max-queue-bytes", "8192"]).maxQueueBytes, 8192);
});

Deno.test("--log-level loud is a ConfigError naming the flag and the choices", () => {
  assert.equal(
    configError(["--log-level", "loud"]),
    "--log-level: expected one of debug, info, warning, error, got 'loud'",
  );
  assert.match(configError([], { CHAT_LOG_LEVEL: "loud" }), /^CHAT_LOG_LEVEL: .*'loud'/);
  assert.match(configError(["--log-level", "INFO"]), /^--log-level: /);
});

Deno.test("--log-format xml is a ConfigError naming the flag and the choices", () => {
  assert.equal(
    configError(["--log-format", "xml"]),
    "--log-format: expected one of text, json, got 'xml'",
  );
  assert.match(configError([], { CHAT_LOG_FORMAT: "xml" }), /^CHAT_LOG_FORMAT: .*'xml'/);
});

Deno.test("a bad address is a ConfigError naming where it came from", () => {
  assert.equal(
    configError(["localhost"]),
    "address: expected HOST:PORT (such as 127.0.0.1:8080), got 'localhost'",
  );
  assert.match(configError(["1.2.3.4:70000"]), /^address: .*'1\.2\.3\.4:70000'/);
  assert.match(configError([], { CHAT_ADDR: "localhost" }), /^CHAT_ADDR: .*'localhost'/);
  assert.match(configError(["--http", "localhost"]), /^--http: .*'localhost'/);
  assert.match(configError(["--http", "h:70000"]), /^--http: .*'h:70000'/);
  assert.match(configError([], { CHAT_HTTP: "nowhere" }), /^CHAT_HTTP: .*'nowhere'/);
});

Deno.test("two positional addresses are a ConfigError naming both", () => {
  assert.equal(
    configError(["1.2.3.4:1", "5.6.7.8:2"]),
    "expected at most one address, got: 1.2.3.4:1 5.6.7.8:2",
  );
});

Deno.test("CHAT_ECHO=maybe is a ConfigError naming the variable", () => {
  assert.equal(
    configError([], { CHAT_ECHO: "maybe" }),
    "CHAT_ECHO: expected true or false, got 'maybe'",
  );
});

Deno.test("--echo takes no value", () => {
  assert.match(configError(["--echo=false"]), /--echo/);
});

Deno.test("an empty --db is a ConfigError", () => {
  assert.match(configError(["--db", ""]), /^--db: /);
});
