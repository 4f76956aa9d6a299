/**
 * The standard metrics, scraped from a real server process on its HTTP
 * listener and on the internal `--metrics` one: every name is there in valid
 * Prometheus text (HELP and TYPE before the samples, cumulative histogram
 * buckets), the delivery latency counts deliveries, and the counters move on
 * a refused connection and a failed `/admin`; a quiet server trims its memory
 * after a burst.
 */
import assert from "node:assert/strict";
import { delay, LineClient, type ServerProcess, spawnServer, WAIT_MS } from "./helpers.ts";

const NEW_NAMES = [
  "process_resident_memory_bytes",
  "process_start_time_seconds",
  "process_open_fds",
  "chat_build_info",
  "chat_delivery_latency_seconds",
  "chat_event_loop_lag_seconds",
  "chat_connections_refused_total",
  "chat_flood_disconnects_total",
  "chat_login_failures_total",
  "chat_store_errors_total",
];

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|\+Inf|NaN)$/;

/** Parses and checks the exposition: samples by `name{labels}`, types by family. */
function parse(body: string): { samples: Map<string, number>; types: Map<string, string> } {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  const helped = new Set<string>();
  assert.ok(body.endsWith("\n"), "ends with a newline");
  for (const line of body.trimEnd().split("\n")) {
    const meta = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (meta !== null) {
      if (meta[1] === "HELP") helped.add(meta[2]);
      else {
        assert.ok(helped.has(meta[2]), `HELP before TYPE for ${meta[2]}`);
        assert.ok(["counter", "gauge", "histogram"].includes(meta[3]), line);
        types.set(meta[2], meta[3]);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m !== null, `not a sample line: ${line}`);
    const family = types.get(m[1]) === undefined ? m[1].replace(/_(bucket|sum|count)$/, "") : m[1];
    assert.ok(types.has(family), `TYPE before the samples of ${m[1]}`);
    samples.set(m[1] + (m[2] ?? ""), Number(m[3]));
  }
  return { samples, types };
}

/** Checks a histogram's buckets are cumulative up to +Inf, which equals its count. */
function checkHistogram(body: string, name: string): number {
  const buckets = [...body.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, "gm"))];
  assert.ok(buckets.length > 2, `${name} has buckets`);
  let previous = 0;
  let previousLe = 0;
  for (const [, le, value] of buckets) {
    assert.ok(Number(value) >= previous, `${name} buckets are cumulative`);
    assert.ok(le === "+Inf" || Number(le) > previousLe, `${name} le increases`);
    previous = Number(value);
    if (le !== "+Inf") previousLe = Number(le);
  }
  assert.equal(buckets.at(-1)![1], "+Inf");
  const count = Number(new RegExp(`^${name}_count (\\S+)$`, "m").exec(body)?.[1]);
  assert.equal(previous, count, "+Inf bucket equals _count");
  assert.match(body, new RegExp(`^${name}_sum \\S+$`, "m"));
  return count;
}

/** The port the server logged for `field` (`httpAddress`, `metricsAddress`), waiting for it. */
async function loggedPort(server: ServerProcess, field: string): Promise<number> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    for (const line of server.log) {
      const m = new RegExp(`"${field}":"[^"]*:(\\d+)"`).exec(line);
      if (m) return Number(m[1]);
    }
    await delay(20);
  }
  throw new Error(`no ${field} in the log:\n${server.log.join("\n")}`);
}

async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return await response.text();
}

/** A WebSocket upgrade from a foreign origin: refused with 403. */
async function refusedUpgrade(port: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
          "Sec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n\r\n",
      ),
    );
    const buffer = new Uint8Array(512);
    const n = await conn.read(buffer);
    assert.match(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), /^HTTP\/1\.1 403/);
  } finally {
    conn.close();
  }
}

