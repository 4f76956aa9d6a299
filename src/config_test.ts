/** The defaults, and the addresses the listeners take from the command line. */
import assert from "node:assert/strict";
import { ConfigError, parseAddress, parseInvocation } from "./config.ts";
import { DEFAULTS, type Env, run } from "./config_test_support.ts";

// --- defaults and addresses -------------------------------------------------------------------

Deno.test("no flags and no environment give the defaults", () => {
  assert.deepEqual(run([]), DEFAULTS);
  assert.deepEqual(run([], {}), DEFAULTS);
});

Deno.test("environment variables that are not the server's are ignored", () => {
  assert.deepEqual(run([], { HOME: "/root", PATH: "/bin", CHAT: "x", CHAT_OTHER: "y" }), DEFAULTS);
});

Deno.test("empty environment variables count as unset", () => {
  const env: Env = {};
  for (
    const name of [
      "CHAT_ADDR",
      "CHAT_HTTP",
      "CHAT_DB",
      "CHAT_MAX_LINE_BYTES",
      "CHAT_MAX_QUEUE_BYTES",
      "CHAT_HISTORY_SIZE",
      "CHAT_HISTORY_ON_JOIN",
      "CHAT_DRAIN_TIMEOUT",
      "CHAT_LOG_LEVEL",
      "CHAT_LOG_FORMAT",
      "CHAT_ECHO",
    ]
  ) env[name] = "";
  assert.deepEqual(run([], env), DEFAULTS);
});

Deno.test("a positional HOST:PORT sets the TCP listener", () => {
  assert.deepEqual(run(["0.0.0.0:9000"]).tcp, { hostname: "0.0.0.0", port: 9000 });
  assert.deepEqual(run(["example.org:1"]).tcp, { hostname: "example.org", port: 1 });
});

Deno.test("a positional [IPv6]:PORT sets the TCP listener without the brackets", () => {
  assert.deepEqual(run(["[::1]:9000"]).tcp, { hostname: "::1", port: 9000 });
  assert.deepEqual(run(["[::]:80"]).tcp, { hostname: "::", port: 80 });
});

Deno.test("a bare port listens on 127.0.0.1; :PORT on every interface", () => {
  assert.deepEqual(run(["9000"]).tcp, { hostname: "127.0.0.1", port: 9000 });
  assert.deepEqual(run([":9000"]).tcp, { hostname: "0.0.0.0", port: 9000 });
});

Deno.test("a leading -- (as deno task passes it on) is not taken for an argument", () => {
  assert.equal(run(["--", "--echo"]).echo, true);
});

Deno.test("the positional address can come after the flags", () => {
  const config = run(["--db", ":memory:", "0.0.0.0:9000"]);
  assert.deepEqual(config.tcp, { hostname: "0.0.0.0", port: 9000 });
  assert.equal(config.db, ":memory:");
});

Deno.test("parseAddress accepts ports 0 to 65535", () => {
  assert.deepEqual(parseAddress("h:0"), { hostname: "h", port: 0 });
  assert.deepEqual(parseAddress("h:65535"), { hostname: "h", port: 65535 });
  assert.deepEqual(parseAddress("65535"), { hostname: "127.0.0.1", port: 65535 });
});

Deno.test("parseAddress rejects what is not HOST:PORT, naming what it parsed", () => {
  for (
    const bad of [
      "localhost",
      "localhost:",
      "host:port",
      "1.2.3.4:70000",
      "1.2.3.4:65536",
      "123456",
      "::1:9000",
      "[::1]",
      "a b:80",
      "",
    ]
  ) {
    assert.throws(
      () => parseAddress(bad, "--thing"),
      (err: unknown) =>
        err instanceof ConfigError && err.message.startsWith("--thing: ") &&
        err.message.includes(`'${bad}'`),
      bad,
    );
  }
});

Deno.test("--http off turns the HTTP listener off", () => {
  assert.equal(run(["--http", "off"]).http, null);
  assert.equal(run(["--http=off"]).http, null);
  assert.equal(run([], { CHAT_HTTP: "off" }).http, null);
});

Deno.test("--http sets the HTTP listener", () => {
  assert.deepEqual(run(["--http", "0.0.0.0:80"]).http, { hostname: "0.0.0.0", port: 80 });
  assert.deepEqual(run(["--http", "[::1]:8000"]).http, { hostname: "::1", port: 8000 });
  assert.deepEqual(run(["--http", "9999"]).http, { hostname: "127.0.0.1", port: 9999 });
});

Deno.test("--metrics and CHAT_METRICS give the internal listener; off by default", () => {
  const run = (args: string[], env = {}) => {
    const inv = parseInvocation(args, env);
    if (inv.kind !== "run") throw new Error(inv.kind);
    return inv.config.metrics;
  };
  assert.equal(run([]), null);
  assert.deepEqual(run(["--metrics", "10.0.0.5:9464"]), { hostname: "10.0.0.5", port: 9464 });
  assert.deepEqual(run([], { CHAT_METRICS: "9464" }), { hostname: "127.0.0.1", port: 9464 });
  assert.throws(() => run(["--metrics", "x:y"]), /--metrics: expected HOST:PORT/);
});
