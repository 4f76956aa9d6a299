/**
 * History in Redis, for cluster mode: one stream per room, ids from one
 * counter per room, so every server process sharing the Redis sees the same
 * history and the same numbering.
 *
 * An append is one Lua script (`INCR` the room's counter, `XADD` the message
 * with that id, trim ids older than the last `historySize`), so ids are
 * assigned once cluster-wide, in the order Redis ran the scripts, and the
 * stream stays ordered by id. The counter is separate from the stream:
 * trimming never makes an id come back. Trimming is by id (`MINID`, Redis 6.2
 * or later), as in the other stores: a removed message does not let an older
 * one stay longer.
 *
 * Stream entries cannot change, so edits and reactions live beside the
 * stream, in two overlay hashes per room keyed by id (`edit:<room>`: the
 * latest text and its time; `react:<room>`: the reactions) that every read
 * merges in; reads are scripts, so a read sees the stream and the overlays
 * at one moment. Each change is a script that first checks the entry is
 * still in the stream. The append that trims an id deletes its overlay
 * fields; fields an append could not know about (another process with a
 * smaller `historySize`, or a smaller one after a restart) are swept when an
 * overlay holds more fields than a room keeps messages, so an overlay never
 * outgrows the stream it describes. `remove` is `XDEL`, drops the overlay
 * fields, and writes the room's stream anew (at most `historySize` entries,
 * in the script): `XDEL` alone leaves the bytes in memory and snapshots. The
 * original text of an edited message stays in its stream entry (unread)
 * until the message is removed or trimmed.
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
import { LuaScript } from "../cluster/lua.ts";

/** The operations whose failures are counted (see {@link RedisHistoryStore.errorCounts}). */
export const STORE_OPS = ["connection", "append", "close"] as const;

// KEYS: counter, stream, edit overlay, reaction overlay.
// ARGV: historySize, nick, text, ts, kind, replyTo ('' for none).
const APPEND = new LuaScript(`
local id = redis.call('INCR', KEYS[1])
local size = tonumber(ARGV[1])
local fields = {'nick', ARGV[2], 'text', ARGV[3], 'ts', ARGV[4], 'kind', ARGV[5]}
if ARGV[6] ~= '' then
  fields[9] = 'reply'
  fields[10] = ARGV[6]
end
redis.call('XADD', KEYS[2], 'MINID', math.max(0, id - size + 1), id .. '-0', unpack(fields))
local gone = id - size
if gone > 0 then
  for _, key in ipairs({KEYS[3], KEYS[4]}) do
    redis.call('HDEL', key, gone)
    if redis.call('HLEN', key) > size then
      for _, field in ipairs(redis.call('HKEYS', key)) do
        if tonumber(field) <= gone then redis.call('HDEL', key, field) end
      end
    end
  end
end
return {id, redis.call('XLEN', KEYS[2])}
`);

/** The overlay fields of some entries, HMGET in slices (unpack has a limit). */
const OVERLAY = `
local function overlay(key, entries)
  local out = {}
  if #entries == 0 or redis.call('EXISTS', key) == 0 then return out end
  for i = 1, #entries, 500 do
    local ids = {}
    for j = i, math.min(i + 499, #entries) do ids[#ids + 1] = string.match(entries[j][1], '^%d+') end
    local got = redis.call('HMGET', key, unpack(ids))
    for j = 1, #got do out[i + j - 1] = got[j] end
  end
  return out
end
`;

// KEYS: stream, edit overlay, reaction overlay. ARGV: XRANGE or XREVRANGE, start, end, count.
const READ = new LuaScript(`${OVERLAY}
local entries = redis.call(ARGV[1], KEYS[1], ARGV[2], ARGV[3], 'COUNT', ARGV[4])
return {entries, overlay(KEYS[2], entries), overlay(KEYS[3], entries)}
`);

// KEYS: stream, edit overlay, reaction overlay. ARGV: id, the edit's JSON.
const EDIT = new LuaScript(`
local entries = redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', ARGV[1] .. '-0')
if #entries == 0 then return false end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {entries, {ARGV[2]}, {redis.call('HGET', KEYS[3], ARGV[1])}}
`);

