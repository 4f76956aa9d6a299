/**
 * The program as users run it: flags, environment, exit statuses, signals.
 */
import assert from "node:assert/strict";
import { delay, LineClient, runMain, spawnServer } from "./helpers.ts";
import { WsClient, wsUrl } from "./ws_client.ts";

Deno.test("--help lists every option and exits 0", async () => {
  const { code, stdout } = await runMain(["--help"]);
  assert.equal(code, 0);
  for (
    const flag of [
      "--echo",
      "--http",
      "--db",
      "--max-line-bytes",
      "--max-queue-bytes",
      "--history-size",
      "--log-level",
      "--log-format",
      "--version",
    ]
  ) {
    assert.ok(stdout.includes(flag), `help mentions ${flag}`);
  }
  assert.match(stdout, /HOST:PORT/);
});

Deno.test("--version prints the version and exits 0", async () => {
  const { code, stdout } = await runMain(["--version"]);
  assert.equal(code, 0);
  assert.match(stdout, /^chat-server \d+\.\d+\.\d+/);
});

for (
  const [args, pattern] of [
    [["--bogus"], /--bogus/],
    [["--max-line-bytes", "lots"], /--max-line-bytes: expected a whole number/],
    [["--log-level", "loud"], /--log-level: expected one of/],
    [["not-an-address"], /expected HOST:PORT/],
    [["127.0.0.1:99999"], /expected HOST:PORT/],
  ] as const
) {
  Deno.test(`bad usage (${args.join(" ")}) is one line on stderr and exit status 2`, async () => {
    const { code, stderr } = await runMain([...args]);
    assert.equal(code, 2);
    const lines = stderr.trim().split("\n");
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0], /^chat-server: /);
    assert.match(lines[0], pattern);
  });
}

Deno.test("an address that cannot be bound is one clear line and exit status 2", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { code, stderr } = await runMain([
    `127.0.0.1:${taken.addr.port}`,
    ...["--http", "off", "--irc", "off", "--db", ":memory:"],
  ]);
  assert.equal(code, 2);
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(
    lines[0],
    new RegExp(`^chat-server: cannot listen on 127\\.0\\.0\\.1:${taken.addr.port}`),
  );
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
});

Deno.test("options can come from the environment", async () => {
  await using server = await spawnServer([], { env: { CHAT_MAX_LINE_BYTES: "100" } });
  await using c = await LineClient.chat(server.port);
  await c.send("x".repeat(101));
  await c.expect("! line too long (max 100 bytes)");
  const { code, stderr } = await runMain(["--http", "off"], { CHAT_LOG_FORMAT: "xml" });
  assert.equal(code, 2);
  assert.match(stderr, /CHAT_LOG_FORMAT: expected one of text, json, got 'xml'/);
});

