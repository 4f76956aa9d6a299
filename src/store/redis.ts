/**
 * History in Redis, for cluster mode: one stream per room, ids from one
 * counter per room, so every server process sharing the Redis sees the same
 * history and the same numbering.
 *
 * An append is one Lua script (`INCRBY` the room's counter, `XADD` the
 * messages with those ids, trim ids older than the last `historySize`), so
 * ids are assigned once cluster-wide, in the order Redis ran the scripts, and
 * the stream stays ordered by id. The appends a turn makes to one room share
 * one script call at the end of the turn (a group commit,
 * `redis_appends.ts`). The counter is separate from the stream:
 * trimming never makes an id come back. Trimming is by id (`MINID`, Redis 6.2
 * or later), as in the other stores: a removed message does not let an older
 * one stay longer.
 *
 * Stream entries cannot change, so edits and reactions live beside the
 * stream, in two overlay hashes per room keyed by id (`edit:<room>`: the
 * latest text and its time; `react:<room>`: the reactions) that every read
 * merges in; reads are scripts, so a read sees the stream and the overlays
 * at one moment. Each change is a script that first checks the entry is
 * still in the stream. The scripts, and how they keep the overlays no
 * larger than the stream and take a removed text out of memory, are in
 * `redis_scripts.ts`. The original text of an edited message stays in its
 * stream entry (unread) until the message is removed or trimmed.
 *
 * `search` scans the rooms' streams newest first (at most `historySize`
 * entries each) and matches like the memory store: complete over the
 * shared history, at the cost of a scan.
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
import type {
  HistoryStore,
  NewMessage,
  ReactResult,
  RecordKind,
  StoreHealth,
} from "../core/history.ts";
import { StoreWriteError } from "../core/history.ts";
import { matches, searchWords } from "./memory.ts";
import { StoreOpenError } from "./sqlite_open.ts";
import { logger } from "../log.ts";
import { ErrorLog } from "../cluster/errors.ts";
import { AppendQueue } from "./redis_appends.ts";
import { loadScripts } from "../cluster/lua.ts";
import {
  APPEND,
  COUNT_AFTER,
  EDIT,
  type Entry,
  messages,
  REACT,
  READ,
  type Read,
  REMOVE,
  toMessage,
} from "./redis_scripts.ts";

/** The operations whose failures are counted (see {@link RedisHistoryStore.errorCounts}). */
export const STORE_OPS = ["connection", "append", "close"] as const;

/** Entries a search reads per script call. */
const SEARCH_PAGE = 1000;

