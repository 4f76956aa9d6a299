/**
 * The Redis cluster link's atomic steps, as Lua scripts: each runs as one
 * operation on the server, so no other process sees it half done.
 *
 * @module
 */

import { LuaScript } from "./lua.ts";

/** Removes a dead process's members and nicks; returns `[room, nick]` pairs removed. */
export const SWEEP = new LuaScript(`
local dead = ARGV[1]
local removed = {}
for _, room in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[2] .. room
  local members = redis.call('HGETALL', key)
  for i = 1, #members, 2 do
    if members[i + 1] == dead then
      redis.call('HDEL', key, members[i])
      table.insert(removed, room)
      table.insert(removed, members[i])
    end
  end
  if redis.call('EXISTS', key) == 0 then redis.call('SREM', KEYS[1], room) end
end
local nicks = redis.call('HGETALL', KEYS[2])
for i = 1, #nicks, 2 do
  if string.sub(nicks[i + 1], 1, #dead + 1) == dead .. ' ' then redis.call('HDEL', KEYS[2], nicks[i]) end
end
redis.call('SREM', KEYS[3], dead)
return removed
`);

/**
 * Claims a nick (value `<process id> <nick>`), or finds it already ours: then
 * the spelling is updated, whatever its case was (ARGV[3] is `<process id> `).
 */
export const CLAIM = new LuaScript(`
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner == false or string.sub(owner, 1, #ARGV[3]) == ARGV[3] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
`);

/** Releases a nick only if it is still ours, in whatever case it was claimed. */
export const RELEASE = new LuaScript(`
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner and string.sub(owner, 1, #ARGV[2]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`);

/** Removes a member; the room leaves the `rooms` set with its last member (in one step). */
export const LEAVE = new LuaScript(`
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return 0
`);
