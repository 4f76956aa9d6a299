/**
 * The part of starting shared by the command line (`main.ts`) and embedding
 * (`mod.ts`): a validated {@link Config} -> web client, store (SQLite file,
 * memory or Redis), cluster link, TLS files -> a running server.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { logger } from "./log.ts";
import { count } from "./protocol/text.ts";
import {
  ListenError,
  type RunningServer,
  type ServerHooks,
  startServer,
  type TlsFiles,
} from "./server.ts";
import { type Asset, loadAssets } from "./transport/http.ts";
import type { HistoryStore } from "./core/history.ts";
import { MemoryHistoryStore } from "./store/memory.ts";
import { SqliteHistoryStore } from "./store/sqlite.ts";
import { StoreOpenError } from "./store/sqlite_open.ts";
import type { RedisCluster } from "./cluster/redis.ts";

/**
 * The server could not start for a reason the operator must fix (the store
 * cannot be opened, Redis cannot be reached, the certificate cannot be read,
 * an address cannot be bound): its message is one line for them.
 */
export class StartError extends Error {
  override name = "StartError";
}

function why(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The web client; a missing one is not fatal: chat over TCP and /ws works without it. */
async function webClient(): Promise<Map<string, Asset>> {
  try {
    return await loadAssets();
  } catch (err) {
    logger("main").warn("web client not loaded, / is not served: {error}", {
      error: String(err),
    });
    return new Map();
  }
}

/** Opens the store named by the config, and in cluster mode the Redis link. */
async function openStore(
  config: Readonly<Config>,
): Promise<{ store: HistoryStore; cluster: RedisCluster | null }> {
  // Cluster mode: history, ids, nicks and presence live in Redis.
  if (config.redis !== null) {
    // The Redis client is loaded only for a cluster: a server without Redis starts 12 MB smaller
    // and 0.1 s sooner (docs/performance.md, "What loading a module costs").
    const [{ RedisHistoryStore }, { RedisCluster }] = await Promise.all([
      import("./store/redis.ts"),
      import("./cluster/redis.ts"),
    ]);
    let store: HistoryStore | null = null;
    try {
      store = await RedisHistoryStore.connect(config.redis, config.historySize);
      const cluster = await RedisCluster.connect(config.redis, {
        onLinkChange: (up) => {
          const clusterLog = logger("cluster");
          if (up) clusterLog.info("redis link restored");
          else clusterLog.error("redis link down: chatting locally until it returns");
        },
        onSweep: (proc, removed) =>
          logger("cluster").warn("server {proc} stopped answering: {members} removed", {
            proc,
            members: count(removed, "member"),
            removed,
          }),
      });
      return { store, cluster };
    } catch (err) {
      await store?.close();
      throw new StartError(why(err), { cause: err });
    }
  }
  try {
    const store = config.db === ":memory:"
      ? new MemoryHistoryStore(config.historySize)
      : new SqliteHistoryStore(config.db, config.historySize, (health) => {
        if (health.ok) logger("store").info("history writes work again");
        else logger("store").error("history writes fail: {error}", { error: health.error });
      });
    return { store, cluster: null };
  } catch (err) {
    if (err instanceof StoreOpenError) throw new StartError(err.message, { cause: err });
    throw err;
  }
}

/**
 * Opens what `config` names and starts serving. Expected failures are
 * {@link StartError}s; whatever was opened before one is closed again.
 */
export async function launch(
  config: Readonly<Config>,
  hooks: ServerHooks = {},
): Promise<RunningServer> {
  let tls = null;
  try {
    tls = await readTls(config.tls);
  } catch (err) {
    throw new StartError(why(err), { cause: err });
  }
  const assets = await webClient();
  const { store, cluster } = await openStore(config);
  try {
    return startServer(config, store, assets, cluster, tls, hooks);
  } catch (err) {
    await cluster?.close();
    await store.close();
    if (err instanceof ListenError) throw new StartError(err.message, { cause: err });
    throw err;
  }
}

/** The certificate and key, read afresh (a renewal rewrites the same files). */
export async function readTls(
  files: { certFile: string; keyFile: string } | null,
): Promise<TlsFiles | null> {
  if (files === null) return null;
  try {
    return {
      cert: await Deno.readTextFile(files.certFile),
      key: await Deno.readTextFile(files.keyFile),
    };
  } catch (err) {
    throw new Error(`cannot read the TLS certificate or key: ${why(err)}`, { cause: err });
  }
}
