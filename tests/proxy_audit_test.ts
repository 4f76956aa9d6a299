/**
 * Real client addresses behind a proxy (PROXY protocol v1 and v2 from a
 * trusted peer, refused from anyone else; X-Forwarded-For on /ws) and the
 * audit log, over real sockets against a server process.
 *
 * @module
 */

import assert from "node:assert/strict";
import { delay, LineClient, type ServerProcess, spawnServer, WAIT_MS } from "./helpers.ts";

const encoder = new TextEncoder();

/** Waits until the server's log has a line matching `match`; returns it. */
async function logLine(server: ServerProcess, match: (line: string) => boolean): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const found = server.log.find(match);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no such log line; got:\n${server.log.join("\n")}`);
    await delay(20);
  }
}

const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** A v2 PROXY header over IPv4 from `source`:`port`, with one TLV (skipped by the server). */
function v2Header(source: number[], port: number): Uint8Array {
  const body = [...source, 127, 0, 0, 1, port >> 8, port & 0xff, 0x1f, 0x90, 0x04, 0, 1, 0x41];
  return new Uint8Array([...V2_SIGNATURE, 0x21, 0x11, 0, body.length, ...body]);
}

Deno.test("PROXY v1 and v2 from a trusted peer: the real address is the client's", async () => {
  // At debug, every connection's opening is logged with its address.
  await using server = await spawnServer([
    "--trusted-proxies",
    "127.0.0.1/32,::1",
    "--log-level",
    "debug",
  ]);
  await using one = await LineClient.connect(server.port);
  await one.write(encoder.encode("PROXY TCP4 203.0.113.7 127.0.0.1 51234 8080\r\n"));
  await one.waitFor((l) => l.startsWith("* welcome"));
  await logLine(server, (l) => l.includes('"remote":"203.0.113.7:51234"') && l.includes("opened"));

  await using two = await LineClient.connect(server.port);
  // The header and the client's first line in one write, as a proxy sends them.
  await two.write(
    new Uint8Array([...v2Header([198, 51, 100, 9], 40000), ...encoder.encode("/nick vee\n")]),
  );
  await two.waitFor((l) => l.endsWith("is now known as vee"));
  await logLine(server, (l) => l.includes('"remote":"198.51.100.9:40000"') && l.includes("opened"));

  // Without a header (a health check, say) the proxy's own address stands.
  await using _plain = await LineClient.chat(server.port);
  await logLine(server, (l) => /"remote":"127\.0\.0\.1:\d+"/.test(l) && l.includes("opened"));
});

Deno.test("a PROXY header from an untrusted peer: closed without being served", async () => {
  await using server = await spawnServer(["--trusted-proxies", "10.0.0.0/8"]);
  for (
    const header of [
      encoder.encode("PROXY TCP4 203.0.113.7 127.0.0.1 51234 8080\r\n"),
      v2Header([203, 0, 113, 7], 51234),
    ]
  ) {
    await using client = await LineClient.connect(server.port);
    await client.write(header);
    await client.waitClosed();
    assert.ok(!client.lines.some((l) => l.startsWith("* welcome")), client.tail());
  }
  const refused = server.log.filter((l) => l.includes("closed unserved"));
  assert.equal(refused.length, 2, server.log.join("\n"));
  assert.ok(refused.every((l) => l.includes("untrusted peer") && l.includes('"level":"WARN"')));
  assert.ok(!server.log.some((l) => l.includes("203.0.113.7")));
});

Deno.test("a probe that connects and leaves is no warning (TCP health checks)", async () => {
  await using server = await spawnServer(["--trusted-proxies", "10.0.0.0/8"]);
  for (let i = 0; i < 3; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    conn.close();
  }
  // A client that does talk afterwards shows the server went on reading its log in order.
  await using client = await LineClient.chat(server.port);
  await client.send("/nick probe-done");
  await client.waitFor((l) => l.endsWith("is now known as probe-done"));
  assert.deepEqual(server.log.filter((l) => l.includes('"level":"WARN"')), []);
});

/**
 * Opens /ws by hand with `headers` (after `prefix`, such as a PROXY header);
 * resolves once the upgrade is answered.
 */
async function openWs(
  port: number,
  headers: Record<string, string>,
  prefix: Uint8Array = new Uint8Array(0),
): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  const request = encoder.encode(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
  );
  await conn.write(new Uint8Array([...prefix, ...request]));
  const buffer = new Uint8Array(1024);
  const n = await conn.read(buffer);
  assert.match(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), /^HTTP\/1\.1 101/);
  return conn;
}

/** The HTTP port a spawned server logged. */
async function httpPortOf(server: ServerProcess): Promise<number> {
  const http = await logLine(server, (l) => l.includes("http listening on"));
  return Number(/"httpAddress":"[^"]*:(\d+)"/.exec(http)![1]);
}

Deno.test("PROXY v1 and v2 on the HTTP listener: a WebSocket's address is the client's", async () => {
  await using server = await spawnServer([
    "--http",
    "127.0.0.1:0",
    "--trusted-proxies",
    "127.0.0.1",
    "--log-level",
    "debug",
  ]);
  const port = await httpPortOf(server);
  const one = await openWs(
    port,
    {},
    encoder.encode("PROXY TCP4 203.0.113.7 127.0.0.1 51234 8081\r\n"),
  );
  await logLine(
    server,
    (l) => l.includes("websocket") && l.includes('"remote":"203.0.113.7:51234"'),
  );
  const two = await openWs(port, {}, v2Header([198, 51, 100, 9], 40000));
  await logLine(
    server,
    (l) => l.includes("websocket") && l.includes('"remote":"198.51.100.9:40000"'),
  );
  // Plain HTTP through the relay, with no header (a health check): answered.
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  one.close();
  two.close();
});

Deno.test("a PROXY header to the HTTP listener from an untrusted peer: closed unserved", async () => {
  await using server = await spawnServer([
    "--http",
    "127.0.0.1:0",
    "--trusted-proxies",
    "10.0.0.0/8",
  ]);
  const port = await httpPortOf(server);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encoder.encode(
    "PROXY TCP4 203.0.113.7 127.0.0.1 51234 8081\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
  ));
  const buffer = new Uint8Array(1024);
  assert.equal(await conn.read(buffer), null, "closed without an answer");
  conn.close();
  await logLine(server, (l) => l.includes("closed unserved") && l.includes("untrusted peer"));
});

Deno.test("X-Forwarded-For counts from a trusted proxy only", async () => {
  for (const [trusted, expected] of [["127.0.0.1", "203.0.113.9"], ["10.0.0.0/8", "127.0.0.1"]]) {
    await using server = await spawnServer([
      "--http",
      "127.0.0.1:0",
      "--trusted-proxies",
      trusted,
      "--log-level",
      "debug",
    ]);
    const httpPort = await httpPortOf(server);
    const conn = await openWs(httpPort, { "X-Forwarded-For": "6.6.6.6, 203.0.113.9" });
    const opened = await logLine(server, (l) => l.includes("websocket") && l.includes("opened"));
    assert.ok(opened.includes(`"remote":"${expected}:`), opened);
    conn.close();
  }
});

