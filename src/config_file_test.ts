import assert from "node:assert/strict";
import { ConfigError, parseInvocation } from "./config.ts";
import { parseConfigText } from "./config_file.ts";
import { planReload } from "./reload.ts";

/** A temporary config file with `text`; removed by `using`. */
function tempFile(text: string, suffix = ".toml"): { path: string } & Disposable {
  const path = Deno.makeTempFileSync({ prefix: "chat-config-", suffix });
  Deno.writeTextFileSync(path, text);
  return { path, [Symbol.dispose]: () => Deno.removeSync(path) };
}

function run(args: string[], env: Record<string, string> = {}) {
  const invocation = parseInvocation(args, env);
  assert.equal(invocation.kind, "run");
  return (invocation as { kind: "run"; config: ReturnType<typeof Object> }).config;
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("config file values are used, validated as their flags", () => {
  using file = tempFile(
    [
      "# settings",
      'address = "127.0.0.1:9000"',
      "max-line-bytes = 2048",
      'http = "off"',
      "no-limits = true",
      'allowed-origins = ["https://a.example", "https://b.example"]',
    ].join("\n"),
  );
  const config = run(["--config", file.path]);
  assert.equal(config.configFile, file.path);
  assert.deepEqual(config.tcp, { hostname: "127.0.0.1", port: 9000 });
  assert.equal(config.maxLineBytes, 2048);
  assert.equal(config.http, null);
  assert.equal(config.flood, null);
  assert.deepEqual(config.allowedOrigins, ["https://a.example", "https://b.example"]);
});

Deno.test("flags and the environment override the file; CHAT_CONFIG names it", () => {
  using file = tempFile("max-line-bytes = 2048\nhistory-on-join = 5\nquiet-room-size = 7\n");
  const config = run(["--config", file.path, "--max-line-bytes", "1024"], {
    CHAT_HISTORY_ON_JOIN: "3",
  });
  assert.equal(config.maxLineBytes, 1024);
  assert.equal(config.historyOnJoin, 3);
  assert.equal(config.quietRoomSize, 7);
  assert.equal(run([], { CHAT_CONFIG: file.path }).quietRoomSize, 7);
});

Deno.test("an unknown key names the key and its line", () => {
  using file = tempFile("max-line-bytes = 2048\n\nmax-lines = 3\n");
  const message = configError(() => run(["--config", file.path]));
  assert.equal(message, `${file.path}:3: max-lines: unknown key`);
});

Deno.test("a bad value names the key and its line, with the flag's own check", () => {
  using file = tempFile("http = 'off'\nmax-line-bytes = 10\n");
  assert.match(
    configError(() => run(["--config", file.path])),
    new RegExp(`^${file.path}:2: max-line-bytes: expected a whole number from 64 to 1048576`),
  );
  assert.match(
    configError(() => parseConfigText("x = 1\necho = 'yes'\n", "c.toml")),
    /^c\.toml:1: x: unknown key/,
  );
  assert.match(
    configError(() => parseConfigText("echo = 'yes'\n", "c.toml")),
    /^c\.toml:1: echo: expected true or false/,
  );
  assert.match(
    configError(() => parseConfigText("[db]\npath = 'x'\n", "c.toml")),
    /^c\.toml:1: db: expected a string or a whole number, got a table/,
  );
  assert.match(configError(() => parseConfigText("db = \n", "c.toml")), /^c\.toml:1: /);
});

Deno.test("a JSON config file works the same way", () => {
  using file = tempFile('{\n  "max-line-bytes": 2048,\n  "bogus": 1\n}\n', ".json");
  assert.equal(
    configError(() => run(["--config", file.path])),
    `${file.path}:3: bogus: unknown key`,
  );
  Deno.writeTextFileSync(file.path, '{ "max-line-bytes": 2048 }');
  assert.equal(run(["--config", file.path]).maxLineBytes, 2048);
});

Deno.test("a missing config file is an error naming it", () => {
  assert.match(configError(() => run(["--config", "/nonexistent/chat.toml"])), /cannot read/);
});

Deno.test("a reload applies live settings and keeps the rest until a restart", () => {
  const running = run(["--db", ":memory:"]);
  const next = run(["--db", "other.db", "--max-line-bytes", "2048", "--password", "pw"]);
  const plan = planReload(running, next);
  assert.deepEqual(plan.applied, ["max-line-bytes", "password"]);
  assert.deepEqual(plan.restart, ["db"]);
  assert.equal(plan.config.db, ":memory:");
  assert.equal(plan.config.maxLineBytes, 2048);
  // Turning limits off (or on) is not done live.
  const off = planReload(running, run(["--db", ":memory:", "--no-limits"]));
  assert.ok(off.restart.includes("flood-*"));
  assert.deepEqual(off.config.flood, running.flood);
});
