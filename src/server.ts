/**
 * Puts the pieces together for one server process: listeners, the hub, the
 * store, and an orderly shutdown. `startServer` binds (port 0 works, for
 * tests) and returns at once with the bound addresses and a `shutdown()`.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { Config } from "./config.ts";
import { formatAddress, isLoopback } from "./transport/address.ts";
import { closeQuietly } from "./transport/socket.ts";
import { Serving } from "./transport/conn_record.ts";
import { listenTlsAgain } from "./transport/tls_listener.ts";
import type { ClusterLink } from "./core/cluster.ts";
import { Hub } from "./core/hub.ts";
import { MemoryLink } from "./cluster/memory.ts";
import { Stats } from "./core/stats.ts";
import { auditLog, logger } from "./log.ts";
import type { HistoryStore } from "./core/history.ts";
import { type Asset, type HttpContext, httpHandler } from "./transport/http.ts";
import { ConnectionLimiter } from "./transport/limits.ts";
import { setBacklogLimit } from "./transport/backlog.ts";
import { LoopLag } from "./transport/loop_lag.ts";
import { serveMetrics } from "./transport/metrics.ts";
import {
  acceptLoop,
  FIRST_LINE_GRACE_MS,
  handleConnection,
  NOTHING_READ,
  remoteOf,
  type TcpContext,
  type Tracked,
} from "./transport/tcp.ts";
import { CidrSet } from "./transport/cidr.ts";
import { HttpFront } from "./transport/http_front.ts";
import { admitProxied } from "./transport/proxied_conn.ts";
import { type IrcDoor, ircStreamWire } from "./transport/irc.ts";
import { REGISTRATION_TIMEOUT_MS } from "./irc/client.ts";
import denoJson from "../deno.json" with { type: "json" };

const VERSION = denoJson.version;

/** The subset of {@link Config} the server itself uses. */
export type ServerConfig =
  & Pick<
    Config,
    | "tcp"
    | "http"
    | "irc"
    | "ircTls"
    | "serverName"
    | "allowedOrigins"
    | "echo"
    | "maxLineBytes"
    | "maxQueueBytes"
    | "historyOnJoin"
    | "quietRoomSize"
    | "summaryIntervalMs"
    | "wsPingTimeoutS"
    | "flood"
    | "connections"
    | "password"
    | "adminPassword"
    | "authFailures"
    | "limitLoopback"
    | "trustedProxies"
    | "idleTimeoutMs"
    | "drainTimeoutMs"
  >
  & Partial<Pick<Config, "metrics">>;

/** An address could not be bound (in use, not local, not permitted). */
export class ListenError extends Error {
  override name = "ListenError";
}

/** Binds with `bind`, turning its failure into a {@link ListenError} that names the address. */
function listenOn<T>(address: { hostname: string; port: number }, bind: () => T): T {
  try {
    return bind();
  } catch (err) {
    throw new ListenError(
      `cannot listen on ${formatAddress(address)}: ${err instanceof Error ? err.message : err}`,
      {
        cause: err,
      },
    );
  }
}

/** A cluster link as the server runs it: the hub's seam plus its state and its end. */
export interface RunningCluster extends ClusterLink {
  readonly up: boolean;
  /** Failures so far per operation, for `/metrics` (`chat_cluster_errors_total`). */
  errorCounts?(): Readonly<Record<string, number>>;
  onLinkChange(handler: (up: boolean) => void): void;
  close(): Promise<void>;
}

/** Loopback addresses are exempt from a per-address rule, unless `limitLoopback`. */
function loopbackExempt(limitLoopback: boolean): (address: string) => boolean {
  return (address) => !limitLoopback && isLoopback(address);
}

/** A certificate and its key, PEM, read from `--tls-cert` and `--tls-key`. */
/** What the process around the server does for it: `/rehash` reloads as SIGHUP does. */
export interface ServerHooks {
  rehash?: () => Promise<string>;
}

export interface TlsFiles {
  cert: string;
  key: string;
}

