/**
 * Puts the pieces together for one server process: listeners, the hub, the
 * store, and an orderly shutdown. `startServer` binds (port 0 works, for
 * tests) and returns at once with the bound addresses and a `shutdown()`.
 *
 * The parts are in `server/`: `doors.ts` binds the listeners and admits
 * connections, `shutdown.ts` is the orderly stop, and `reconfigure.ts` what
 * a reload changes while the server runs.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { isLoopback } from "./transport/address.ts";
import type { ClusterLink } from "./core/cluster.ts";
import { Hub } from "./core/hub.ts";
import { MemoryLink } from "./cluster/memory.ts";
import { Stats } from "./core/stats.ts";
import { auditLog, logger } from "./log.ts";
import type { HistoryStore } from "./core/history.ts";
import type { Asset } from "./transport/http.ts";
import { setBacklogLimit } from "./transport/backlog.ts";
import { LoopLag } from "./transport/loop_lag.ts";
import { MemoryTrim } from "./server/memory_trim.ts";
import { openDoors } from "./server/doors.ts";
import { shutdownServer } from "./server/shutdown.ts";
import { reconfigureServer } from "./server/reconfigure.ts";

// What startServer and reconfigure throw when an address cannot be bound.
export { ListenError } from "./transport/address.ts";

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
    | "memoryTrimBytes"
  >
  & Partial<Pick<Config, "metrics">>;

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

/** What the process around the server does for it: `/rehash` reloads as SIGHUP does. */
export interface ServerHooks {
  rehash?: () => Promise<string>;
}

/** A certificate and its key, PEM, read from `--tls-cert` and `--tls-key`. */
export interface TlsFiles {
  cert: string;
  key: string;
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

  const doors = openDoors(config, { hub, stats, store, cluster, assets, startedAt, tls }, log);

  // One sweep for every connection's idle check, instead of a timer each.
  const idleSweep = config.idleTimeoutMs > 0 && hub !== null
    ? setInterval(() => {
      const now = performance.now();
      for (const entry of doors.live) entry.idle?.(now, config.idleTimeoutMs);
    }, Math.max(50, Math.min(config.idleTimeoutMs / 4, 10_000)))
    : null;

  const loopLag = new LoopLag(stats.loopLag);
  const memoryTrim = new MemoryTrim(stats, config.memoryTrimBytes, log);
  let stopping: Promise<void> | null = null;
  const shutdown = () =>
    stopping ??= shutdownServer({
      log,
      doors,
      hub,
      cluster,
      store,
      stats,
      idleSweep,
      loopLag,
      memoryTrim,
      drainTimeoutMs: () => current.drainTimeoutMs,
    });
  const reconfigure = (next: ServerConfig, files: TlsFiles | null) => {
    current = next;
    return reconfigureServer({ hub, doors, tls, stopping: () => stopping !== null }, next, files);
  };
  return {
    tcpAddr: doors.tcpAddr,
    httpAddr: doors.http?.front.addr ?? null,
    metricsAddr: doors.metrics?.addr ?? null,
    ircAddr: doors.ircAddr,
    hub,
    stats,
    shutdown,
    reconfigure,
  };
}