Deno.test("metrics: the standard names in valid Prometheus text, on both listeners; counters move", async () => {
  await using server = await spawnServer([
    "--http",
    "127.0.0.1:0",
    "--metrics",
    "127.0.0.1:0",
    "--admin-password",
    "right",
  ], { allowAll: true });
  const httpPort = await loggedPort(server, "httpAddress");
  const metricsPort = await loggedPort(server, "metricsAddress");

  for (const port of [httpPort, metricsPort]) {
    let body = await scrape(port);
    // The probe fires every 20 ms from the start; a first scrape may still come before it has.
    for (let i = 0; i < 100 && checkHistogram(body, "chat_event_loop_lag_seconds") === 0; i++) {
      await delay(20);
      body = await scrape(port);
    }
    const { samples, types } = parse(body);
    for (const name of NEW_NAMES) assert.ok(types.has(name), `${name} on port ${port}`);
    assert.equal(types.get("chat_delivery_latency_seconds"), "histogram");
    checkHistogram(body, "chat_delivery_latency_seconds");
    assert.ok(checkHistogram(body, "chat_event_loop_lag_seconds") > 0, "loop lag observed");
    assert.ok(samples.get("process_resident_memory_bytes")! > 0);
    assert.ok(samples.get("process_open_fds")! > 0);
    const start = samples.get("process_start_time_seconds")!;
    assert.ok(Math.abs(start - Date.now() / 1000) < 3600, `start time ${start}`);
    assert.match(body, /^chat_build_info\{version="[^"]+",deno="[^"]+"\} 1$/m);
    // The names that were there before stay.
    assert.ok(types.has("chat_memory_rss_bytes") && types.has("chat_connections"));
  }
  // Every metric the Grafana dashboard in the docs queries is one the server exposes.
  const { types } = parse(await scrape(metricsPort));
  const dashboard = await Deno.readTextFile(
    new URL("../docs/grafana-dashboard.json", import.meta.url),
  );
  JSON.parse(dashboard);
  const queried = new Set(
    [...dashboard.matchAll(/\b((?:chat|process)_[a-z_]+)/g)].map((m) =>
      m[1].replace(/_bucket$/, "")
    ),
  );
  for (const name of queried) assert.ok(types.has(name), `the dashboard's ${name} is exposed`);
  // The internal listener serves health too, and nothing else.
  const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
  assert.equal((await health.json()).status, "ok");
  const other = await fetch(`http://127.0.0.1:${metricsPort}/`);
  assert.equal(other.status, 404);
  await other.body?.cancel();

  const before = parse(await scrape(metricsPort)).samples;
  const latencyBefore = checkHistogram(await scrape(metricsPort), "chat_delivery_latency_seconds");

  // Deliveries, a failed /admin and a refused connection.
  await using sender = await LineClient.chat(server.port);
  await using member = await LineClient.chat(server.port);
  await sender.send("/join m");
  await member.send("/join m");
  await sender.expect(`* ${member.nick} joined m`);
  for (let i = 0; i < 5; i++) {
    await sender.send(`hello ${i}`);
    await member.expect(`[m] ${sender.nick}: hello ${i}`);
  }
  await sender.send("/admin wrong");
  await sender.waitFor((l) => l.includes("wrong password"));
  await refusedUpgrade(httpPort);

  const body = await scrape(metricsPort);
  const after = parse(body).samples;
  const latencyAfter = checkHistogram(body, "chat_delivery_latency_seconds");
  assert.ok(
    latencyAfter >= latencyBefore + 10,
    `latency count ${latencyBefore} -> ${latencyAfter}`,
  );
  const moved = (key: string) => after.get(key)! - (before.get(key) ?? 0);
  assert.equal(moved('chat_login_failures_total{kind="admin"}'), 1);
  assert.equal(moved('chat_connections_refused_total{reason="origin"}'), 1);
  assert.equal(moved('chat_flood_disconnects_total{reason="excess_flood"}'), 0);
});

Deno.test("metrics: --metrics off by default; process_open_fds left out without --allow-all", async () => {
  await using server = await spawnServer(["--http", "127.0.0.1:0"]);
  const httpPort = await loggedPort(server, "httpAddress");
  const { types } = parse(await scrape(httpPort));
  for (const name of NEW_NAMES.filter((n) => n !== "process_open_fds")) {
    assert.ok(types.has(name), name);
  }
  assert.ok(!types.has("process_open_fds"));
  assert.ok(!server.log.some((l) => l.includes("metricsAddress")));
});

Deno.test("metrics: after a burst a quiet server trims its memory, logs it and counts it", async () => {
  await using server = await spawnServer(["--http", "127.0.0.1:0", "--memory-trim", "16"]);
  const httpPort = await loggedPort(server, "httpAddress");
  const trims = async () => parse(await scrape(httpPort)).samples.get("chat_memory_trims_total");
  assert.equal(await trims(), 0);
  // The burst: 5000 lines of 1 KB (about 30 MB more resident memory).
  await using sender = await LineClient.chat(server.port);
  await using member = await LineClient.chat(server.port);
  await sender.send("/join burst");
  await member.send("/join burst");
  await sender.expect(`* ${member.nick} joined burst`);
  const filler = "x".repeat(1000);
  for (let i = 0; i < 5000; i += 100) {
    await sender.send(...Array.from({ length: 100 }, (_, j) => `${i + j} ${filler}`));
    await member.expect(`[burst] ${sender.nick}: ${i + 99} ${filler}`);
  }
  // Quiet from here on: the trim comes within a few half-second checks.
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline && (await trims()) === 0) await delay(100);
  assert.equal(await trims(), 1);
  const logged = server.log.find((l) => l.includes("memory trimmed after a burst"));
  assert.ok(logged !== undefined, "the trim is logged");
  const { before, after } = JSON.parse(logged);
  assert.ok(after < before, logged);
  // The server goes on as before.
  await sender.send("after the trim");
  await member.expect(`[burst] ${sender.nick}: after the trim`);
});
