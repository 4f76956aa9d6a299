import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { redisAvailable, redisTest, scriptMisses, startRedis } from "../../tests/redis_server.ts";
import { historyStoreContract } from "./contract.ts";
import { msg } from "./contract_support.ts";
import { RedisHistoryStore } from "./redis.ts";
import { APPEND } from "./redis_scripts.ts";
import { StoreOpenError } from "./sqlite_open.ts";
import { StoreWriteError } from "../core/history.ts";

const message = (room: string, text: string) => msg(room, text, { nick: "ann" });

// One redis-server for the contract's tests, stopped when the test module unloads.
const shared = redisAvailable() ? await startRedis() : null;
if (shared !== null) {
  globalThis.addEventListener("unload", () => shared.stopSync());
  let n = 0;
  historyStoreContract("redis", (size) => RedisHistoryStore.connect(shared.url, size, `t${++n}:`));
}

redisTest(
  "redis store: its scripts are loaded at connect and after Redis restarts, so bursts never miss",
  async () => {
    await using redis = await startRedis();
    const port = redis.port;
    const store = await RedisHistoryStore.connect(redis.url, 100);
    let again: Awaited<ReturnType<typeof startRedis>> | null = null;
    const burst = (tag: string) =>
      Promise.all(Array.from({ length: 200 }, (_, i) => store.append(message("r", `${tag}${i}`))));
    try {
      await burst("a");
      assert.equal(await scriptMisses(redis.url), 0, "the first burst ran by SHA1 alone");
      await redis.kill();
      again = await startRedis(port); // a new Redis: no scripts
      // The store reconnects by itself and loads its scripts once it is ready.
      const admin = new Redis(again.url);
      try {
        const deadline = Date.now() + 5000;
        while ((await admin.script("EXISTS", APPEND.sha) as number[])[0] !== 1) {
          assert.ok(Date.now() < deadline, "the scripts were not loaded again after the restart");
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        admin.disconnect();
      }
      await burst("b");
      assert.equal(await scriptMisses(again.url), 0, "the burst after the restart ran by SHA1");
    } finally {
      await store.close();
      await again?.kill();
    }
  },
);

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

redisTest(
  "redis store: a turn's appends go in one script call per room and 100, numbered in order",
  async () => {
    await using redis = await startRedis();
    const store = await RedisHistoryStore.connect(redis.url, 50);
    const admin = new Redis(redis.url);
    const calls = async () =>
      Number(/cmdstat_evalsha:calls=(\d+)/.exec(await admin.info("commandstats"))?.[1] ?? 0);
    try {
      await admin.config("RESETSTAT");
      // One turn: 150 to r (a reply among them), 3 to s, interleaved.
      const appends = Array.from({ length: 153 }, (_, i) => {
        const room = i % 51 === 50 ? "s" : "r";
        const m = room === "r" && i === 140
          ? { ...message(room, "re"), replyTo: 1 }
          : message(room, `${room}${i}`);
        return store.append(m);
      });
      const done = await Promise.all(appends);
      assert.equal(await calls(), 3, "r in groups of 100 and 50, s in one");
      const ids = (room: string) => done.filter((m) => m.room === room).map((m) => m.id);
      assert.deepEqual(ids("r"), Array.from({ length: 150 }, (_, i) => i + 1), "in the order made");
      assert.deepEqual(ids("s"), [1, 2, 3]);
      const kept = await store.after("r", 0, 200);
      assert.deepEqual(
        kept.map((m) => m.id),
        Array.from({ length: 50 }, (_, i) => i + 101),
        "trimmed to 50",
      );
      assert.deepEqual(
        kept.map((m) => m.text),
        done.filter((m) => m.room === "r").slice(100).map((m) => m.text),
      );
      assert.equal((await store.get("s", 2))?.text, "s101");
      assert.equal(await store.get("r", 8), null, "trimmed");
      assert.equal((await store.get("r", 139))?.replyTo, 1, "a reply keeps what it answers");
    } finally {
      admin.disconnect();
      await store.close();
    }
  },
);

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

redisTest("redis store: edits, reactions and removals are seen by every store", async () => {
  await using redis = await startRedis();
  const a = await RedisHistoryStore.connect(redis.url, 100);
  const b = await RedisHistoryStore.connect(redis.url, 100);
  try {
    await a.append(message("r", "first"));
    await a.append(msg("r", "second", { replyTo: 1 }));
    await a.append(message("r", "third"));
    await b.edit("r", 1, "first, edited", 7);
    await b.react("r", 2, "👍", "bo", true);
    assert.equal(await a.react("r", 2, "👍", "bo", true), "unchanged");
    await a.react("r", 2, "👍", "cy", true);
    assert.equal(await b.remove("r", 3), true);
    const seen = await a.recent("r", 10);
    assert.deepEqual(seen, await b.after("r", 0, 10));
    assert.deepEqual(seen.map((m) => [m.id, m.text, m.edited, m.replyTo, m.reactions]), [
      [1, "first, edited", 7, undefined, undefined],
      [2, "second", undefined, 1, { "👍": ["bo", "cy"] }],
    ]);
    assert.deepEqual((await a.search(["r"], "edited", 10)).map((m) => m.id), [1]);
    assert.equal(await a.countAfter("r", 0), 2);
  } finally {
    await a.close();
    await b.close();
  }
});

redisTest("redis store: a removed message's text leaves Redis, not just the reads", async () => {
  await using redis = await startRedis();
  const store = await RedisHistoryStore.connect(redis.url, 100);
  const client = new Redis(redis.url);
  try {
    for (let i = 1; i <= 20; i++) await store.append(message("r", `line ${i}`));
    await store.append(message("r", "the code is zqxjkvwpl"));
    await store.append(message("r", "after it"));
    const dump = async () =>
      new TextDecoder("latin1").decode(await client.dumpBuffer("chat:hist:r"));
    assert.ok((await dump()).includes("zqxjkvwpl"), "the dump shows stream text");
    assert.equal(await store.remove("r", 21), true);
    assert.ok(!(await dump()).includes("zqxjkvwpl"), "gone from the stream's memory");
    assert.deepEqual((await store.recent("r", 3)).map((m) => [m.id, m.text]), [
      [19, "line 19"],
      [20, "line 20"],
      [22, "after it"],
    ]);
    assert.equal((await store.append(message("r", "next"))).id, 23);
  } finally {
    client.disconnect();
    await store.close();
  }
});

redisTest("redis store: overlays lose the fields of trimmed messages", async () => {
  await using redis = await startRedis();
  const raw = new Redis(redis.url);
  const store = await RedisHistoryStore.connect(redis.url, 3, "p:");
  try {
    for (let i = 1; i <= 3; i++) await store.append(message("r", `m${i}`));
    for (let id = 1; id <= 3; id++) {
      await store.edit("r", id, `m${id} edited`, id);
      await store.react("r", id, "👍", "ann", true);
    }
    assert.equal(await raw.hlen("p:edit:r"), 3);
    assert.equal(await raw.hlen("p:react:r"), 3);
    await store.append(message("r", "m4")); // trims 1
    assert.deepEqual((await raw.hkeys("p:edit:r")).sort(), ["2", "3"]);
    assert.deepEqual((await raw.hkeys("p:react:r")).sort(), ["2", "3"]);
    await store.remove("r", 2);
    assert.deepEqual(await raw.hkeys("p:edit:r"), ["3"]);
    assert.deepEqual(await raw.hkeys("p:react:r"), ["3"]);
    for (let i = 5; i <= 7; i++) await store.append(message("r", `m${i}`));
    assert.equal(await raw.exists("p:edit:r", "p:react:r"), 0);
  } finally {
    await store.close();
    raw.disconnect();
  }
});

redisTest(
  "redis store: a smaller historySize sweeps the overlays it did not trim itself",
  async () => {
    await using redis = await startRedis();
    const raw = new Redis(redis.url);
    const big = await RedisHistoryStore.connect(redis.url, 10, "p:");
    const small = await RedisHistoryStore.connect(redis.url, 2, "p:");
    try {
      for (let i = 1; i <= 10; i++) {
        await big.append(message("r", `m${i}`));
        await big.react("r", i, "👍", "ann", true);
      }
      assert.equal(await raw.hlen("p:react:r"), 10);
      await small.append(message("r", "m11")); // keeps 10 and 11
      assert.deepEqual((await small.recent("r", 20)).map((m) => m.id), [10, 11]);
      assert.deepEqual(await raw.hkeys("p:react:r"), ["10"]);
    } finally {
      await big.close();
      await small.close();
      raw.disconnect();
    }
  },
);

redisTest("redis store: search pages through a long stream", async () => {
  await using redis = await startRedis();
  const store = await RedisHistoryStore.connect(redis.url, 5000);
  try {
    const pending = [];
    for (let i = 1; i <= 2500; i++) {
      pending.push(store.append(message("r", i % 1000 === 7 ? `needle ${i}` : `hay ${i}`)));
    }
    await Promise.all(pending);
    assert.deepEqual((await store.search(["r"], "needle", 10)).map((m) => m.id), [2007, 1007, 7]);
    assert.deepEqual((await store.search(["r"], "needle", 2)).map((m) => m.id), [2007, 1007]);
    assert.equal(await store.countAfter("r", 6), 2494);
    assert.equal(await store.countAfter("r", 2490), 10);
    assert.equal(await store.remove("r", 2495), true);
    assert.equal(await store.remove("r", 5), true);
    assert.equal(await store.countAfter("r", 6), 2493);
    assert.equal(await store.countAfter("r", 2490), 9);
    assert.equal(await store.countAfter("r", 0), 2498);
  } finally {
    await store.close();
  }
});
