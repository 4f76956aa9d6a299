/**
 * What `/metrics` and `/healthz` answer, on the public HTTP listener and on
 * the internal one of `--metrics`: the Prometheus text exposition of the
 * server's counters (the standard `process_*` names too) and the health
 * summary.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import type { Logger } from "@logtape/logtape";
import type { HistoryStore } from "../core/history.ts";
import type { Histogram, Stats } from "../core/stats.ts";

/** What the metrics and health answers are read from. */
export interface MetricsContext {
  hub: { readonly roomCount: number };
  stats: Stats;
  store: HistoryStore;
  /** Cluster mode's link (`null` for a single process). */
  cluster?: { readonly up: boolean; errorCounts?(): Readonly<Record<string, number>> } | null;
  /** `Date.now()` when the server started. */
  startedAt: number;
}

/** When the process started, in seconds since the epoch (the runtime's time origin). */
const PROCESS_START_S = Math.round(performance.timeOrigin) / 1000;

/** The open file descriptors, or `null` where they cannot be counted (see below). */
function openFds(): number | null {
  // Linux only, and Deno lets a program read /proc only with --allow-all: elsewhere,
  // and under the narrower permissions of `deno task start`, the metric is left out.
  if (Deno.build.os !== "linux") return null;
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n - 1; // the descriptor that read the directory
  } catch {
    return null;
  }
}

/** The Prometheus text exposition of the server's counters. */
export function metricsText(ctx: MetricsContext): string {
  const { stats } = ctx;
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const byLabel = (label: string, counts: Readonly<Record<string, number>>): [string, number][] =>
    Object.entries(counts).map(([value, n]) => [`{${label}="${value}"}`, n]);
  metric(
    "chat_connections",
    "gauge",
    "Open client connections.",
    ["tcp", "ws", "irc"].map((t) => [`{transport="${t}"}`, stats.connections.get(t) ?? 0]),
  );
  metric("chat_rooms", "gauge", "Rooms with members.", [["", ctx.hub.roomCount]]);
  metric("chat_messages_in_total", "counter", "Chat messages accepted.", [["", stats.messagesIn]]);
  metric("chat_events_out_total", "counter", "Events queued to clients.", [["", stats.eventsOut]]);
  metric("chat_bytes_out_total", "counter", "Bytes handed to sockets.", [["", stats.bytesOut]]);
  metric(
    "chat_lines_rejected_total",
    "counter",
    "Inbound lines or frames refused, by reason.",
    byLabel("reason", stats.rejected),
  );
  metric(
    "chat_slow_consumers_total",
    "counter",
    "Clients disconnected because their outbound queue passed its bound.",
    [["", stats.slowConsumers]],
  );
  metric(
    "chat_connections_refused_total",
    "counter",
    "Connections refused before being served, by reason.",
    byLabel("reason", stats.refused),
  );
  metric(
    "chat_flood_disconnects_total",
    "counter",
    "Clients disconnected for flooding (excess_flood) or for not reading (too_slow).",
    [
      ['{reason="excess_flood"}', stats.excessFlood],
      ['{reason="too_slow"}', stats.slowConsumers],
    ],
  );
  metric(
    "chat_login_failures_total",
    "counter",
    "Wrong passwords, by kind (pass, admin, nick, login: /login and IRC SASL, room).",
    byLabel("kind", stats.loginFailures),
  );
  histogram(
    lines,
    "chat_delivery_latency_seconds",
    "From handling a room message to starting its write to a member (once per member and write).",
    stats.deliveryLatency,
  );
  histogram(
    lines,
    "chat_event_loop_lag_seconds",
    "How late a timer due every 20 ms fired: stalls of the event loop (long turns, GC pauses).",
    stats.loopLag,
  );
  metric("chat_history_messages", "gauge", "Messages kept in history.", [["", ctx.store.size()]]);
  metric("chat_store_up", "gauge", "1 while history writes succeed, 0 while they fail.", [[
    "",
    ctx.store.health().ok ? 1 : 0,
  ]]);
  // Stores that can fail (SQLite, Redis) count their failures with an errorCounts() beside the
  // interface; memory never fails.
  const storeErrors = (ctx.store as { errorCounts?(): Record<string, number> }).errorCounts?.() ??
    { append: 0 };
  metric(
    "chat_store_errors_total",
    "counter",
    "History store failures by operation (each logged, at most once per 10 s).",
    byLabel("op", storeErrors),
  );
  if (ctx.cluster) {
    metric("chat_cluster_up", "gauge", "1 while the link to Redis is up (cluster mode).", [[
      "",
      ctx.cluster.up ? 1 : 0,
    ]]);
    const errors = ctx.cluster.errorCounts?.();
    if (errors !== undefined) {
      metric(
        "chat_cluster_errors_total",
        "counter",
        "Cluster link failures by operation (each logged, at most once per 10 s).",
        byLabel("op", errors),
      );
    }
  }
  const memory = Deno.memoryUsage();
  metric("chat_memory_rss_bytes", "gauge", "Resident memory of the process.", [["", memory.rss]]);
  metric("chat_memory_heap_used_bytes", "gauge", "JavaScript heap in use (garbage included).", [[
    "",
    memory.heapUsed,
  ]]);
  metric(
    "chat_memory_trims_total",
    "counter",
    "Memory-reducing collections run once the server went quiet after a burst.",
    [["", stats.memoryTrims]],
  );
  metric("chat_uptime_seconds", "gauge", "Seconds since start.", [[
    "",
    Math.round((Date.now() - ctx.startedAt) / 1000),
  ]]);
  metric(
    "chat_build_info",
    "gauge",
    "Always 1; the labels say which version runs on which Deno.",
    [[`{version="${denoJson.version}",deno="${Deno.version.deno}"}`, 1]],
  );
  metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", [[
    "",
    memory.rss,
  ]]);
  metric(
    "process_start_time_seconds",
    "gauge",
    "Start time of the process since unix epoch in seconds.",
    [["", PROCESS_START_S]],
  );
  const fds = openFds();
  if (fds !== null) {
    metric("process_open_fds", "gauge", "Number of open file descriptors.", [["", fds]]);
  }
  return lines.join("\n") + "\n";
}

