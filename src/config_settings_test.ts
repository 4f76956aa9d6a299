/**
 * Each setting from its environment variable or its flag (the flag wins);
 * `--help`, `--version` and `backup` invocations; a frozen config.
 */
import assert from "node:assert/strict";
import { type Config, helpText, parseInvocation } from "./config.ts";
import { DEFAULTS, run } from "./config_test_support.ts";

// --- environment and flags --------------------------------------------------------------------

/** For each setting: its variable, a value from the environment, a flag, and what each gives. */
const SETTINGS: {
  env: string;
  envValue: string;
  flag: string[];
  pick: (c: Readonly<Config>) => unknown;
  fromEnv: unknown;
  fromFlag: unknown;
}[] = [
  {
    env: "CHAT_ADDR",
    envValue: "0.0.0.0:7000",
    flag: ["[::1]:7001"],
    pick: (c) => c.tcp,
    fromEnv: { hostname: "0.0.0.0", port: 7000 },
    fromFlag: { hostname: "::1", port: 7001 },
  },
  {
    env: "CHAT_HTTP",
    envValue: "10.0.0.1:8000",
    flag: ["--http", "off"],
    pick: (c) => c.http,
    fromEnv: { hostname: "10.0.0.1", port: 8000 },
    fromFlag: null,
  },
  {
    env: "CHAT_DB",
    envValue: "/var/lib/chat/history.db",
    flag: ["--db", ":memory:"],
    pick: (c) => c.db,
    fromEnv: "/var/lib/chat/history.db",
    fromFlag: ":memory:",
  },
  {
    env: "CHAT_MAX_LINE_BYTES",
    envValue: "1024",
    flag: ["--max-line-bytes", "2048"],
    pick: (c) => c.maxLineBytes,
    fromEnv: 1024,
    fromFlag: 2048,
  },
  {
    env: "CHAT_MAX_QUEUE_BYTES",
    envValue: "65536",
    flag: ["--max-queue-bytes", "131072"],
    pick: (c) => c.maxQueueBytes,
    fromEnv: 65536,
    fromFlag: 131072,
  },
  {
    env: "CHAT_HISTORY_SIZE",
    envValue: "50",
    flag: ["--history-size", "60"],
    pick: (c) => c.historySize,
    fromEnv: 50,
    fromFlag: 60,
  },
  {
    env: "CHAT_HISTORY_ON_JOIN",
    envValue: "0",
    flag: ["--history-on-join", "5"],
    pick: (c) => c.historyOnJoin,
    fromEnv: 0,
    fromFlag: 5,
  },
  {
    env: "CHAT_DRAIN_TIMEOUT",
    envValue: "2",
    flag: ["--drain-timeout", "3"],
    pick: (c) => c.drainTimeoutMs,
    fromEnv: 2000,
    fromFlag: 3000,
  },
  {
    env: "CHAT_MEMORY_TRIM",
    envValue: "0",
    flag: ["--memory-trim", "64"],
    pick: (c) => c.memoryTrimBytes,
    fromEnv: 0,
    fromFlag: 64 * 1024 * 1024,
  },
  {
    env: "CHAT_LOG_LEVEL",
    envValue: "debug",
    flag: ["--log-level", "error"],
    pick: (c) => c.logLevel,
    fromEnv: "debug",
    fromFlag: "error",
  },
  {
    env: "CHAT_LOG_FORMAT",
    envValue: "json",
    flag: ["--log-format", "text"],
    pick: (c) => c.logFormat,
    fromEnv: "json",
    fromFlag: "text",
  },
  {
    env: "CHAT_ECHO",
    envValue: "false",
    flag: ["--echo"],
    pick: (c) => c.echo,
    fromEnv: false,
    fromFlag: true,
  },
];

Deno.test("every setting can come from its environment variable", () => {
  for (const s of SETTINGS) {
    const config = run([], { [s.env]: s.envValue });
    assert.deepEqual(s.pick(config), s.fromEnv, s.env);
    // Nothing else changed.
    for (const other of SETTINGS) {
      if (other !== s) {
        assert.deepEqual(other.pick(config), other.pick(DEFAULTS), `${s.env}: ${other.env}`);
      }
    }
  }
});

Deno.test("the flag wins over the environment variable", () => {
  for (const s of SETTINGS) {
    assert.deepEqual(s.pick(run(s.flag, { [s.env]: s.envValue })), s.fromFlag, s.env);
    assert.deepEqual(s.pick(run(s.flag)), s.fromFlag, `${s.env} unset`);
  }
});

Deno.test("all environment variables at once", () => {
  const env = Object.fromEntries(SETTINGS.map((s) => [s.env, s.envValue]));
  const config = run([], env);
  for (const s of SETTINGS) assert.deepEqual(s.pick(config), s.fromEnv, s.env);
});