// --- the audit log ------------------------------------------------------------------------------

/** The fail2ban filter's failregex as docs/security.md gives it (`<HOST>` as fail2ban expands it). */
const FAIL2BAN =
  /audit (admin|pass|login|nick_password|room_password|resume)_failed .*address=(?<host>\S+)/;

async function auditScenario(format: "json" | "text"): Promise<string[]> {
  const server = await spawnServer([
    "--log-format",
    format,
    "--admin-password",
    "s3cret-admin",
  ]);
  try {
    await using alice = await LineClient.chat(server.port);
    await alice.send("/nick alice", "/join dev");
    await alice.expect("* you are an operator of dev");
    await using bob = await LineClient.chat(server.port);
    await bob.send("/nick bob", "/join dev");
    await bob.expect("* bob joined dev");
    await alice.send("/kick bob spam");
    await bob.waitFor((l) => l.includes("was kicked"));
    await bob.send("/admin wrong-guess-42");
    await bob.expect("! wrong password");
    await alice.send("/admin s3cret-admin");
    await alice.expect("* you are now a server operator");
    await logLine(server, (l) => /audit\b.*\badmin\b/.test(l) && !l.includes("admin_failed"));
    return server.log.filter((l) => l.includes("audit"));
  } finally {
    await server[Symbol.asyncDispose]();
  }
}

Deno.test("audit lines of a kick, a failed and a good /admin, as JSON: no password", async () => {
  const lines = await auditScenario("json");
  const records = lines.map((l) => JSON.parse(l));
  const kick = records.find((r) => r.action === "kick");
  assert.equal(kick.logger, "chat.audit");
  assert.deepEqual([kick.nick, kick.room, kick.target, kick.address], [
    "alice",
    "dev",
    "bob",
    "127.0.0.1",
  ]);
  const failed = records.find((r) => r.action === "admin_failed");
  assert.equal(failed.nick, "bob");
  assert.equal(failed.level, "WARN");
  assert.ok(records.some((r) => r.action === "admin" && r.nick === "alice"));
  const all = lines.join("\n");
  assert.ok(!all.includes("wrong-guess-42") && !all.includes("s3cret-admin"));
});

Deno.test("audit lines as text: fixed shape, the fail2ban filter matches the failure", async () => {
  const lines = await auditScenario("text");
  assert.ok(
    lines.some((l) => l.includes("audit kick nick=alice address=127.0.0.1 room=dev target=bob")),
    lines.join("\n"),
  );
  const failed = lines.find((l) => l.includes("admin_failed"));
  assert.ok(failed?.endsWith("audit admin_failed nick=bob address=127.0.0.1"), failed);
  assert.equal(FAIL2BAN.exec(failed!)?.groups?.host, "127.0.0.1");
  assert.ok(!lines.some((l) => FAIL2BAN.test(l) && !l.includes("_failed")));
  const all = lines.join("\n");
  assert.ok(!all.includes("wrong-guess-42") && !all.includes("s3cret-admin"));
});