// KEYS: stream, edit overlay, reaction overlay. ARGV: id.
const REMOVE = new LuaScript(`
local n = redis.call('XDEL', KEYS[1], ARGV[1] .. '-0')
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if n == 0 then return 0 end
-- XDEL only marks an entry: its bytes stay in the stream's node (and in
-- snapshots) until the whole node goes. Writing the stream anew, with the
-- same ids, takes the text out of Redis's memory at once.
local entries = redis.call('XRANGE', KEYS[1], '-', '+')
redis.call('DEL', KEYS[1])
for _, entry in ipairs(entries) do
  redis.call('XADD', KEYS[1], entry[1], unpack(entry[2]))
end
return n
`);

// KEYS: stream, reaction overlay. ARGV: id, emoji, nick, '1' to add or '0' to take back.
// The overlay is a JSON list of [emoji, [nicks]] pairs: Lua tables keep no key order.
const REACT = new LuaScript(`
if #redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', ARGV[1] .. '-0') == 0 then return false end
local raw = redis.call('HGET', KEYS[2], ARGV[1])
local list = {}
if raw then list = cjson.decode(raw) end
local at
for i, pair in ipairs(list) do
  if pair[1] == ARGV[2] then at = i end
end
if ARGV[4] == '1' then
  if at == nil then
    list[#list + 1] = {ARGV[2], {}}
    at = #list
  end
  for _, nick in ipairs(list[at][2]) do
    if nick == ARGV[3] then return 'unchanged' end
  end
  table.insert(list[at][2], ARGV[3])
else
  if at == nil then return 'unchanged' end
  local nicks = list[at][2]
  local found
  for i, nick in ipairs(nicks) do
    if nick == ARGV[3] then found = i end
  end
  if found == nil then return 'unchanged' end
  table.remove(nicks, found)
  if #nicks == 0 then table.remove(list, at) end
end
if #list == 0 then
  redis.call('HDEL', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(list))
end
return 'changed'
`);

// KEYS: stream. ARGV: after. Counts the smaller side of the stream around it.
const COUNT_AFTER = new LuaScript(`
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
if first == nil then return 0 end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local after = tonumber(ARGV[1])
local low = tonumber(string.match(first[1], '^%d+'))
local high = tonumber(string.match(last[1], '^%d+'))
if after < low then return redis.call('XLEN', KEYS[1]) end
if after >= high then return 0 end
if high - after <= after - low then
  return #redis.call('XRANGE', KEYS[1], '(' .. ARGV[1] .. '-0', '+')
end
return redis.call('XLEN', KEYS[1]) - #redis.call('XRANGE', KEYS[1], '-', ARGV[1] .. '-0')
`);

type Entry = [id: string, fields: string[]];
/** What the read scripts answer: entries, and the overlays of each (null for none). */
type Read = [entries: Entry[], edits: (string | null)[], reactions: (string | null)[]];

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
      const [id, length] = (await APPEND.run(
        this.#redis,
        4,
        this.#key("id", room),
        this.#key("hist", room),
        this.#key("edit", room),
        this.#key("react", room),
        String(this.#historySize),
        message.nick,
        message.text,
        String(message.ts),
        message.kind,
        message.replyTo === undefined ? "" : String(message.replyTo),
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
      this.#redis,
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
        this.#redis,
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
      this.#redis,
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
      this.#redis,
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

  /** Stream entries with their overlays merged, in the order the command gives. */
  async #read(
    room: string,
    command: "XRANGE" | "XREVRANGE",
    start: string,
    end: string,
    count: number,
  ): Promise<ChatMessage[]> {
    const read = await READ.run(
      this.#redis,
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

function messages(room: string, [entries, edits, reactions]: Read): ChatMessage[] {
  return entries.map((entry, i) => toMessage(room, entry, edits[i] ?? null, reactions[i] ?? null));
}

/** Optional fields are set only when there is something in them (reads compare simply). */
function toMessage(
  room: string,
  [id, fields]: Entry,
  edit: string | null = null,
  reactions: string | null = null,
): ChatMessage {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  const message: ChatMessage = {
    room,
    id: Number(id.split("-")[0]),
    nick: f.nick,
    text: f.text,
    ts: Number(f.ts),
    kind: f.kind === "action" || f.kind === "notice" ? f.kind : "say",
  };
  if (f.reply !== undefined) message.replyTo = Number(f.reply);
  if (edit !== null) {
    const { text, edited } = JSON.parse(edit) as { text: string; edited: number };
    message.text = text;
    message.edited = edited;
  }
  if (reactions !== null) {
    // fromEntries defines keys: a reaction named "__proto__" stays a reaction.
    message.reactions = Object.fromEntries(JSON.parse(reactions) as [string, string[]][]);
  }
  return message;
}
