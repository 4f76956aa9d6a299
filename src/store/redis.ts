/**
 * History in Redis, for cluster mode: one stream per room, ids from one
 * counter per room, so every server process sharing the Redis sees the same
 * history and the same numbering.
 *
 * An append is one Lua script (`INCR` the room's counter, `XADD` the message
 * with that id, trim to `historySize`), so ids are assigned once
 * cluster-wide, in the order Redis ran the scripts, and the stream stays
 * ordered by id. The counter is separate from the stream: trimming never
 * makes an id come back.
 *
 * A failed append is thrown to the caller and shows in {@link health}; it is
 * also counted per operation with the connection's failures
 * ({@link RedisHistoryStore.errorCounts}, `chat_store_errors_total` in
 * `/metrics`) and logged with its cause, at most once per operation every 10 s.
 *
 * @module
 */

import { Redis } from "ioredis";
import type { ChatMessage } from "../core/types.ts";
import type { HistoryStore, NewMessage, RecordKind, StoreHealth } from "../core/history.ts";
import { StoreWriteError } from "../core/history.ts";
import { StoreOpenError } from "./sqlite.ts";
import { logger } from "../log.ts";
import { ErrorLog } from "../cluster/errors.ts";

/** The operations whose failures are counted (see {@link RedisHistoryStore.errorCounts}). */
export const STORE_OPS = ["connection", "append", "close"] as const;

const APPEND = `
local id = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], id .. '-0',
  'nick', ARGV[2], 'text', ARGV[3], 'ts', ARGV[4], 'kind', ARGV[5])
return {id, redis.call('XLEN', KEYS[2])}
`;

type Entry = [id: string, fields: string[]];

/** {@link HistoryStore} in Redis streams. See the module doc. */
export class RedisHistoryStore implements HistoryStore {
  readonly #redis: Redis;
  readonly #historySize: number;
  readonly #prefix: string;
  #health: StoreHealth = { ok: true };
  /** Stream lengths of the rooms this process wrote to, as of its last append there. */
  readonly #lengths = new Map<string, number>();
  readonly #errors: ErrorLog;

  private constructor(redis: Redis, historySize: number, prefix: string, errors: ErrorLog) {
    this.#redis = redis;
    this.#historySize = historySize;
    this.#prefix = prefix;
    this.#errors = errors;
  }

