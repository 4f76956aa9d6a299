/**
 * The composition root: flags and environment -> config -> logging -> store
 * -> server -> signals. `deno task start [HOST:PORT] [options]`.
 *
 * @module
 */

import denoJson from "./deno.json" with { type: "json" };
import { ConfigError, parseInvocation } from "./src/config.ts";
import { logger, setupLogging } from "./src/log.ts";
import { ListenError, startServer } from "./src/server.ts";
import { loadAssets } from "./src/transport/http.ts";
import type { HistoryStore } from "./src/core/history.ts";
import { MemoryHistoryStore } from "./src/store/memory.ts";
import { SqliteHistoryStore, StoreOpenError } from "./src/store/sqlite.ts";
import { RedisHistoryStore } from "./src/store/redis.ts";
import { RedisCluster } from "./src/cluster/redis.ts";
import { backupDatabase, BackupError } from "./src/store/backup.ts";

/** Exit status for bad usage and for addresses that cannot be bound. */
const EXIT_USAGE = 2;

/** A signal repeated within this many milliseconds of the first counts once. */
const REPEAT_WINDOW_MS = 1000;

function fail(message: string): never {
  console.error(`chat-server: ${message}`);
  Deno.exit(EXIT_USAGE);
}

async function main(args: string[]): Promise<void> {
  let invocation;
  try {
    invocation = parseInvocation(args, Deno.env.toObject());
  } catch (err) {
    if (err instanceof ConfigError) fail(`${err.message} (try --help)`);
    throw err;
  }
  if (invocation.kind === "help") {
    console.log(invocation.text);
    return;
  }
  if (invocation.kind === "version") {
    console.log(`chat-server ${denoJson.version} (deno ${Deno.version.deno})`);
    return;
  }
  if (invocation.kind === "backup") {
    try {
      const done = await backupDatabase(invocation.db, invocation.file, invocation.force);
      console.log(
        `wrote ${done.file}: ${done.messages} messages in ${done.rooms} room${
          done.rooms === 1 ? "" : "s"
        } (${done.bytes} bytes)`,
      );
    } catch (err) {
      if (!(err instanceof BackupError)) throw err;
      console.error(`chat-server: ${err.message}`);
      Deno.exit(1);
    }
    return;
  }
  const { config } = invocation;
  setupLogging(config.logLevel, config.logFormat);
  const log = logger("main");

  // A missing web client is not fatal: chat over TCP and /ws works without it.
  const assets = await loadAssets().catch((err) => {
    log.warn("web client not loaded, / is not served: {error}", { error: String(err) });
    return new Map();
  });
  let store: HistoryStore;
  let cluster: RedisCluster | null = null;
  // Cluster mode: history, ids, nicks and presence live in Redis.
  if (config.redis !== null) {
    try {
      store = await RedisHistoryStore.connect(config.redis, config.historySize);
      cluster = await RedisCluster.connect(config.redis, {
        onLinkChange: (up) => {
          const clusterLog = logger("cluster");
          if (up) clusterLog.info("redis link restored");
          else clusterLog.error("redis link down: chatting locally until it returns");
        },
        onSweep: (proc, removed) =>
          logger("cluster").warn("server {proc} stopped answering: {removed} members removed", {
            proc,
            removed,
          }),
      });
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
    }
  } else {
    try {
      store = config.db === ":memory:"
        ? new MemoryHistoryStore(config.historySize)
        : new SqliteHistoryStore(config.db, config.historySize, (health) => {
          if (health.ok) logger("store").info("history writes work again");
          else logger("store").error("history writes fail: {error}", { error: health.error });
        });
    } catch (err) {
      if (err instanceof StoreOpenError) fail(err.message);
      throw err;
    }
  }
  let tls = null;
  if (config.tls !== null) {
    try {
      tls = {
        cert: await Deno.readTextFile(config.tls.certFile),
        key: await Deno.readTextFile(config.tls.keyFile),
      };
    } catch (err) {
      fail(`cannot read the TLS certificate or key: ${err instanceof Error ? err.message : err}`);
    }
  }
  let server;
  try {
    server = startServer(config, store, assets, cluster, tls);
  } catch (err) {
    await store.close();
    if (err instanceof ListenError) fail(err.message);
    throw err;
  }

  // One shutdown path for both signals; a second signal while draining forces the exit.
  const stop = (signal: Deno.Signal) => {
    log.info("received {signal}", { signal });
    server.shutdown().then(
      () => Deno.exit(0),
      (err) => {
        log.error("shutdown failed: {error}", { error: err });
        Deno.exit(1);
      },
    );
  };
  let first: { signal: Deno.Signal; at: number } | null = null;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      const now = performance.now();
      if (first === null) {
        first = { signal, at: now };
        return stop(signal);
      }
      // One Ctrl-C under `deno task start` arrives twice (from the terminal and
      // from the task runner): a repeat within the window is the same signal.
      if (signal === first.signal && now - first.at < REPEAT_WINDOW_MS) return;
      log.warn("second signal: exiting without waiting for the drain");
      Deno.exit(1);
    });
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (err) {
    // Last resort: one line, no stack trace unless asked for with CHAT_DEBUG.
    console.error(`chat-server: ${err instanceof Error ? err.message : String(err)}`);
    if (Deno.env.get("CHAT_DEBUG")) console.error(err);
    Deno.exit(1);
  }
}
