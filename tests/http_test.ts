/**
 * The HTTP listener: the web client, health, metrics, routing errors and
 * the origin check on the WebSocket handshake.
 */
import assert from "node:assert/strict";
import { LineClient, WAIT_MS, withHttpServer, withServer } from "./helpers.ts";
import { rawHandshake, WsClient, wsUrl } from "./ws_client.ts";

/** GETs (or other method) a path of the server; returns the response and its body. */
async function request(
  origin: string,
  path: string,
  method = "GET",
): Promise<{ response: Response; body: string }> {
  const response = await fetch(origin + path, { method });
  const body = await response.text();
  return { response, body };
}

/** `GET /metrics` as a map from `name{labels}` to value. */
async function metrics(origin: string): Promise<Map<string, number>> {
  const { response, body } = await request(origin, "/metrics");
  assert.equal(response.status, 200);
  const samples = new Map<string, number>();
  for (const line of body.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** `GET /healthz`, parsed. */
async function health(
  origin: string,
): Promise<{ status: string; uptime_s: number; connections: number }> {
  const { response, body } = await request(origin, "/healthz");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  return JSON.parse(body);
}

/** Polls `read` until it returns `want` (the server notices closes asynchronously). */
async function eventually<T>(read: () => Promise<T>, want: T, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  let got = await read();
  while (got !== want && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    got = await read();
  }
  assert.equal(got, want, what);
}

Deno.test("GET / serves the web client as HTML", async () => {
  await using server = await withHttpServer();
  const { response, body } = await request(server.origin, "/");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
  assert.ok(body.length > 0, "the page is not empty");
  const head = await request(server.origin, "/", "HEAD");
  assert.equal(head.response.status, 200);
  assert.equal(head.body, "");
});

Deno.test("GET /healthz reports ok, the uptime and the open connections", async () => {
  await using server = await withHttpServer();
  const empty = await health(server.origin);
  assert.equal(empty.status, "ok");
  assert.equal(typeof empty.uptime_s, "number");
  assert.ok(Number.isInteger(empty.uptime_s) && empty.uptime_s >= 0 && empty.uptime_s < 5);
  assert.equal(empty.connections, 0);
  await using t1 = await LineClient.chat(server.port);
  await using t2 = await LineClient.chat(server.port);
  await using w = await WsClient.text(server.httpPort);
  await using j = await WsClient.jsonClient(server.httpPort);
  const four = await health(server.origin);
  assert.equal(four.status, "ok");
  assert.equal(typeof four.uptime_s, "number");
  assert.equal(four.connections, 4);
  await t2.close();
  await j.close();
  await eventually(async () => (await health(server.origin)).connections, 2, "after two closed");
  assert.ok(!t1.closed && !w.closed);
});

Deno.test("GET /metrics is Prometheus text with the chat_ counters", async () => {
  await using server = await withHttpServer();
  const { response, body } = await request(server.origin, "/metrics");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  for (
    const name of [
      "chat_connections",
      "chat_rooms",
      "chat_messages_in_total",
      "chat_lines_rejected_total",
      "chat_slow_consumers_total",
      "chat_history_messages",
    ]
  ) {
    assert.match(body, new RegExp(`^# TYPE ${name} (gauge|counter)$`, "m"), name);
  }
  let m = await metrics(server.origin);
  assert.equal(m.get('chat_connections{transport="tcp"}'), 0);
  assert.equal(m.get('chat_connections{transport="ws"}'), 0);
  assert.equal(m.get("chat_rooms"), 0);
  assert.equal(m.get("chat_messages_in_total"), 0);
  assert.equal(m.get('chat_lines_rejected_total{reason="too_long"}'), 0);
  assert.equal(m.get("chat_slow_consumers_total"), 0);
  assert.equal(m.get("chat_history_messages"), 0);
  // The process's memory, as Deno.memoryUsage() reports it (the benchmarks read it here).
  assert.ok(m.get("chat_memory_rss_bytes")! > m.get("chat_memory_heap_used_bytes")!);
  assert.ok(m.get("chat_memory_heap_used_bytes")! > 0);

  await using t = await LineClient.chat(server.port);
  await using w = await WsClient.text(server.httpPort);
  await using j = await WsClient.jsonClient(server.httpPort);
  await t.send("/join dev", "one", "two");
  await t.expect(`[dev] ${t.nick}: two`);
  j.sendJson({ type: "say", text: "three", ref: 1 });
  await j.waitForEvent((e) => e.ref === 1);
  m = await metrics(server.origin);
  assert.equal(m.get('chat_connections{transport="tcp"}'), 1);
  assert.equal(m.get('chat_connections{transport="ws"}'), 2);
  assert.equal(m.get("chat_rooms"), 2); // lobby and dev
  assert.equal(m.get("chat_messages_in_total"), 3);
  assert.equal(m.get("chat_history_messages"), 3);

  // An over-long TCP line is counted as rejected, and is no message.
  await t.write(new TextEncoder().encode("x".repeat(5000) + "\n"));
  await t.expect("! line too long (max 4096 bytes)");
  w.send("four");
  await w.expect(`[lobby] ${w.nick}: four`);
  m = await metrics(server.origin);
  assert.equal(m.get('chat_lines_rejected_total{reason="too_long"}'), 1);
  assert.equal(m.get("chat_messages_in_total"), 4);
  assert.equal(m.get("chat_history_messages"), 4);

  await t.close();
  await w.close();
  await eventually(
    async () => (await metrics(server.origin)).get('chat_connections{transport="ws"}'),
    1,
    "ws gauge after a close",
  );
  m = await metrics(server.origin);
  assert.equal(m.get('chat_connections{transport="tcp"}'), 0);
  assert.equal(m.get("chat_rooms"), 1); // dev emptied, lobby still has j
});

Deno.test("unknown paths are 404, wrong methods 405 with Allow, /ws without upgrade 426", async () => {
  await using server = await withHttpServer();
  const missing = await request(server.origin, "/nope");
  assert.equal(missing.response.status, 404);
  const post = await request(server.origin, "/metrics", "POST");
  assert.equal(post.response.status, 405);
  assert.match(post.response.headers.get("allow") ?? "", /\bGET\b/);
  const del = await request(server.origin, "/healthz", "DELETE");
  assert.equal(del.response.status, 405);
  assert.match(del.response.headers.get("allow") ?? "", /\bGET\b/);
  const postRoot = await request(server.origin, "/", "POST");
  assert.equal(postRoot.response.status, 405);
  assert.match(postRoot.response.headers.get("allow") ?? "", /\bGET\b/);
  const plain = await request(server.origin, "/ws");
  assert.equal(plain.response.status, 426);
  assert.equal(server.stats.openConnections(), 0);
});

Deno.test("a WebSocket from a foreign Origin gets 403; own origin and no Origin are allowed", async () => {
  await using server = await withHttpServer();
  const evil = await rawHandshake(server.httpPort, { headers: { Origin: "http://evil.example" } });
  evil.conn.close();
  assert.equal(evil.status, 403, evil.head);
  await assert.rejects(
    WsClient.open(wsUrl(server.httpPort), { headers: { origin: "http://evil.example" } }),
  );
  const own = await rawHandshake(server.httpPort, { headers: { Origin: server.origin } });
  own.conn.close();
  assert.equal(own.status, 101, own.head);
  const none = await rawHandshake(server.httpPort);
  none.conn.close();
  assert.equal(none.status, 101, none.head);
  await using a = await WsClient.open(wsUrl(server.httpPort), {
    headers: { origin: server.origin },
  });
  await a.waitFor((l) => / joined lobby$/.test(l));
  await using b = await WsClient.text(server.httpPort); // Deno sends no Origin
  b.send("hi");
  await a.expect(`[lobby] ${b.nick}: hi`);
});

Deno.test("--allowed-origins lets the listed origins open /ws and no others", async () => {
  await using server = await withHttpServer({ allowedOrigins: ["https://chat.example.com"] });
  for (
    const [origin, status] of [
      ["https://chat.example.com", 101],
      [server.origin, 101],
      ["http://chat.example.com", 403],
      ["https://chat.example.com:8443", 403],
      ["https://evil.example", 403],
      ["null", 403],
    ] as const
  ) {
    const raw = await rawHandshake(server.httpPort, { headers: { Origin: origin } });
    raw.conn.close();
    assert.equal(raw.status, status, `${origin}: ${raw.head}`);
  }
  await using ok = await WsClient.open(wsUrl(server.httpPort, "?format=json"), {
    headers: { origin: "https://chat.example.com" },
    json: true,
  });
  await ok.waitForEvent((e) => e.type === "joined");
  await assert.rejects(
    WsClient.open(wsUrl(server.httpPort), { headers: { origin: "https://evil.example" } }),
  );
});

Deno.test("with --http off there is no HTTP listener", async () => {
  await using server = withServer();
  assert.equal(server.httpAddr, null);
  await using t = await LineClient.chat(server.port);
  assert.match(t.nick, /^guest-\d+$/);
});