  /**
   * Connects to `url` (`redis://host:port`); keys start with `prefix`.
   * Throws {@link StoreOpenError} when Redis cannot be reached within `timeoutMs`.
   */
  static async connect(
    url: string,
    historySize = 10_000,
    prefix = "chat:",
    timeoutMs = 3000,
  ): Promise<RedisHistoryStore> {
    const redis = new Redis(url, {
      lazyConnect: true,
      // Appends of one turn leave in one write instead of one each.
      enableAutoPipelining: true,
      connectTimeout: timeoutMs,
      // Fail fast at start; once running, ioredis reconnects with backoff.
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 100, 2000),
    });
    const errors = new ErrorLog(logger("store"), "redis history", STORE_OPS);
    let connecting = true;
    redis.on("error", (err) => {
      // A failure to connect is thrown; later ones (ioredis retries) are reported.
      if (!connecting) errors.report("connection", err);
    });
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      throw new StoreOpenError(
        `cannot reach Redis at ${url}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    connecting = false;
    return new RedisHistoryStore(redis, historySize, prefix, errors);
  }

  async append(message: NewMessage): Promise<ChatMessage> {
    const { room } = message;
    try {
      const [id, length] = (await this.#redis.eval(
        APPEND,
        2,
        this.#key("id", room),
        this.#key("hist", room),
        String(this.#historySize),
        message.nick,
        message.text,
        String(message.ts),
        message.kind,
      )) as [number, number];
      this.#lengths.set(room, Number(length));
      this.#health = { ok: true };
      return { ...message, id: Number(id) };
    } catch (err) {
      this.#errors.report("append", err);
      this.#health = { ok: false, error: err instanceof Error ? err.message : String(err) };
      // Without Redis there is no cluster-wide id to give: 0 marks "not numbered".
      throw new StoreWriteError(this.#health.error!, { ...message, id: 0 });
    }
  }

  async lastId(room: string): Promise<number> {
    // The counter APPEND increments: it outlives trimming of the stream.
    return Number(await this.#redis.get(this.#key("id", room)) ?? 0);
  }

  async recent(room: string, limit: number): Promise<ChatMessage[]> {
    if (limit < 1) return [];
    const entries = await this.#redis.xrevrange(
      this.#key("hist", room),
      "+",
      "-",
      "COUNT",
      Math.floor(limit),
    ) as Entry[] | null;
    return (entries ?? []).reverse().map((e) => toMessage(room, e));
  }

  async after(room: string, after: number, limit: number): Promise<ChatMessage[]> {
    if (limit < 1) return [];
    const entries = await this.#redis.xrange(
      this.#key("hist", room),
      `${Math.floor(after) + 1}-0`,
      "+",
      "COUNT",
      Math.floor(limit),
    ) as Entry[] | null;
    return (entries ?? []).map((e) => toMessage(room, e));
  }

  async before(room: string, before: number, limit: number): Promise<ChatMessage[]> {
    if (limit < 1 || before <= 1) return [];
    const entries = await this.#redis.xrevrange(
      this.#key("hist", room),
      `${Math.ceil(before) - 1}-0`,
      "-",
      "COUNT",
      Math.floor(limit),
    ) as Entry[] | null;
    return (entries ?? []).reverse().map((e) => toMessage(room, e));
  }

  async idAtTime(room: string, ts: number): Promise<number> {
    // Newest first, a page at a time, until a message at or before ts.
    let end = "+";
    for (;;) {
      const page = await this.#redis.xrevrange(this.#key("hist", room), end, "-", "COUNT", 200) as
        | Entry[]
        | null;
      if (page === null || page.length === 0) return 0;
      for (const entry of page) {
        const message = toMessage(room, entry);
        if (message.ts <= ts) return message.id;
      }
      const last = toMessage(room, page[page.length - 1]).id;
      if (last <= 1) return 0;
      end = `${last - 1}-0`;
    }
  }

  /** Records of a kind live in one hash: `<prefix>records:<kind>`. */
  getRecord(kind: RecordKind, key: string): Promise<string | null> {
    return this.#redis.hget(`${this.#prefix}records:${kind}`, key);
  }

  async putRecord(kind: RecordKind, key: string, value: string | null): Promise<void> {
    const hash = `${this.#prefix}records:${kind}`;
    if (value === null) await this.#redis.hdel(hash, key);
    else await this.#redis.hset(hash, key, value);
  }

  /**
   * Messages kept in the rooms this process wrote to (the total over every
   * room would cost a scan of the keyspace on each call).
   */
  size(): number {
    let total = 0;
    for (const n of this.#lengths.values()) total += n;
    return total;
  }

  health(): StoreHealth {
    return this.#health;
  }

  /** Failures so far, per operation (every one of {@link STORE_OPS}, 0 included). */
  errorCounts(): Record<string, number> {
    return this.#errors.counts();
  }

  async close(): Promise<void> {
    try {
      await this.#redis.quit();
    } catch (err) {
      this.#errors.report("close", err);
      this.#redis.disconnect();
    }
  }

  #key(kind: string, room: string): string {
    return `${this.#prefix}${kind}:${room}`;
  }
}

function toMessage(room: string, [id, fields]: Entry): ChatMessage {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  return {
    room,
    id: Number(id.split("-")[0]),
    nick: f.nick,
    text: f.text,
    ts: Number(f.ts),
    kind: f.kind === "action" || f.kind === "notice" ? f.kind : "say",
  };
}