/** Tells a refused TCP client why (if its socket takes it at once), in its door's words, then closes it. */
function refuse(conn: Deno.Conn, reason: string, log: Logger, door: "tcp" | "irc"): void {
  log.warn("connection from {remote} refused: {reason}", { remote: remoteOf(conn), reason });
  const timer = setTimeout(() => closeQuietly(conn), 1000);
  const line = door === "irc" ? `ERROR :Closing Link: ${reason}\r\n` : `! ${reason}\n`;
  // Best effort: a refused peer may be gone already, and is closed either way.
  conn.write(new TextEncoder().encode(line)).catch(() => {}).finally(() => {
    clearTimeout(timer);
    closeQuietly(conn);
  });
}

/** A running server. */
export interface RunningServer {
  /** Where the TCP listener is bound (the real port when 0 was asked). */
  readonly tcpAddr: Deno.NetAddr;
  /** Where the HTTP listener is bound; `null` when it is off (or in echo mode). */
  readonly httpAddr: Deno.NetAddr | null;
  /** Where the internal metrics listener (`--metrics`) is bound; `null` when it is off. */
  readonly metricsAddr: Deno.NetAddr | null;
  /** Where the plain IRC listener (`--irc`) is bound; `null` when it is off (or in echo mode). */
  readonly ircAddr: Deno.NetAddr | null;
  readonly hub: Hub | null;
  readonly stats: Stats;
  /**
   * Graceful stop: listeners close, clients get `* server shutting down`,
   * queued output is flushed for up to `drainTimeoutMs`, then whatever is
   * left is closed and the store is closed. Safe to call more than once.
   */
  shutdown(): Promise<void>;
  /**
   * Applies settings changed by a reload (see `reload.ts`: only those that
   * may change live differ from the running ones) and, with TLS, a new
   * certificate: the TLS listeners are replaced on the same ports, and the
   * connections they accepted stay open. Rejects if a listener cannot be
   * bound again (the old certificate is then still served where it could be).
   */
  reconfigure(next: ServerConfig, tls: TlsFiles | null): Promise<void>;
}

/**
 * Binds the listeners and starts serving. Throws if an address cannot be
 * bound. `assets` is the web client served at `/` (see `loadAssets`).
 */
