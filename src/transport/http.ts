/**
 * The HTTP listener (`Deno.serve`): the web client, the WebSocket endpoint,
 * health and metrics. Anything else is 404; a known path with the wrong
 * method is 405 with an `Allow` header.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { Hub } from "../core/hub.ts";
import type { Stats } from "../core/stats.ts";
import type { HistoryStore } from "../core/history.ts";
import type { ConnectionLimiter } from "./limits.ts";
import type { Tracked } from "./tcp.ts";
import { acceptWebSocket } from "./ws.ts";
import type { CidrSet } from "./cidr.ts";
import { forwardedClient } from "./forwarded.ts";
import { formatAddress } from "./address.ts";
import type { IrcContext } from "../irc/client.ts";

/** What the HTTP listener serves from. */
export interface HttpContext {
  hub: Hub;
  stats: Stats;
  store: HistoryStore;
  log: Logger;
  maxLineBytes: number;
  maxQueueBytes: number;
  pingTimeoutS: number;
  /** The IRC door, for IRC over WebSocket; `null` when there is none. */
  irc?: IrcContext | null;
  /** Origins allowed to open `/ws` besides the server's own (exact `scheme://host:port`). */
  allowedOrigins: readonly string[];
  /** Proxies whose X-Forwarded-For names the client (empty: the header is ignored). */
  trustedProxies?: CidrSet;
  /** Connection limits shared with the TCP listener (`null`: none). */
  limiter?: ConnectionLimiter | null;
  /** Cluster mode's link (`null` for a single process), for health and metrics. */
  cluster?: { readonly up: boolean; errorCounts?(): Readonly<Record<string, number>> } | null;
  /** The bundled web client: path -> file. */
  assets: ReadonlyMap<string, Asset>;
  startedAt: number;
}

/** A static file served from memory. */
export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  json: "application/json",
};

/**
 * Loads the web client from `web/` (next to `src/` in a checkout, embedded
 * with `--include web` in the compiled binary) into memory once.
 */
export async function loadAssets(
  dir = new URL("../../web/", import.meta.url),
): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile) continue;
    const ext = entry.name.split(".").pop() ?? "";
    const body = await Deno.readFile(new URL(entry.name, dir));
    assets.set(`/${entry.name}`, { body, type: TYPES[ext] ?? "application/octet-stream" });
  }
  const index = assets.get("/index.html");
  if (index !== undefined) assets.set("/", index);
  return assets;
}

/**
 * True if a browser on `origin` may open the WebSocket: no Origin (not a
 * browser), the server's own origin, or one listed in `--allowed-origins`.
 */
export function originAllowed(request: Request, allowed: readonly string[]): boolean {
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === (request.headers.get("host") ?? new URL(request.url).host);
  } catch {
    return false;
  }
}

/** The Prometheus text exposition of the server's counters. */
export function metricsText(ctx: HttpContext): string {
  const { stats } = ctx;
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
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
    Object.entries(stats.rejected).map(([reason, n]) => [`{reason="${reason}"}`, n]),
  );
  metric(
    "chat_slow_consumers_total",
    "counter",
    "Clients disconnected because their outbound queue passed its bound.",
    [["", stats.slowConsumers]],
  );
  metric("chat_history_messages", "gauge", "Messages kept in history.", [["", ctx.store.size()]]);
  metric("chat_store_up", "gauge", "1 while history writes succeed, 0 while they fail.", [[
    "",
    ctx.store.health().ok ? 1 : 0,
  ]]);
  // Stores that count their failures (Redis) say so with an errorCounts() beside the interface.
  const storeErrors = (ctx.store as { errorCounts?(): Record<string, number> }).errorCounts?.();
  if (storeErrors !== undefined) {
    metric(
      "chat_store_errors_total",
      "counter",
      "History store failures by operation (each logged, at most once per 10 s).",
      Object.entries(storeErrors).map(([op, n]) => [`{op="${op}"}`, n]),
    );
  }
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
        Object.entries(errors).map(([op, n]) => [`{op="${op}"}`, n]),
      );
    }
  }
  const memory = Deno.memoryUsage();
  metric("chat_memory_rss_bytes", "gauge", "Resident memory of the process.", [["", memory.rss]]);
  metric("chat_memory_heap_used_bytes", "gauge", "JavaScript heap in use (garbage included).", [[
    "",
    memory.heapUsed,
  ]]);
  metric("chat_uptime_seconds", "gauge", "Seconds since start.", [[
    "",
    Math.round((Date.now() - ctx.startedAt) / 1000),
  ]]);
  return lines.join("\n") + "\n";
}

