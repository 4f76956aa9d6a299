/**
 * Connection limits and HTTP on the chat port, over real sockets.
 */
import assert from "node:assert/strict";
import type { ConnectionLimiter } from "../src/transport/limits.ts";
import { LineClient, withHttpServer, withServer } from "./helpers.ts";

const limits = (over: Partial<ConnectionLimiter["limits"]>) => ({
  maxConnections: 10_000,
  maxPerAddress: 16,
  maxNewPerMinute: 60,
  limitLoopback: true,
  ...over,
});

Deno.test("past --max-connections a client gets one error line and is closed", async () => {
  await using server = withServer({
    connections: limits({ maxConnections: 3, limitLoopback: false }),
  });
  const kept = await Promise.all([1, 2, 3].map(() => LineClient.chat(server.port)));
  try {
    await using extra = await LineClient.connect(server.port);
    await extra.waitClosed();
    assert.deepEqual(extra.lines, ["! server full (max 3 connections)"]);
    // Room again once one leaves.
    await kept.pop()!.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await using again = await LineClient.chat(server.port);
    assert.match(again.lines[0], /^\* welcome/);
  } finally {
    await Promise.all(kept.map((c) => c.close()));
  }
});

Deno.test("per address: concurrent connections and new connections a minute are bounded", async () => {
  await using server = withServer({
    connections: limits({ maxPerAddress: 2, maxNewPerMinute: 3 }),
  });
  const a = await LineClient.chat(server.port);
  const b = await LineClient.chat(server.port);
  await using c = await LineClient.connect(server.port);
  await c.waitClosed();
  assert.deepEqual(c.lines, ["! too many connections from 127.0.0.1 (max 2)"]);
  await a.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  await using d = await LineClient.chat(server.port); // the third new one this minute
  await b.close(); // one open (d): under the concurrent bound, at the per-minute one
  await new Promise((resolve) => setTimeout(resolve, 100));
  await using e = await LineClient.connect(server.port);
  await e.waitClosed();
  assert.deepEqual(e.lines, ["! too many new connections from 127.0.0.1 (max 3 a minute)"]);
  assert.match(d.lines[0], /^\* welcome/);
});

Deno.test("loopback is exempt from the per-address limits unless --limit-loopback", async () => {
  await using server = withServer({
    connections: limits({ maxPerAddress: 1, maxNewPerMinute: 1, limitLoopback: false }),
  });
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await using c = await LineClient.chat(server.port);
  await a.send("fine");
  await c.expect(`[lobby] ${a.nick}: fine`);
  assert.ok(b.lines.length > 0);
});

Deno.test("WebSocket clients count against the same limits (HTTP 503 when full)", async () => {
  await using server = await withHttpServer({ connections: limits({ maxConnections: 1 }) });
  await using tcp = await LineClient.chat(server.port);
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/ws`, {
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    },
  });
  assert.equal(res.status, 503);
  assert.equal(await res.text(), "server full (max 1 connections)\n");
  assert.ok(tcp.lines.length > 0);
});

Deno.test("a first line that is an HTTP request closes the connection with no reply", async () => {
  await using server = withServer();
  await using watcher = await LineClient.chat(server.port);
  await using web = await LineClient.connect(server.port);
  await web.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  await web.waitClosed();
  assert.ok(web.lines.every((l) => l.startsWith("* ")), `only the welcome: ${web.lines}`);
  assert.ok(!watcher.lines.some((l) => l.includes("GET /")), "nothing was said");
});

Deno.test("a silent TCP client gets '* ping', and is closed if it stays silent", async () => {
  await using server = withServer({ idleTimeoutMs: 300 });
  await using watcher = await LineClient.chat(server.port);
  await using silent = await LineClient.chat(server.port);
  // The watcher is not silent: a blank line now and then.
  const keepAlive = setInterval(() => watcher.send("").catch(() => {}), 100);
  try {
    await silent.expect("* ping", 5000);
    await silent.waitClosed(5000);
    await watcher.waitFor((l) => l === `* ${silent.nick} left lobby (quit: idle timeout)`, 5000);
    assert.ok(!watcher.closed);
  } finally {
    clearInterval(keepAlive);
  }
});

Deno.test("a client that answers the ping stays", async () => {
  await using server = withServer({ idleTimeoutMs: 300 });
  await using c = await LineClient.chat(server.port);
  for (let i = 0; i < 3; i++) {
    await c.expect("* ping", 5000);
    await c.send(""); // any line, a blank one included
  }
  assert.ok(!c.closed);
  await c.send("still here");
  await c.expect(`[lobby] ${c.nick}: still here`);
});
