import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { redisTest, startRedis } from "../../tests/redis_server.ts";
import { LuaScript } from "./lua.ts";

/** How many times Redis ran `command` (from INFO commandstats). */
async function calls(redis: Redis, command: string): Promise<number> {
  const info = await redis.info("commandstats");
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

redisTest(
  "a Lua script is sent once, then run by its SHA1, and again after SCRIPT FLUSH",
  async () => {
    await using server = await startRedis();
    const redis = new Redis(server.url);
    try {
      const add = new LuaScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
      assert.equal(await add.run(redis, 1, "n", 2), 2, "first run: NOSCRIPT, then EVAL");
      assert.equal(await calls(redis, "eval"), 1);
      assert.equal(await add.run(redis, 1, "n", 3), 5);
      assert.equal(await add.run(redis, 1, "n", 4), 9);
      assert.equal(await calls(redis, "eval"), 1, "no more EVAL: the script is cached");
      assert.equal(await calls(redis, "evalsha"), 3, "every run tried EVALSHA");
      await redis.script("FLUSH");
      assert.equal(await add.run(redis, 1, "n", 1), 10, "after a flush it is sent again");
      assert.equal(await calls(redis, "eval"), 2);
      await assert.rejects(
        () => new LuaScript("return redis.call('NOSUCH')").run(redis, 0),
        /Unknown Redis command|unknown command/i,
        "a script's own error is the caller's",
      );
    } finally {
      redis.disconnect();
    }
  },
);