const ROUTES: Record<string, readonly string[]> = {
  "/ws": ["GET"],
  "/healthz": ["GET", "HEAD"],
  "/metrics": ["GET", "HEAD"],
};

/** Builds the request handler; `track` registers WebSocket connections for shutdown. */
export function httpHandler(
  ctx: HttpContext,
  track: (entry: Tracked) => () => void,
  onConnection: (done: Promise<void>) => void,
): Deno.ServeHandler<Deno.NetAddr> {
  return (request, info) => {
    const url = new URL(request.url);
    const path = url.pathname;
    const asset = ctx.assets.get(path);
    const methods = ROUTES[path] ?? (asset ? ["GET", "HEAD"] : undefined);
    if (methods === undefined) return text(404, "not found\n");
    if (!methods.includes(request.method)) {
      return text(405, "method not allowed\n", { allow: methods.join(", ") });
    }
    switch (path) {
      case "/ws": {
        if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
          return text(426, "expected a WebSocket upgrade\n", { upgrade: "websocket" });
        }
        if (!originAllowed(request, ctx.allowedOrigins)) {
          ctx.log.warn("websocket from origin {origin} refused", {
            origin: request.headers.get("origin"),
          });
          return text(403, "origin not allowed\n");
        }
        // Behind a trusted proxy the client is whom X-Forwarded-For names (its port is unknown).
        const address = ctx.trustedProxies === undefined
          ? info.remoteAddr.hostname
          : forwardedClient(
            request.headers.get("x-forwarded-for"),
            info.remoteAddr.hostname,
            ctx.trustedProxies,
          );
        const remote = address === info.remoteAddr.hostname
          ? formatAddress(info.remoteAddr)
          : formatAddress({ hostname: address, port: 0 });
        const refusal = ctx.limiter?.admit(address) ?? null;
        if (refusal !== null) {
          ctx.log.warn("websocket from {remote} refused: {reason}", { remote, reason: refusal });
          return text(refusal.startsWith("server full") ? 503 : 429, `${refusal}\n`);
        }
        let accepted;
        try {
          accepted = acceptWebSocket(request, remote, address, ctx, track);
        } catch (err) {
          ctx.limiter?.release(address);
          throw err;
        }
        const { response, done } = accepted;
        done.finally(() => ctx.limiter?.release(address));
        onConnection(done);
        return response;
      }
      case "/healthz": {
        // Chat works without history, so a failing store degrades, it does not fail.
        const store = ctx.store.health();
        const cluster = ctx.cluster ?? null;
        const ok = store.ok && (cluster === null || cluster.up);
        return json({
          status: ok ? "ok" : "degraded",
          uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000),
          connections: ctx.stats.openConnections(),
          store: store.ok ? { status: "ok" } : { status: "failing", error: store.error },
          ...(cluster === null ? {} : { cluster: { status: cluster.up ? "ok" : "down" } }),
        });
      }
      case "/metrics":
        return text(200, metricsText(ctx), {
          "content-type": "text/plain; version=0.0.4; charset=utf-8",
        });
      default:
        return new Response(asset!.body, {
          headers: {
            "content-type": asset!.type,
            "cache-control": "no-cache",
            "x-content-type-options": "nosniff",
            "content-security-policy":
              "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'",
          },
        });
    }
  };
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

function json(body: unknown): Response {
  return new Response(JSON.stringify(body) + "\n", {
    headers: { "content-type": "application/json" },
  });
}
