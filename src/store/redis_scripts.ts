/**
 * The Redis store's Lua scripts, and what their answers decode to. Each
 * script is one atomic step on one room's keys: its id counter, its stream,
 * and the two overlay hashes (`edit:<room>`, `react:<room>`; why they exist
 * is in `redis.ts`).
 *
 * The append that trims an id deletes its overlay fields; fields an append
 * could not know about (another process with a smaller `historySize`, or a
 * smaller one after a restart) are swept when an overlay holds more fields
 * than a room keeps messages, so an overlay never outgrows the stream it
 * describes. `remove` is `XDEL`, drops the overlay fields, and writes the
 * room's stream anew (at most `historySize` entries, in the script): `XDEL`
 * alone leaves the bytes in memory and snapshots.
 *
 * @module
 */

import type { ChatMessage } from "../core/types.ts";
import { LuaScript } from "../cluster/lua.ts";

// KEYS: counter, stream, edit overlay, reaction overlay.
// ARGV: historySize, then per message (one or more, in order): nick, text, ts, kind, replyTo ('' for
// none). Returns the first id given (the others follow it) and the stream's length.
export const APPEND = new LuaScript(`
local size = tonumber(ARGV[1])
local n = (#ARGV - 1) / 5
local last = redis.call('INCRBY', KEYS[1], n)
local first = last - n + 1
for i = 0, n - 1 do
  local a = 2 + i * 5
  local id = first + i
  local fields = {'nick', ARGV[a], 'text', ARGV[a + 1], 'ts', ARGV[a + 2], 'kind', ARGV[a + 3]}
  if ARGV[a + 4] ~= '' then
    fields[9] = 'reply'
    fields[10] = ARGV[a + 4]
  end
  redis.call('XADD', KEYS[2], 'MINID', math.max(0, id - size + 1), id .. '-0', unpack(fields))
end
if last - size > 0 then
  for _, key in ipairs({KEYS[3], KEYS[4]}) do
    for gone = math.max(1, first - size), last - size do redis.call('HDEL', key, gone) end
    if redis.call('HLEN', key) > size then
      for _, field in ipairs(redis.call('HKEYS', key)) do
        if tonumber(field) <= last - size then redis.call('HDEL', key, field) end
      end
    end
  end
end
return {first, redis.call('XLEN', KEYS[2])}
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
export const READ = new LuaScript(`${OVERLAY}
local entries = redis.call(ARGV[1], KEYS[1], ARGV[2], ARGV[3], 'COUNT', ARGV[4])
return {entries, overlay(KEYS[2], entries), overlay(KEYS[3], entries)}
`);

// KEYS: stream, edit overlay, reaction overlay. ARGV: id, the edit's JSON.
export const EDIT = new LuaScript(`
local entries = redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', ARGV[1] .. '-0')
if #entries == 0 then return false end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {entries, {ARGV[2]}, {redis.call('HGET', KEYS[3], ARGV[1])}}
`);

// KEYS: stream, edit overlay, reaction overlay. ARGV: id.
export const REMOVE = new LuaScript(`
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
export const REACT = new LuaScript(`
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
export const COUNT_AFTER = new LuaScript(`
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

/** A stream entry: its id (`<message id>-0`) and its fields, name then value. */
export type Entry = [id: string, fields: string[]];
/** What the read scripts answer: entries, and the overlays of each (null for none). */
export type Read = [entries: Entry[], edits: (string | null)[], reactions: (string | null)[]];

/** What a read script answered, as messages in its order. */
export function messages(room: string, [entries, edits, reactions]: Read): ChatMessage[] {
  return entries.map((entry, i) => toMessage(room, entry, edits[i] ?? null, reactions[i] ?? null));
}

/** Optional fields are set only when there is something in them (reads compare simply). */
export function toMessage(
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
