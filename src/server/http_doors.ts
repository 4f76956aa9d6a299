/**
 * The server's HTTP doors: the public listener (web client, WebSocket,
 * `/healthz`, `/metrics`), behind a relay on its port when PROXY headers or
 * certificate renewals need one, and the internal `--metrics` listener.
 * `doors.ts` opens them after the text port and IRC.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { Hub } from "../core/hub.ts";
import { logger } from "../log.ts";
import type { ServerConfig, TlsFiles } from "../server.ts";
import { formatAddress, listenOn } from "../transport/address.ts";
import type { CidrSet } from "../transport/cidr.ts";
import type { Serving } from "../transport/conn_record.ts";
import { type HttpContext, httpHandler } from "../transport/http.ts";
import { HttpFront } from "../transport/http_front.ts";
import type { IrcDoor } from "../transport/irc.ts";
import type { ConnectionLimiter } from "../transport/limits.ts";
import { serveMetrics } from "../transport/metrics.ts";
import type { Tracked } from "../transport/tcp.ts";
import type { DoorDeps } from "./doors.ts";

/** The HTTP listener, and what serving a renewed certificate on it needs. */
export interface HttpDoor {
  /** The public port's listener: WebSocket handshakes read there, the rest relayed to `Deno.serve`. */
  readonly front: HttpFront;
  /** What requests are served with; a reload changes its limits. */
  readonly ctx: HttpContext;
  /** Starts an HTTP server (the one handler) with `files`' certificate on `at`. */
  readonly start: (
    files: TlsFiles | null,
    at: { hostname: string; port: number },
  ) => Deno.HttpServer<Deno.NetAddr>;
}

/** What the HTTP door shares with the others. */
export interface HttpShared {
  live: Set<Tracked>;
  serving: Serving;
  limiter: ConnectionLimiter | null;
  trusted: CidrSet;
  ircDoor: IrcDoor | null;
  /** Closes the listeners bound before, when HTTP's address cannot be bound. */
  abandon: () => void;
}

/** The HTTP listener: web client, WebSocket, health, metrics (not in echo mode); `null` when off. */
export function openHttp(
  config: ServerConfig,
  deps: DoorDeps,
  hub: Hub,
  shared: HttpShared,
  log: Logger,
): HttpDoor | null {
  if (config.http === null) return null;
  const { live, serving, limiter, trusted } = shared;
  const { tls } = deps;
  const httpCtx: HttpContext = {
    hub,
    stats: deps.stats,
    store: deps.store,
    log: logger("http"),
    maxLineBytes: config.maxLineBytes,
    maxQueueBytes: config.maxQueueBytes,
    pingTimeoutS: config.wsPingTimeoutS,
    irc: shared.ircDoor?.irc ?? null,
    allowedOrigins: config.allowedOrigins,
    limiter,
    trustedProxies: trusted,
    cluster: deps.cluster,
    assets: deps.assets,
    startedAt: deps.startedAt,
  };
  // A WebSocket's end frees its limiter slot and counts toward the drain, like a TCP connection's.
  const handler = httpHandler(httpCtx, {
    live,
    ended: (address) => {
      limiter?.release(address);
      serving.end();
    },
  }, () => serving.start());
  const address = config.http;
  // A relay on the public port reads plain WebSocket handshakes itself (an idle WebSocket then
  // costs what a TCP connection does), takes PROXY headers off, and lets a renewed certificate be
  // served without closing open WebSockets (http_front.ts). Deno.serve answers behind it.
  const bind = { hostname: "127.0.0.1", port: 0 };
  const start = (files: TlsFiles | null, at: { hostname: string; port: number }) =>
    Deno.serve({
      hostname: at.hostname,
      port: at.port,
      ...(files ?? {}),
      onListen: () => {},
      onError: (err) => {
        log.error("http request failed: {error}", { error: err });
        return new Response("internal error\n", { status: 500 });
      },
    }, (request, info) =>
      // Every request here came through the front's relay: its port there names the client.
      handler(request, { remoteAddr: front.peerOf(info.remoteAddr), completed: info.completed }));
  let http: Deno.HttpServer<Deno.NetAddr> | null = null;
  let front: HttpFront;
  try {
    http = listenOn(bind, () => start(tls, bind));
    const upgrades = tls !== null ? null : {
      host: formatAddress(address),
      serve: (request: Request, conn: Deno.Conn) =>
        handler(request, {
          remoteAddr: conn.remoteAddr as Deno.NetAddr,
          completed: Promise.resolve(),
        }),
    };
    front = new HttpFront(
      listenOn(address, () => Deno.listen(address)),
      http,
      trusted,
      logger("http"),
      upgrades,
    );
  } catch (err) {
    shared.abandon();
    void http?.shutdown();
    throw err;
  }
  log.info("http listening on {httpAddress}", { httpAddress: formatAddress(front.addr) });
  return { front, ctx: httpCtx, start };
}

/**
 * The internal listener: /metrics and /healthz only, for a scraper on a
 * private address; `null` when off. `abandon` closes the other listeners
 * when its address cannot be bound.
 */
export function openMetrics(
  config: ServerConfig,
  deps: DoorDeps,
  hub: Hub,
  abandon: () => void,
  log: Logger,
): Deno.HttpServer<Deno.NetAddr> | null {
  if (!config.metrics) return null;
  const address = config.metrics;
  const { stats, store, cluster, startedAt } = deps;
  let metrics: Deno.HttpServer<Deno.NetAddr>;
  try {
    metrics = listenOn(
      address,
      () => serveMetrics(address, { hub, stats, store, cluster, startedAt }, logger("metrics")),
    );
  } catch (err) {
    abandon();
    throw err;
  }
  log.info("metrics listening on {metricsAddress}", {
    metricsAddress: formatAddress(metrics.addr),
  });
  return metrics;
}
