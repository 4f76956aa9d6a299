import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { redisAvailable, redisTest, scriptMisses, startRedis } from "../../tests/redis_server.ts";
import { Redis } from "ioredis";
import { clusterLinkContract, FakePeer, notice, WAIT_MS } from "./contract.ts";
import { guestBlockSize, RedisCluster } from "./redis.ts";

// One redis-server for the contract's cases, each case under its own key prefix;
// stopped when the test module unloads.
const shared = redisAvailable() ? await startRedis() : null;
if (shared !== null) globalThis.addEventListener("unload", () => shared.stopSync());
let cases = 0;

clusterLinkContract("redis", async (count) => {
  const prefix = `c${++cases}:`;
  const links = await Promise.all(
    Array.from({ length: count }, () => RedisCluster.connect(shared!.url, {}, prefix)),
  );
  return {
    links,
    settle: async () => void await Promise.all(links.map((link) => link.settled())),
    close: async () => void await Promise.all(links.map((link) => link.close())),
  };
}, redisTest);

/** Records what the `chat` loggers write while `fn` runs. */
async function withLogs(fn: (records: LogRecord[]) => Promise<void>): Promise<void> {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["chat"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  try {
    await fn(records);
  } finally {
    await reset();
  }
}

/** Resolves when `link` reports its link to Redis `up` (or down), within WAIT_MS. */
function linkState(link: RedisCluster, up: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`link never went ${up ? "up" : "down"}`)),
      WAIT_MS,
    );
    link.onLinkChange((now) => {
      if (now !== up) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

redisTest(
  "redis cluster link: failures while Redis is gone are counted and logged once per operation",
  async () => {
    await withLogs(async (records) => {
      const redis = await startRedis();
      const link = await RedisCluster.connect(redis.url);
      try {
        assert.deepEqual(Object.values(link.errorCounts()).filter((n) => n > 0), [], "none yet");
        const down = linkState(link, false);
        await redis.kill();
        await down;
        for (let i = 0; i < 3; i++) link.publish("dev", notice(`lost ${i}`));
        link.joined("dev", "ann");
        await link.settled(); // the write fails once ioredis gives up on it
        const counts = link.errorCounts();
        assert.equal(counts.publish, 3, "every lost publish is counted");
        assert.equal(counts.joined, 1);
        const lines = (op: string) =>
          records.filter((r) => r.category.join(".") === "chat.cluster" && r.properties.op === op);
        assert.equal(lines("publish").length, 1, "one line for three failures");
        assert.match(String(lines("publish")[0].properties.error), /link to Redis down/);
        assert.equal(lines("joined").length, 1);
        assert.ok(String(lines("joined")[0].properties.error).length > 0, "the cause is said");
      } finally {
        await link.close();
      }
      assert.equal(link.errorCounts().close, 1, "presence could not be removed at close");
    });
  },
);

redisTest("redis cluster link: a reconnect announces presence and nicks again", async () => {
  await using redis = await startRedis();
  const port = redis.port;
  const a = await RedisCluster.connect(redis.url);
  let b: RedisCluster | null = null;
  let again: Awaited<ReturnType<typeof startRedis>> | null = null;
  try {
    a.joined("dev", "ann");
    assert.equal(await a.claimNick("Ann"), true);
    await a.settled();
    const down = linkState(a, false);
    await redis.kill();
    await down;
    const up = linkState(a, true);
    again = await startRedis(port); // empty: Redis lost its data
    await up;
    b = await RedisCluster.connect(again.url);
    assert.deepEqual(await b.who("dev"), ["ann"]);
    assert.equal(await b.findNick("ann"), "Ann");
  } finally {
    await b?.close();
    await a.close();
    await again?.kill();
  }
});

redisTest(
  "redis cluster link: scripts are loaded at connect and after Redis restarts, so bursts never miss",
  async () => {
    await using redis = await startRedis();
    const port = redis.port;
    const link = await RedisCluster.connect(redis.url);
    let again: Awaited<ReturnType<typeof startRedis>> | null = null;
    const claimAll = async (nicks: string[]) =>
      assert.deepEqual(
        await Promise.all(nicks.map((n) => link.claimNick(n))),
        nicks.map(() => true),
      );
    try {
      // A thousand clients joining at once claim their nicks in one burst.
      await claimAll(Array.from({ length: 200 }, (_, i) => `first${i}`));
      assert.equal(await scriptMisses(redis.url), 0, "the first burst ran by SHA1 alone");
      const down = linkState(link, false);
      await redis.kill();
      await down;
      const up = linkState(link, true);
      again = await startRedis(port); // a new Redis: no scripts
      await up;
      await claimAll(Array.from({ length: 200 }, (_, i) => `second${i}`));
      assert.equal(await scriptMisses(again.url), 0, "loaded again before the link came back");
    } finally {
      await link.close();
      await again?.kill();
    }
  },
);

redisTest(
  "redis cluster link: bursts of guests get numbers nobody else has, without running out",
  async () => {
    await using redis = await startRedis();
    const links = [await RedisCluster.connect(redis.url), await RedisCluster.connect(redis.url)];
    try {
      const seen: number[] = [];
      // Bursts on each process bigger than a block of 100 and than what is left of the first
      // block, with the reservations made meanwhile answered between them.
      for (const burst of [600, 1300]) {
        for (const link of links) for (let i = 0; i < burst; i++) seen.push(link.nextGuest());
        for (const link of links) await link.settled();
      }
      assert.equal(new Set(seen).size, seen.length, "no number handed out twice");
      for (const link of links) {
        assert.equal(link.errorCounts().nextGuest ?? 0, 0, "never out of reserved numbers");
      }
    } finally {
      for (const link of links) await link.close();
    }
  },
);

redisTest(
  "redis cluster link: a turn's events cross in envelopes of at most 64; a bad one is counted",
  async () => {
    await using redis = await startRedis();
    const [a, b] = [await RedisCluster.connect(redis.url), await RedisCluster.connect(redis.url)];
    const [spy, raw] = [new Redis(redis.url), new Redis(redis.url)];
    const peer = new FakePeer();
    try {
      const payloads: string[] = [];
      spy.on("message", (_channel: string, payload: string) => payloads.push(payload));
      await spy.subscribe("chat:room:dev");
      b.attach(peer);
      b.watch("dev");
      await b.settled();
      for (let i = 0; i < 100; i++) a.publish("dev", notice(`n${i}`));
      await peer.until(() => peer.notices("dev").length === 100, "the burst at b");
      // The spy's copy may land a little after b's.
      for (const end = Date.now() + WAIT_MS; payloads.length < 2 && Date.now() < end;) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const envelopes: { o: string; b: { e: { text: string } }[] }[] = payloads.map((p) =>
        JSON.parse(p)
      );
      assert.deepEqual(envelopes.map((e) => [e.o, e.b.length]), [[a.id, 64], [a.id, 36]]);
      assert.deepEqual(
        envelopes.flatMap((e) => e.b.map((p) => p.e.text)),
        peer.notices("dev"),
        "in order",
      );
      // Payloads no process sent: counted and logged, and the channel goes on.
      await raw.publish("chat:room:dev", "not json");
      await raw.publish("chat:room:dev", '{"o":"elsewhere"}');
      a.publish("dev", notice("after"));
      await peer.until(() => peer.notices("dev").includes("after"), "'after' at b");
      assert.equal(b.errorCounts().receive, 2);
    } finally {
      spy.disconnect();
      raw.disconnect();
      await a.close();
      await b.close();
    }
  },
);

Deno.test("guest blocks hold about a second of guests at the rate they come, within bounds", () => {
  assert.equal(guestBlockSize(0, 60_000), 1000, "a quiet server reserves the least");
  assert.equal(guestBlockSize(10, 10_000), 1000);
  assert.equal(guestBlockSize(3000, 1000), 4000, "3,000 a second: 1000 doubled past it");
  assert.equal(guestBlockSize(500, 50), 16_000, "10,000 a second");
  assert.equal(guestBlockSize(5000, 50), 16_384, "a storm: the most");
  assert.equal(guestBlockSize(500, 0), 16_384, "no time passed counts as a millisecond");
});
