/**
 * Puts the pieces together for one server process: listeners, the hub, the
 * store, and an orderly shutdown. `startServer` binds (port 0 works, for
 * tests) and returns at once with the bound addresses and a `shutdown()`.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { Hub } from "./core/hub.ts";
import { Stats } from "./core/stats.ts";
import { logger } from "./log.ts";
import type { HistoryStore } from "./store/history.ts";
import { acceptLoop, handleConnection, type Tracked } from "./transport/tcp.ts";

/** The subset of {@link Config} the server itself uses. */
export type ServerConfig = Pick<
  Config,
  | "tcp"
  | "echo"
  | "maxLineBytes"
  | "maxQueueBytes"
  | "historyOnJoin"
  | "quietRoomSize"
  | "summaryIntervalMs"
  | "drainTimeoutMs"
>;

/** A running server. */
export interface RunningServer {
  /** Where the TCP listener is bound (the real port when 0 was asked). */
  readonly tcpAddr: Deno.NetAddr;
  readonly hub: Hub | null;
  readonly stats: Stats;
  /**
   * Graceful stop: listeners close, clients get `* server shutting down`,
   * queued output is flushed for up to `drainTimeoutMs`, then whatever is
   * left is closed and the store is closed. Safe to call more than once.
   */
  shutdown(): Promise<void>;
}

/** Binds the listeners and starts serving. Throws if an address cannot be bound. */
export function startServer(config: ServerConfig, store: HistoryStore): RunningServer {
  const log = logger("server");
  const stats = new Stats();
  const hub = config.echo ? null : new Hub(store, stats, {
    historyOnJoin: config.historyOnJoin,
    historyDefault: 20,
    historyMax: 1000,
    serverName: "chat",
    quietRoomSize: config.quietRoomSize,
    summaryIntervalMs: config.summaryIntervalMs,
    onError: (err) => log.error("request failed: {error}", { error: err }),
  });
  const listener = Deno.listen({ hostname: config.tcp.hostname, port: config.tcp.port });
  const tcpAddr = listener.addr as Deno.NetAddr;
  const live = new Set<Tracked>();
  const handlers = new Set<Promise<void>>();
  const track = (entry: Tracked) => {
    live.add(entry);
    return () => live.delete(entry);
  };
  const ctx = {
    hub,
    stats,
    log: logger("tcp"),
    maxLineBytes: config.maxLineBytes,
    maxQueueBytes: config.maxQueueBytes,
  };
  const accepting = acceptLoop(listener, (conn) => {
    // Fire and forget: handleConnection never rejects; the set is only for shutdown.
    const handler = handleConnection(conn, ctx, track);
    handlers.add(handler);
    handler.finally(() => handlers.delete(handler));
  }, ctx.log);
  log.info("listening on {address} ({mode} mode)", {
    address: `${tcpAddr.hostname}:${tcpAddr.port}`,
    mode: config.echo ? "echo" : "chat",
  });

  let stopping: Promise<void> | null = null;
  const shutdown = () => {
    stopping ??= (async () => {
      log.info("shutting down: {connections} connections", { connections: live.size });
      try {
        listener.close();
      } catch {
        // Already closed.
      }
      await accepting;
      for (const entry of [...live]) entry.goingAway();
      const drained = Promise.all([...handlers]).then(() => true);
      const deadline = new Promise<false>((resolve) => {
        const timer = setTimeout(() => resolve(false), config.drainTimeoutMs);
        drained.then(() => clearTimeout(timer));
      });
      if (!(await Promise.race([drained, deadline]))) {
        log.warn("drain deadline passed: closing {n} connections", { n: live.size });
        for (const entry of [...live]) entry.forceClose();
        await Promise.all([...handlers]);
      }
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
  return { tcpAddr, hub, stats, shutdown };
}