/** {@link HistoryStore} in Redis streams. See the module doc. */
export class RedisHistoryStore implements HistoryStore {
  readonly #redis: Redis;
  readonly #historySize: number;
  readonly #prefix: string;
  #health: StoreHealth = { ok: true };
  /** Stream lengths of the rooms this process wrote to, as of its last append there. */
  readonly #lengths = new Map<string, number>();
  readonly #errors: ErrorLog;
  /** Appends waiting for the end of the turn (`redis_appends.ts`). */
  readonly #appends = new AppendQueue((room, messages) => this.#appendGroup(room, messages));

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
      await loadScripts(redis);
    } catch (err) {
      redis.disconnect();
      throw new StoreOpenError(
        `cannot reach Redis at ${url}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    connecting = false;
    // A Redis that restarted has no scripts: load them before the next burst.
    redis.on("ready", () => loadScripts(redis).catch((err) => errors.report("connection", err)));
    return new RedisHistoryStore(redis, historySize, prefix, errors);
  }

  /**
   * Numbers and keeps `message`, with the other appends of this turn (a group commit,
   * `redis_appends.ts`).
   */
  append(message: NewMessage): Promise<ChatMessage> {
    return this.#appends.add(message);
  }

  /** The connection, once the appends waiting for the end of the turn are sent. */
  get #now(): Redis {
    this.#appends.commit();
    return this.#redis;
  }

  /** Appends one room's `messages` in one script call: each numbered, or why it is not. */
  async #appendGroup(
    room: string,
    messages: NewMessage[],
  ): Promise<(ChatMessage | StoreWriteError)[]> {
    const args: string[] = [];
    for (const message of messages) {
      args.push(
        message.nick,
        message.text,
        String(message.ts),
        message.kind,
        message.replyTo === undefined ? "" : String(message.replyTo),
      );
    }
    try {
      const [first, length] = (await APPEND.run(
        this.#redis,
        4,
        this.#key("id", room),
        this.#key("hist", room),
        this.#key("edit", room),
        this.#key("react", room),
        String(this.#historySize),
        ...args,
      )) as [number, number];
      this.#lengths.set(room, Number(length));
      this.#health = { ok: true };
      return messages.map((message, i) => ({ ...message, id: Number(first) + i }));
    } catch (err) {
      this.#errors.report("append", err, messages.length);
      const error = err instanceof Error ? err.message : String(err);
      this.#health = { ok: false, error };
      // Without Redis there is no cluster-wide id to give: 0 marks "not numbered".
      return messages.map((message) => new StoreWriteError(error, { ...message, id: 0 }));
    }
  }

  async lastId(room: string): Promise<number> {
    // The counter APPEND increments: it outlives trimming of the stream.
    return Number(await this.#now.get(this.#key("id", room)) ?? 0);
  }

  async recent(room: string, limit: number): Promise<ChatMessage[]> {
    if (limit < 1) return [];
    return (await this.#read(room, "XREVRANGE", "+", "-", limit)).reverse();
  }

  after(room: string, after: number, limit: number): Promise<ChatMessage[]> {
    if (limit < 1) return Promise.resolve([]);
    return this.#read(room, "XRANGE", `${Math.max(0, Math.floor(after)) + 1}-0`, "+", limit);
  }

  async before(room: string, before: number, limit: number): Promise<ChatMessage[]> {
    if (limit < 1 || before <= 1) return [];
    return (await this.#read(room, "XREVRANGE", `${Math.ceil(before) - 1}-0`, "-", limit))
      .reverse();
  }

  async get(room: string, id: number): Promise<ChatMessage | null> {
    if (!validId(id)) return null;
    const [message] = await this.#read(room, "XRANGE", `${id}-0`, `${id}-0`, 1);
    return message ?? null;
  }

  async edit(room: string, id: number, text: string, ts: number): Promise<ChatMessage | null> {
    if (!validId(id)) return null;
    const read = await EDIT.run(
      this.#now,
      3,
      this.#key("hist", room),
      this.#key("edit", room),
      this.#key("react", room),
      String(id),
      JSON.stringify({ text, edited: Math.floor(ts) }),
    ) as Read | null;
    return read === null ? null : messages(room, read)[0];
  }

  async remove(room: string, id: number): Promise<boolean> {
    if (!validId(id)) return false;
    const deleted = Number(
      await REMOVE.run(
        this.#now,
        3,
        this.#key("hist", room),
        this.#key("edit", room),
        this.#key("react", room),
        String(id),
      ),
    );
    const length = this.#lengths.get(room);
    if (deleted > 0 && length !== undefined) this.#lengths.set(room, Math.max(0, length - 1));
    return deleted > 0;
  }

  async react(
    room: string,
    id: number,
    emoji: string,
    nick: string,
    on: boolean,
  ): Promise<ReactResult | null> {
    if (!validId(id)) return null;
    return await REACT.run(
      this.#now,
      2,
      this.#key("hist", room),
      this.#key("react", room),
      String(id),
      emoji,
      nick,
      on ? "1" : "0",
    ) as ReactResult | null;
  }

  async countAfter(room: string, after: number): Promise<number> {
    const n = await COUNT_AFTER.run(
      this.#now,
      1,
      this.#key("hist", room),
      String(Math.max(0, Math.floor(after))),
    );
    return Number(n);
  }

  /** Each room newest first, a page at a time, until `limit` matches or its start. */
  async search(rooms: string[], query: string, limit: number): Promise<ChatMessage[]> {
    const words = searchWords(query);
    limit = Math.floor(limit);
    if (words.length === 0 || limit < 1) return [];
    const found: ChatMessage[] = [];
    for (const room of new Set(rooms)) {
      let end = "+";
      let n = 0;
      while (n < limit) {
        const page = await this.#read(room, "XREVRANGE", end, "-", SEARCH_PAGE);
        for (const m of page) {
          if (n < limit && matches(m.text, words)) {
            found.push(m);
            n++;
          }
        }
        const oldest = page[page.length - 1]?.id ?? 0;
        if (page.length < SEARCH_PAGE || oldest <= 1) break;
        end = `${oldest - 1}-0`;
      }
    }
    found.sort((a, b) => b.ts - a.ts || b.id - a.id);
    return found.slice(0, limit);
  }

  async idAtTime(room: string, ts: number): Promise<number> {
    // Newest first, a page at a time, until a message at or before ts.
    let end = "+";
    for (;;) {
      const page = await this.#now.xrevrange(this.#key("hist", room), end, "-", "COUNT", 200) as
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
    return this.#now.hget(`${this.#prefix}records:${kind}`, key);
  }

  async putRecord(kind: RecordKind, key: string, value: string | null): Promise<void> {
    const hash = `${this.#prefix}records:${kind}`;
    if (value === null) await this.#now.hdel(hash, key);
    else await this.#now.hset(hash, key, value);
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
    this.#appends.commit(); // before the QUIT, which Redis answers after them
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

  /** Stream entries with their overlays merged, in the order the command gives. */
  async #read(
    room: string,
    command: "XRANGE" | "XREVRANGE",
    start: string,
    end: string,
    count: number,
  ): Promise<ChatMessage[]> {
    const read = await READ.run(
      this.#now,
      3,
      this.#key("hist", room),
      this.#key("edit", room),
      this.#key("react", room),
      command,
      start,
      end,
      String(Math.floor(count)),
    ) as Read;
    return messages(room, read);
  }
}

/** Ids are positive integers: anything else names no entry (and no stream id syntax). */
function validId(id: number): boolean {
  return Number.isSafeInteger(id) && id > 0;
}