/** A histogram in the exposition format: cumulative `_bucket`s up to `+Inf`, `_sum`, `_count`. */
function histogram(lines: string[], name: string, help: string, h: Histogram): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
  let cumulative = 0;
  h.bounds.forEach((bound, i) => {
    cumulative += h.counts[i];
    lines.push(`${name}_bucket{le="${bound}"} ${cumulative}`);
  });
  lines.push(`${name}_bucket{le="+Inf"} ${h.count}`);
  lines.push(`${name}_sum ${h.sum}`, `${name}_count ${h.count}`);
}

/** The `/healthz` answer: chat works without history, so a failing store degrades, it does not fail. */
export function healthResponse(ctx: MetricsContext): Response {
  const store = ctx.store.health();
  const cluster = ctx.cluster ?? null;
  const ok = store.ok && (cluster === null || cluster.up);
  const body = {
    status: ok ? "ok" : "degraded",
    uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000),
    connections: ctx.stats.openConnections(),
    store: store.ok ? { status: "ok" } : { status: "failing", error: store.error },
    ...(cluster === null ? {} : { cluster: { status: cluster.up ? "ok" : "down" } }),
  };
  return new Response(JSON.stringify(body) + "\n", {
    headers: { "content-type": "application/json" },
  });
}

/** The `/metrics` answer. */
export function metricsResponse(ctx: MetricsContext): Response {
  return new Response(metricsText(ctx), {
    headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
  });
}

/**
 * The internal listener of `--metrics`: `/metrics` and `/healthz` only, in
 * plain HTTP, for a scraper on a private address.
 */
export function serveMetrics(
  address: { hostname: string; port: number },
  ctx: MetricsContext,
  log: Logger,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: address.hostname,
    port: address.port,
    onListen: () => {},
    onError: (err) => {
      log.error("metrics request failed: {error}", { error: err });
      return new Response("internal error\n", { status: 500 });
    },
  }, (request) => {
    const path = new URL(request.url).pathname;
    if (path !== "/metrics" && path !== "/healthz") {
      return new Response("not found\n", { status: 404 });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    return path === "/metrics" ? metricsResponse(ctx) : healthResponse(ctx);
  });
}