Deno.test("a flag wins even when the environment variable holds a bad value", () => {
  assert.equal(run(["--log-level", "warning"], { CHAT_LOG_LEVEL: "loud" }).logLevel, "warning");
  assert.equal(run(["--max-line-bytes", "100"], { CHAT_MAX_LINE_BYTES: "abc" }).maxLineBytes, 100);
  assert.deepEqual(run(["1.2.3.4:5"], { CHAT_ADDR: "localhost" }).tcp, {
    hostname: "1.2.3.4",
    port: 5,
  });
  assert.equal(run(["--echo"], { CHAT_ECHO: "maybe" }).echo, true);
});

Deno.test("CHAT_ECHO accepts the usual spellings of true and false, in any case", () => {
  for (const yes of ["1", "true", "yes", "on", "TRUE", "Yes", "ON"]) {
    assert.equal(run([], { CHAT_ECHO: yes }).echo, true, yes);
  }
  for (const no of ["0", "false", "no", "off", "FALSE", "Off"]) {
    assert.equal(run([], { CHAT_ECHO: no }).echo, false, no);
  }
  assert.equal(run(["--echo"]).echo, true);
});

Deno.test("the numeric limits accept the ends of their ranges", () => {
  const c = run([
    "--max-line-bytes",
    "64",
    "--max-queue-bytes",
    "4096",
    "--history-size",
    "1",
    "--history-on-join",
    "1000",
    "--drain-timeout",
    "0",
  ]);
  assert.equal(c.maxLineBytes, 64);
  assert.equal(c.maxQueueBytes, 4096);
  assert.equal(c.historySize, 1);
  assert.equal(c.historyOnJoin, 1000);
  assert.equal(c.drainTimeoutMs, 0);
  const big = run(["--max-line-bytes", "1048576", "--max-queue-bytes", String(1 << 30)]);
  assert.equal(big.maxLineBytes, 1048576);
  assert.equal(big.maxQueueBytes, 1 << 30);
  assert.equal(run(["--drain-timeout", "3600"]).drainTimeoutMs, 3_600_000);
  assert.equal(run(["--memory-trim", "1048576"]).memoryTrimBytes, 2 ** 40);
  assert.equal(run(["--history-size", "10000000"]).historySize, 10_000_000);
});

// --- help, version, freezing ------------------------------------------------------------------

const ALL_FLAGS = [
  "--echo",
  "--http",
  "--db",
  "--max-line-bytes",
  "--max-queue-bytes",
  "--history-size",
  "--history-on-join",
  "--drain-timeout",
  "--log-level",
  "--log-format",
  "--help",
  "--version",
];

Deno.test("--help returns the help text, which mentions every flag and variable", () => {
  const invocation = parseInvocation(["--help"]);
  assert.equal(invocation.kind, "help");
  if (invocation.kind !== "help") return;
  assert.equal(invocation.text, helpText());
  for (const flag of ALL_FLAGS) {
    assert.match(invocation.text, new RegExp(`^  ${flag}\\b`, "m"), flag);
  }
  for (const s of SETTINGS) assert.ok(invocation.text.includes(s.env), s.env);
  for (const d of ["127.0.0.1:8080", "127.0.0.1:8081", "chat.db", "4096", "1048576", "10000"]) {
    assert.ok(invocation.text.includes(d), d);
  }
});

Deno.test("--help wins over other flags, even bad values", () => {
  assert.equal(parseInvocation(["--max-line-bytes", "abc", "--help"]).kind, "help");
  assert.equal(parseInvocation(["a:1", "b:2", "--help"]).kind, "help");
});

Deno.test("helpText uses the program name it is given", () => {
  assert.match(helpText("my-chat"), /^usage: my-chat \[HOST:PORT\] \[options\]\n/);
  assert.match(helpText(), /^usage: chat-server /);
});

Deno.test("--version returns kind version", () => {
  assert.deepEqual(parseInvocation(["--version"]), { kind: "version" });
  assert.deepEqual(parseInvocation(["--version"], { CHAT_LOG_LEVEL: "loud" }), {
    kind: "version",
  });
});

Deno.test("the returned config is frozen", () => {
  const config = run([]);
  assert.ok(Object.isFrozen(config));
  assert.throws(() => {
    (config as Config).maxLineBytes = 1;
  }, TypeError);
  assert.equal(config.maxLineBytes, 4096);
});

Deno.test("backup FILE finds the database as the server does", () => {
  assert.deepEqual(parseInvocation(["backup", "b.db"], {}), {
    kind: "backup",
    db: "chat.db",
    file: "b.db",
    force: false,
  });
  assert.deepEqual(parseInvocation(["backup", "b.db", "--force"], { CHAT_DB: "/srv/c.db" }), {
    kind: "backup",
    db: "/srv/c.db",
    file: "b.db",
    force: true,
  });
  assert.equal((parseInvocation(["backup", "--db", "x.db", "b.db"]) as { db: string }).db, "x.db");
  assert.throws(() => parseInvocation(["backup"]), /backup: expected one FILE/);
  assert.throws(() => parseInvocation(["backup", "b", "--db", ":memory:"]), /keeps nothing/);
  assert.throws(() => parseInvocation(["backup", "b", "--http", "x"]), /unknown option --http/);
});