export function startServer(
  config: ServerConfig,
  store: HistoryStore,
  assets: ReadonlyMap<string, Asset> = new Map(),
  cluster: RunningCluster | null = null,
  tls: TlsFiles | null = null,
  hooks: ServerHooks = {},
): RunningServer {
  const log = logger("server");
  /** The settings in force, replaced by {@link RunningServer.reconfigure}. */
  let current = config;
  const stats = new Stats();
  setBacklogLimit(config.maxQueueBytes);
  const startedAt = Date.now();
  const hub = config.echo ? null : new Hub(store, stats, {
    historyOnJoin: config.historyOnJoin,
    historyDefault: 20,
    historyMax: 1000,
    serverName: "chat",
    maxLineBytes: config.maxLineBytes,
    quietRoomSize: config.quietRoomSize,
    summaryIntervalMs: config.summaryIntervalMs,
    link: cluster ?? new MemoryLink(),
    flood: config.flood ?? undefined,
    password: config.password ?? undefined,
    adminPassword: config.adminPassword ?? undefined,
    // Loopback (a proxy on this host, say) is left alone unless --limit-loopback.
    attempts: config.authFailures === null ? undefined : {
      failuresPerMinute: config.authFailures.failuresPerMinute,
      exempt: (address) => loopbackExempt(current.authFailures?.limitLoopback ?? false)(address),
    },
    exempt: (address) => loopbackExempt(current.limitLoopback)(address),
    rehash: hooks.rehash,
    onError: (err) => log.error("request failed: {error}", { error: err }),
    audit: auditLog(),
  });
  if (hub !== null && cluster !== null) {
    // Local clients keep chatting while Redis is away, and are told so.
    cluster.onLinkChange((up) => {
      hub.announce(
        up
          ? "cluster link restored"
          : "cluster link down: you are chatting with this server's users only",
      );
      if (up) void hub.resync();
    });
  }
  // With TLS the TCP listener speaks TLS (`openssl s_client`, `ncat --ssl`); all else is the same.
  let listener: Deno.Listener = listenOn(
    config.tcp,
    () => tls === null ? Deno.listen(config.tcp) : Deno.listenTls({ ...config.tcp, ...tls }),
  );
  const tcpAddr = listener.addr as Deno.NetAddr;
  const live = new Set<Tracked>();
  const serving = new Serving();
  // IRC clients reach the same hub through --irc, --irc-tls and the text port.
  const irc: IrcDoor | null = hub === null ? null : {
    irc: {
      hub,
      stats,
      server: config.serverName,
      version: `chat-server-${VERSION}`,
      passwordRequired: config.password !== null,
      now: Date.now,
      startedAt: Date.now(),
      registrationTimeoutMs: config.idleTimeoutMs > 0
        ? Math.min(config.idleTimeoutMs, REGISTRATION_TIMEOUT_MS)
        : REGISTRATION_TIMEOUT_MS,
    },
    wire: ircStreamWire(),
  };
  const ctx: TcpContext = {
    hub,
    stats,
    log: logger("tcp"),
    maxLineBytes: config.maxLineBytes,
    maxQueueBytes: config.maxQueueBytes,
    irc,
  };
  const limiter = config.connections === null ? null : new ConnectionLimiter(config.connections);
  const trusted = new CidrSet(config.trustedProxies);
  // A served TCP connection's end: its limiter slot freed, and one fewer for the shutdown's drain.
  ctx.ended = (conn) => {
    limiter?.release((conn.remoteAddr as Deno.NetAddr).hostname);
    serving.end();
  };
  /**
   * One connection: on a plain listener its PROXY header first (the real
   * peer's address then counts for everything), then the limits, then the door.
   */
  const admit = async (conn: Deno.Conn, door: "tcp" | "irc", plain: boolean) => {
    let start = NOTHING_READ;
    if (plain) {
      const outcome = await admitProxied(conn, trusted, FIRST_LINE_GRACE_MS, ctx.log);
      if (outcome === null) return serving.end();
      conn = outcome.conn;
      // What the wait for a header read (or found silent) is the door's to go on from.
      start = outcome;
    }
    const address = (conn.remoteAddr as Deno.NetAddr).hostname;
    const refusal = limiter?.admit(address) ?? null;
    if (refusal !== null) {
      stats.connectionRefused(refusal);
      refuse(conn, refusal, ctx.log, door);
      return serving.end();
    }
    // Served from here on: its end reaches ctx.ended (handleConnection never rejects).
    await handleConnection(conn, ctx, live, door, start);
  };
  /** Accepts on `listener`, each connection served as `door` speaks; TLS ones carry no PROXY header. */
  const serve = (listener: Deno.Listener, door: "tcp" | "irc", plain: boolean) =>
    acceptLoop(listener, (conn) => {
      // Fire and forget; the count is only for shutdown.
      serving.start();
      void admit(conn, door, plain);
    }, ctx.log);
  const accepting = [serve(listener, "tcp", tls === null)];
  let ircListeners: Deno.Listener[] = [];
  /** Listeners that speak TLS: a PROXY header would come before the handshake, out of reach. */
  const tlsListeners = new Set<Deno.Listener>();
  let ircAddr: Deno.NetAddr | null = null;
  try {
    if (irc !== null && config.irc !== null) {
      ircListeners.push(listenOn(config.irc, () => Deno.listen(config.irc!)));
      ircAddr = ircListeners[0].addr as Deno.NetAddr;
    }
    if (irc !== null && config.ircTls !== null && tls !== null) {
      ircListeners.push(
        listenOn(config.ircTls, () => Deno.listenTls({ ...config.ircTls!, ...tls })),
      );
      tlsListeners.add(ircListeners[ircListeners.length - 1]);
    }
  } catch (err) {
    for (const l of [listener, ...ircListeners]) l.close();
    throw err;
  }
  for (const l of ircListeners) {
    accepting.push(serve(l, "irc", !tlsListeners.has(l)));
    log.info("irc listening on {ircAddress}", {
      ircAddress: formatAddress(l.addr as Deno.NetAddr),
    });
  }
  log.info("listening on {address} ({mode} mode)", {
    address: `${tcpAddr.hostname}:${tcpAddr.port}`,
    mode: config.echo ? "echo" : "chat",
  });

  // The HTTP listener: web client, WebSocket, health, metrics (not in echo mode).
  let http: Deno.HttpServer<Deno.NetAddr> | null = null;
  let httpFront: HttpFront | null = null;
  /** Starts an HTTP server (the one handler) with `files`' certificate on `at`. */
  let serveHttp:
    | ((files: TlsFiles | null, at: { hostname: string; port: number }) => Deno.HttpServer<
      Deno.NetAddr
    >)
    | null = null;
  let httpCtx: HttpContext | null = null;
  if (config.http !== null && hub !== null) {
    httpCtx = {
      hub,
      stats,
      store,
      log: logger("http"),
      maxLineBytes: config.maxLineBytes,
      maxQueueBytes: config.maxQueueBytes,
      pingTimeoutS: config.wsPingTimeoutS,
      irc: irc?.irc ?? null,
      allowedOrigins: config.allowedOrigins,
      limiter,
      trustedProxies: trusted,
      cluster,
      assets,
      startedAt,
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
    // With trusted proxies or TLS, a relay on the public port takes PROXY headers off and lets a
    // renewed certificate be served without closing open WebSockets (http_front.ts).
    const relayed = trusted.size > 0 || tls !== null;
    const bind = relayed ? { hostname: "127.0.0.1", port: 0 } : address;
    serveHttp = (files: TlsFiles | null, at: { hostname: string; port: number }) =>
      Deno.serve({
        hostname: at.hostname,
        port: at.port,
        ...(files ?? {}),
        onListen: () => {},
        onError: (err) => {
          log.error("http request failed: {error}", { error: err });
          return new Response("internal error\n", { status: 500 });
        },
      }, handler);
    const start = serveHttp;
    try {
      http = listenOn(bind, () => start(tls, bind));
      if (relayed) {
        httpFront = new HttpFront(
          listenOn(address, () => Deno.listen(address)),
          http,
          trusted,
          logger("http"),
        );
        const front = httpFront;
        httpCtx.peerOf = (addr) => front.peerOf(addr);
      }
    } catch (err) {
      for (const l of [listener, ...ircListeners]) l.close();
      void http?.shutdown();
      throw err;
    }
    const shown = httpFront?.addr ?? http.addr;
    log.info("http listening on {httpAddress}", {
      httpAddress: `${shown.hostname}:${shown.port}`,
    });
  }

  // The internal listener: /metrics and /healthz only, for a scraper on a private address.
  let metrics: Deno.HttpServer<Deno.NetAddr> | null = null;
  if (config.metrics && hub !== null) {
    const address = config.metrics;
    try {
      metrics = listenOn(
        address,
        () => serveMetrics(address, { hub, stats, store, cluster, startedAt }, logger("metrics")),
      );
    } catch (err) {
      for (const l of [listener, ...ircListeners]) l.close();
      void http?.shutdown();
      throw err;
    }
    log.info("metrics listening on {metricsAddress}", {
      metricsAddress: formatAddress(metrics.addr),
    });
  }

  // One sweep for every connection's idle check, instead of a timer each.
  const idleSweep = config.idleTimeoutMs > 0 && hub !== null
    ? setInterval(() => {
      const now = performance.now();
      for (const entry of live) entry.idle?.(now, config.idleTimeoutMs);
    }, Math.max(50, Math.min(config.idleTimeoutMs / 4, 10_000)))
    : null;

  const loopLag = new LoopLag(stats.loopLag);
  let stopping: Promise<void> | null = null;
  const shutdown = () => {
    stopping ??= (async () => {
      log.info("shutting down: {connections} connections", { connections: live.size });
      if (idleSweep !== null) clearInterval(idleSweep);
      loopLag.stop();
      for (const l of [listener, ...ircListeners]) {
        try {
          l.close();
        } catch {
          // Already closed.
        }
      }
      await Promise.all(accepting);
      // The hub tells every chat client; the transports then write what is
      // queued and close every connection (echo mode's too). The HTTP server
      // stops once they are gone.
      hub?.shutdown();
      for (const entry of [...live]) entry.goingAway();
      const drained = serving.idle().then(() => true);
      const deadline = new Promise<false>((resolve) => {
        const timer = setTimeout(() => resolve(false), current.drainTimeoutMs);
        drained.then(() => clearTimeout(timer));
      });
      if (!(await Promise.race([drained, deadline]))) {
        log.warn("drain deadline passed: closing {n} connections", { n: live.size });
        for (const entry of [...live]) entry.forceClose();
        await serving.idle();
      }
      // A WebSocket peer that never answers the close keeps its connection
      // open in the runtime: do not wait for it past a short grace.
      if (http !== null) {
        httpFront?.close();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const grace = new Promise<false>((resolve) => (timer = setTimeout(resolve, 1000, false)));
        const servers = httpFront?.servers() ?? [http];
        const stopped = Promise.all(servers.map((h) => h.shutdown())).then(() => true, () => true);
        const closed = await Promise.race([stopped, grace]);
        clearTimeout(timer);
        httpFront?.closeAll();
        if (!closed) log.warn("http listener still has unresponsive connections; not waiting");
      }
      if (metrics !== null) {
        // A scraper's keep-alive connection is not worth waiting for.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const grace = new Promise((resolve) => (timer = setTimeout(resolve, 1000)));
        await Promise.race([metrics.shutdown().catch(() => {}), grace]);
        clearTimeout(timer);
      }
      await cluster?.close();
      await store.close();
      log.info(
        "stopped: {messagesIn} messages in, {eventsOut} events out, {bytesOut} bytes out, " +
          "{slow} slow consumers cut off",
        {
          messagesIn: stats.messagesIn,
          eventsOut: stats.eventsOut,
          bytesOut: stats.bytesOut,
          slow: stats.slowConsumers,
        },
      );
    })();
    return stopping;
  };
  /** A TLS listener on `old`'s address with the new certificate, accepting in its place. */
  const relisten = async (old: Deno.Listener, files: TlsFiles, door: "tcp" | "irc") => {
    const address = old.addr as Deno.NetAddr;
    const fresh = await listenTlsAgain(old, files).catch((err) => {
      const why = err instanceof Error ? err.message : String(err);
      throw new ListenError(`cannot listen again on ${formatAddress(address)}: ${why}`, {
        cause: err,
      });
    });
    accepting.push(serve(fresh, door, false));
    return fresh;
  };

  const reconfigure = async (next: ServerConfig, files: TlsFiles | null) => {
    current = next;
    hub?.reconfigure({
      historyOnJoin: next.historyOnJoin,
      maxLineBytes: next.maxLineBytes,
      quietRoomSize: next.quietRoomSize,
      flood: next.flood ?? undefined,
      password: next.password ?? undefined,
      adminPassword: next.adminPassword ?? undefined,
    }, next.authFailures?.failuresPerMinute);
    if (irc !== null) irc.irc.passwordRequired = next.password !== null;
    // Connections read these when they start: new ones get the new limits.
    ctx.maxLineBytes = next.maxLineBytes;
    ctx.maxQueueBytes = next.maxQueueBytes;
    setBacklogLimit(next.maxQueueBytes);
    if (httpCtx !== null) {
      httpCtx.maxLineBytes = next.maxLineBytes;
      httpCtx.maxQueueBytes = next.maxQueueBytes;
      httpCtx.allowedOrigins = next.allowedOrigins;
    }
    if (limiter !== null && next.connections !== null) limiter.limits = next.connections;
    if (files === null || tls === null || stopping !== null) return;
    // HTTPS: a new internal server with the new certificate takes the new connections.
    if (httpFront !== null && serveHttp !== null) {
      const start = serveHttp;
      httpFront.retarget(
        listenOn(
          { hostname: "127.0.0.1", port: 0 },
          () => start(files, { hostname: "127.0.0.1", port: 0 }),
        ),
      );
    }
    listener = await relisten(listener, files, "tcp");
    // The IRC-over-TLS listener is the last one when there is one.
    if (config.ircTls !== null && ircListeners.length > 0) {
      const last = ircListeners.length - 1;
      ircListeners = [
        ...ircListeners.slice(0, last),
        await relisten(ircListeners[last], files, "irc"),
      ];
    }
  };
  return {
    tcpAddr,
    httpAddr: httpFront?.addr ?? http?.addr ?? null,
    metricsAddr: metrics?.addr ?? null,
    ircAddr,
    hub,
    stats,
    shutdown,
    reconfigure,
  };
}