Deno.test("connections are logged with the peer address, as JSON lines", async () => {
  await using server = await spawnServer();
  const c = await LineClient.chat(server.port);
  const { port } = c.conn.localAddr as Deno.NetAddr;
  await c.close();
  server.kill("SIGTERM");
  await server.status;
  const events = server.log.map((l) => JSON.parse(l));
  const mine = events.filter((e) => e.remote === `127.0.0.1:${port}`);
  // One line, when it ended (its opening is at debug: see the log-level tests below).
  assert.equal(mine.length, 1, server.log.join("\n"));
  assert.match(mine[0].message, /closed/);
  assert.equal(mine[0].level, "INFO");
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal} shuts down gracefully: notice, flush, exit status 0`, async () => {
    await using server = await spawnServer();
    const clients = await Promise.all(
      Array.from({ length: 20 }, () => LineClient.chat(server.port)),
    );
    server.kill(signal);
    await Promise.all(clients.map((c) => c.expect("* server shutting down")));
    await Promise.all(clients.map((c) => c.waitClosed()));
    const status = await server.status;
    assert.equal(status.code, 0);
    await Promise.all(clients.map((c) => c.close()));
  });
}

Deno.test("one Ctrl-C delivered twice (10 ms apart) still drains and exits 0; a later one exits at once", async () => {
  // A client that does not read keeps the drain running: megabytes wait for it.
  const args = ["--max-queue-bytes", String(64 << 20), "--drain-timeout", "20"];
  for (const second of ["repeat", "later"] as const) {
    await using server = await spawnServer(args);
    const stalled = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await using talker = await LineClient.chat(server.port);
    const line = "x".repeat(4000);
    const lines = 2000; // 8 MB: twice what loopback's socket buffers hold for a reader that stalls
    for (let i = 0; i < lines; i += 100) await talker.send(...Array(100).fill(line));
    // Once the talker hears its last line, all of it is queued for the stalled client too.
    await talker.send("done");
    await talker.expect(`[lobby] ${talker.nick}: done`, 30_000);
    server.kill("SIGINT");
    await delay(second === "repeat" ? 10 : 1500);
    server.kill("SIGINT");
    if (second === "later") {
      assert.equal((await server.status).code, 1, "a second Ctrl-C after the window exits at once");
      stalled.close();
      continue;
    }
    // Now read everything: the notice comes after what was queued, then the close.
    const tail = await readToEnd(stalled);
    assert.ok(tail.endsWith("* server shutting down\n"), JSON.stringify(tail.slice(-80)));
    const status = await server.status;
    assert.equal(status.code, 0, server.log.join("\n"));
    assert.ok(!server.log.some((l) => l.includes("second signal")), "no second signal was seen");
  }
});

Deno.test("the log counts in words: 1 connection, 1 message", async () => {
  await using server = await spawnServer(["--log-format", "text"]);
  await using client = await LineClient.chat(server.port);
  await client.send("hello");
  await client.expect(`[lobby] ${client.nick}: hello`);
  server.kill("SIGTERM");
  assert.equal((await server.status).code, 0, server.log.join("\n"));
  const log = server.log.join("\n");
  assert.match(log, /shutting down: 1 connection$/m);
  assert.match(
    log,
    /stopped: 1 message in, \d+ events out, \d+ bytes out, 0 slow consumers cut off/,
  );
});

/** Reads a connection until the peer closes it; returns the last 4 KiB as text. */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(1 << 16);
  let last = new Uint8Array(0);
  for (;;) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) break;
    const merged = new Uint8Array(last.length + n);
    merged.set(last);
    merged.set(buffer.subarray(0, n), last.length);
    last = merged.slice(-4096);
  }
  conn.close();
  return new TextDecoder().decode(last);
}

Deno.test("running out of file descriptors never stops the accept loop", async () => {
  // Few descriptors: a burst of connections exhausts them, then they are closed.
  await using server = await spawnServer([], { shell: "ulimit -n 64;" });
  const burst: Deno.TcpConn[] = [];
  for (let i = 0; i < 100; i++) {
    burst.push(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
  }
  // Give the server time to hit the limit while these are open.
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const conn of burst) conn.close();
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await a.send("the server survived");
  await b.expect(`[lobby] ${a.nick}: the server survived`);
  assert.ok(
    server.log.some((l) => l.includes("accept failed")),
    "the server hit the descriptor limit and said so",
  );
});

/** The JSON log lines of `server` whose message template contains `text`. */
function logLines(server: { log: string[] }, text: string): Record<string, unknown>[] {
  return server.log.filter((l) => l.startsWith("{") && l.includes(text)).map((l) => JSON.parse(l));
}

/** Waits until `done()` holds, checked every 20 ms, for at most 10 s. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 10_000; !done(); await delay(20)) {
    if (Date.now() > end) throw new Error(`waited 10 s for ${what}`);
  }
}

for (const level of ["info", "debug"]) {
  Deno.test(`--log-level ${level}: a connection is logged when it ends, with how long it lasted`, async () => {
    await using server = await spawnServer(["--http", "127.0.0.1:0", "--log-level", level]);
    await until(() => logLines(server, "http listening on").length > 0, "the HTTP listener");
    const http = logLines(server, "http listening on")[0];
    const httpPort = Number(String(http.httpAddress).split(":").pop());
    await using tcp = await LineClient.chat(server.port);
    await using ws = await WsClient.open(wsUrl(httpPort));
    await ws.waitFor((item) => item.startsWith("* welcome"));
    await delay(150); // so that the durations are not 0
    await tcp.send("/quit");
    await ws[Symbol.asyncDispose]();
    await until(() => logLines(server, "closed from").length === 2, "two closing lines");
    const [first, second] = logLines(server, "closed from");
    const tcpLine = first.logger === "chat.tcp" ? first : second;
    const wsLine = first.logger === "chat.tcp" ? second : first;
    assert.equal(tcpLine.level, "INFO");
    assert.equal(
      tcpLine.message,
      "connection {id} closed from {remote} ({closedBy}) after {seconds} s nick={nick}",
    );
    assert.equal(tcpLine.nick, tcp.nick);
    assert.equal(tcpLine.transport, "tcp");
    assert.ok(
      Number(tcpLine.seconds) >= 0.1 && Number(tcpLine.seconds) < 10,
      String(tcpLine.seconds),
    );
    assert.equal(wsLine.level, "INFO");
    assert.match(
      String(wsLine.message),
      /^websocket \{id\} closed from \{remote\} \(\{reason\}\) after \{seconds\} s/,
    );
    assert.equal(wsLine.format, "text");
    assert.ok(Number(wsLine.seconds) >= 0.1 && Number(wsLine.seconds) < 10, String(wsLine.seconds));
    // The openings: only at debug.
    const opened = logLines(server, "opened from");
    if (level === "info") assert.deepEqual(opened, []);
    else assert.deepEqual(opened.map((l) => l.level), ["DEBUG", "DEBUG"]);
  });
}
