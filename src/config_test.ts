import assert from "node:assert/strict";
import { type Config, ConfigError, helpText, parseAddress, parseInvocation } from "./config.ts";

type Env = Record<string, string | undefined>;

/** The config of a run invocation (fails the test for help or version). */
function run(args: string[], env: Env = {}): Readonly<Config> {
  const invocation = parseInvocation(args, env);
  assert.equal(invocation.kind, "run");
  if (invocation.kind !== "run") throw new Error("unreachable");
  return invocation.config;
}

/** The message of the ConfigError thrown, checked to be one line. */
function configError(args: string[], env: Env = {}): string {
  try {
    parseInvocation(args, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    assert.equal(err.name, "ConfigError");
    assert.ok(!err.message.includes("\n"), `not one line: ${JSON.stringify(err.message)}`);
    assert.notEqual(err.message, "");
    return err.message;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(args)} ${JSON.stringify(env)}`);
}

const DEFAULTS: Config = {
  configFile: null,
  tcp: { hostname: "127.0.0.1", port: 8080 },
  http: { hostname: "127.0.0.1", port: 8081 },
  metrics: null,
  irc: { hostname: "127.0.0.1", port: 6667 },
  ircTls: null,
  serverName: "chat.local",
  allowedOrigins: [],
  echo: false,
  db: "chat.db",
  redis: null,
  tls: null,
  maxLineBytes: 4096,
  maxQueueBytes: 1048576,
  historySize: 10000,
  historyOnJoin: 20,
  quietRoomSize: 200,
  summaryIntervalMs: 5000,
  wsPingTimeoutS: 30,
  flood: {
    lineBurst: 50,
    lineRate: 10,
    byteBurst: 32768,
    byteRate: 4096,
    maxWaitingBytes: 65536,
  },
  connections: {
    maxConnections: 10000,
    maxPerAddress: 16,
    maxNewPerMinute: 60,
    limitLoopback: false,
  },
  password: null,
  adminPassword: null,
  authFailures: { failuresPerMinute: 10, limitLoopback: false },
  limitLoopback: false,
  trustedProxies: [],
  idleTimeoutMs: 300_000,
  drainTimeoutMs: 5000,
  logLevel: "info",
  logFormat: "text",
};

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
  assert.equal(run(["--history-size", "10000000"]).historySize, 10_000_000);
});

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

// --- passwords --------------------------------------------------------------------------------

Deno.test("passwords come inline, from the environment, or from a file's first line", async () => {
  assert.equal(run(["--password", "s3cret"]).password, "s3cret");
  assert.equal(run([], { CHAT_ADMIN_PASSWORD: "boss" }).adminPassword, "boss");
  const dir = await Deno.makeTempDir({ prefix: "chat-config-" });
  try {
    await Deno.writeTextFile(`${dir}/pw`, "from file  \r\nsecond line\n");
    assert.equal(run(["--password-file", `${dir}/pw`]).password, "from file  ");
    assert.equal(run(["--admin-password-file", `${dir}/pw`]).adminPassword, "from file  ");
    await Deno.writeTextFile(`${dir}/empty`, "\n");
    assert.match(configError(["--password-file", `${dir}/empty`]), /empty first line/);
    assert.match(configError(["--password-file", `${dir}/missing`]), /cannot read/);
    assert.match(
      configError(["--password", "a", "--password-file", `${dir}/pw`]),
      /give one of them/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--max-auth-failures is checked; --no-limits turns it off", () => {
  assert.deepEqual(run(["--max-auth-failures", "3", "--limit-loopback"]).authFailures, {
    failuresPerMinute: 3,
    limitLoopback: true,
  });
  assert.equal(run(["--no-limits"]).authFailures, null);
  assert.match(configError(["--max-auth-failures", "0"]), /from 1/);
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
