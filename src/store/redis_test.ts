import assert from "node:assert/strict";
import { redisAvailable, redisTest, startRedis } from "../../tests/redis_server.ts";
import { historyStoreContract, msg } from "./contract.ts";
import { RedisHistoryStore } from "./redis.ts";
import { StoreOpenError } from "./sqlite.ts";
import { StoreWriteError } from "../core/history.ts";

const message = (room: string, text: string) => msg(room, text, { nick: "ann" });

// One redis-server for the contract's tests, stopped when the test module unloads.
const shared = redisAvailable() ? await startRedis() : null;
if (shared !== null) {
  globalThis.addEventListener("unload", () => shared.stopSync());
  let n = 0;
  historyStoreContract("redis", (size) => RedisHistoryStore.connect(shared.url, size, `t${++n}:`));
}

redisTest("redis store: two stores on one Redis share ids and history", async () => {
  await using redis = await startRedis();
  const a = await RedisHistoryStore.connect(redis.url, 100);
  const b = await RedisHistoryStore.connect(redis.url, 100);
  try {
    const ids = await Promise.all([
      a.append(message("r", "a1")),
      b.append(message("r", "b1")),
      a.append(message("r", "a2")),
      b.append(message("r", "b2")),
    ]);
    assert.deepEqual(ids.map((m) => m.id).sort(), [1, 2, 3, 4], "each id given once");
    const seenByA = (await a.after("r", 0, 10)).map((m) => [m.id, m.text]);
    const seenByB = (await b.after("r", 0, 10)).map((m) => [m.id, m.text]);
    assert.deepEqual(seenByA, seenByB);
    assert.deepEqual(seenByA.map(([id]) => id), [1, 2, 3, 4]);
  } finally {
    await a.close();
    await b.close();
  }
});

redisTest("redis store: ids go on after the stream was trimmed empty", async () => {
  await using redis = await startRedis();
  const store = await RedisHistoryStore.connect(redis.url, 1);
  try {
    await store.append(message("r", "one"));
    await store.append(message("r", "two"));
    assert.deepEqual((await store.recent("r", 10)).map((m) => m.id), [2]);
    assert.equal((await store.append(message("r", "three"))).id, 3);
  } finally {
    await store.close();
  }
});

redisTest("redis store: an unreachable Redis is a clear StoreOpenError", async () => {
  const redis = await startRedis();
  const url = redis.url;
  await redis.kill();
  await assert.rejects(
    RedisHistoryStore.connect(url, 100, "chat:", 500),
    (err) =>
      err instanceof StoreOpenError && err.message.startsWith(`cannot reach Redis at ${url}`),
  );
});

redisTest("redis store: an append while Redis is gone fails, and is counted", async () => {
  const redis = await startRedis();
  const store = await RedisHistoryStore.connect(redis.url, 100);
  try {
    assert.equal(store.errorCounts().append, 0);
    await redis.kill();
    await assert.rejects(store.append(message("r", "lost")), StoreWriteError);
    assert.equal(store.health().ok, false);
    assert.equal(store.errorCounts().append, 1);
  } finally {
    await store.close();
  }
});
