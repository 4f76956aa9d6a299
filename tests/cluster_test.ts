/**
 * Cluster mode: several server processes sharing rooms through a real
 * redis-server that the tests start themselves on a free loopback port.
 */
import assert from "node:assert/strict";
import { RedisCluster } from "../src/cluster/redis.ts";
import { startServer } from "../src/server.ts";
import { RedisHistoryStore } from "../src/store/redis.ts";
import { loadAssets } from "../src/transport/http.ts";
import { LineClient, runMain, spawnServer, testConfig } from "./helpers.ts";
import { redisTest, startRedis } from "./redis_server.ts";
import { WsClient } from "./ws_client.ts";

/** A server process's worth of cluster node, in this test process. */
async function node(url: string, overrides: Parameters<typeof testConfig>[0] = {}) {
  const config = testConfig({ http: { hostname: "127.0.0.1", port: 0 }, ...overrides });
  const store = await RedisHistoryStore.connect(url, config.historySize);
  const cluster = await RedisCluster.connect(url);
  const server = startServer(config, store, await loadAssets(), cluster);
  return {
    ...server,
    port: server.tcpAddr.port,
    httpPort: server.httpAddr!.port,
    cluster,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

redisTest("a TCP client on A and a WebSocket client on B chat in one room", async () => {
  await using redis = await startRedis();
  await using a = await node(redis.url);
  await using b = await node(redis.url);
  await using tcp = await LineClient.chat(a.port);
  await using ws = await WsClient.jsonClient(b.httpPort);
  await tcp.send("/nick ann", "/join dev");
  await tcp.expect("* ann joined dev");
  ws.send(JSON.stringify({ type: "nick", nick: "bo" }));
  ws.send(JSON.stringify({ type: "join", room: "dev", ref: 1 }));
  await ws.waitForEvent((e) => e.type === "joined" && e.ref === 1);
  await tcp.expect("* bo joined dev");
  await tcp.send("hello from A");
  const got = await ws.waitForEvent((e) => e.type === "message" && e.text === "hello from A");
  assert.equal(got.nick, "ann");
  assert.equal(got.room, "dev");
  for (let i = 0; i < 20; i++) ws.send(JSON.stringify({ type: "say", room: "dev", text: `b${i}` }));
  for (let i = 0; i < 20; i++) await tcp.expect(`[dev] bo: b${i}`);
  // One numbering for the room, whoever said what.
  ws.send(JSON.stringify({ type: "history", room: "dev", after: 0, limit: 100, ref: 2 }));
  const history = await ws.waitForEvent((e) => e.type === "history" && e.ref === 2);
  const ids = (history.messages as { id: number }[]).map((m) => m.id);
  assert.deepEqual(ids, Array.from({ length: 21 }, (_, i) => i + 1));
  // DMs cross too.
  ws.send(JSON.stringify({ type: "msg", to: "ANN", text: "psst" }));
  await tcp.expect("[dm] bo -> ann: psst");
});

redisTest("a nick taken on A is refused on B, and free again once A's client leaves", async () => {
  await using redis = await startRedis();
  await using a = await node(redis.url);
  await using b = await node(redis.url);
  const first = await LineClient.chat(a.port);
  await using second = await LineClient.chat(b.port);
  await first.send("/nick alice");
  await first.expect(`* ${first.nick} is now known as alice`);
  await second.send("/nick ALICE");
  await second.expect("! nick taken: ALICE");
  await first.send("/quit");
  await first.waitClosed();
  await first.close();
  // The release reaches Redis shortly after the quit.
  const deadline = Date.now() + 5000;
  for (;;) {
    await second.send("/nick alice");
    const reply = await second.waitFor((l) => /nick taken|is now known as alice/.test(l));
    if (reply.includes("is now known as alice")) break;
    assert.ok(Date.now() < deadline, "the nick was never freed");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

redisTest("/who, /rooms and /history see every process", async () => {
  await using redis = await startRedis();
  await using a = await node(redis.url);
  await using b = await node(redis.url);
  await using ann = await LineClient.chat(a.port);
  await using bo = await LineClient.chat(b.port);
  await ann.send("/nick ann", "/join dev", "one", "two");
  await ann.expect("[dev] ann: two");
  await bo.send("/nick bo", "/join dev");
  await bo.expect("* bo joined dev");
  await bo.send("/who", "/rooms", "/history 10");
  await bo.expect("* members of dev: ann, bo");
  await bo.expect("* dev (2 members)");
  await bo.expect("* lobby (2 members)");
  await bo.expect("* history dev begin");
  await bo.expect("[dev] ann: one");
  await bo.expect("[dev] ann: two");
  await bo.expect("* history dev end");
});

redisTest("a killed process's members leave the others' rooms within 30 s", async () => {
  await using redis = await startRedis();
  await using survivor = await node(redis.url);
  const doomed = await spawnServer(["--redis", redis.url]);
  try {
    await using watcher = await LineClient.chat(survivor.port);
    const victim = await LineClient.chat(doomed.port);
    await victim.send("/nick victim", "/join dev");
    await victim.expect("* victim joined dev");
    await watcher.send("/join dev", "/who dev");
    await watcher.waitFor((l) => l.startsWith("* members of dev:") && l.includes("victim"));
    doomed.kill("SIGKILL");
    await doomed.status;
    await victim.close();
    const started = Date.now();
    await watcher.waitFor((l) => l === "* victim left dev (quit: server lost)", 30_000);
    assert.ok(Date.now() - started < 30_000);
    await watcher.send("/who dev");
    await watcher.waitFor((l) => l.startsWith("* members of dev:") && !l.includes("victim"));
  } finally {
    doomed.kill("SIGKILL");
    await doomed.status;
  }
});

redisTest(
  "Redis lost while chatting: local clients go on, are told, and the link comes back",
  async () => {
    const first = await startRedis();
    const port = first.port;
    await using a = await node(first.url);
    await using b = await node(first.url);
    await using ann = await LineClient.chat(a.port);
    await using cy = await LineClient.chat(a.port);
    await using bo = await LineClient.chat(b.port);
    const guest = ann.nick;
    await ann.send("/nick ann");
    await bo.expect(`* ${guest} is now known as ann`);
    await first.kill();
    await ann.expect("* cluster link down: you are chatting with this server's users only");
    const health = await (await fetch(`http://127.0.0.1:${a.httpPort}/healthz`)).json();
    assert.equal(health.status, "degraded");
    assert.equal(health.cluster.status, "down");
    // Local chat goes on (not kept in history: the senders are told).
    await ann.send("still here");
    await cy.expect("[lobby] ann: still here");
    await ann.waitFor((l) => l.startsWith("! message not kept in history: "));
    // Redis comes back on the same port: presence is announced again and chat crosses again.
    await using second = await startRedis(port);
    await ann.expect("* cluster link restored", 15_000);
    await bo.expect("* cluster link restored", 15_000);
    await bo.send("/who lobby");
    await bo.waitFor((l) => l.startsWith("* members of lobby:") && l.includes("ann"), 5000);
    await ann.send("back again");
    await bo.expect("[lobby] ann: back again");
    assert.ok(second.url);
  },
);

redisTest("an unreachable Redis stops the start with exit status 2", async () => {
  const redis = await startRedis();
  const url = redis.url;
  await redis.kill();
  const { code, stderr } = await runMain(["127.0.0.1:0", "--http", "off", "--redis", url]);
  assert.equal(code, 2);
  assert.match(stderr.trim(), /^chat-server: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
});

redisTest("a stopped process's members leave the others' rooms at once", async () => {
  await using redis = await startRedis();
  await using survivor = await node(redis.url);
  const leaving = await spawnServer(["--redis", redis.url]);
  try {
    await using watcher = await LineClient.chat(survivor.port);
    await using victim = await LineClient.chat(leaving.port);
    await victim.send("/nick victim", "/join dev");
    await victim.expect("* victim joined dev");
    await watcher.send("/join dev", "/who dev");
    await watcher.waitFor((l) => l.startsWith("* members of dev:") && l.includes("victim"));
    const started = Date.now();
    leaving.kill("SIGTERM");
    await watcher.waitFor((l) => l === "* victim left dev (quit)", 10_000);
    assert.ok(Date.now() - started < 10_000);
    assert.equal((await leaving.status).code, 0);
  } finally {
    leaving.kill("SIGKILL");
    await leaving.status;
  }
});

redisTest("moderation crosses processes: kicks, bans, topics and locks", async () => {
  await using redis = await startRedis();
  await using a = await node(redis.url, { limitLoopback: true });
  await using b = await node(redis.url, { limitLoopback: true });
  await using alice = await LineClient.chat(a.port);
  await alice.send("/nick alice", "/join dev");
  await alice.expect("* you are an operator of dev");
  await using bob = await LineClient.chat(b.port);
  await bob.send("/nick bob", "/join dev");
  await alice.expect("* bob joined dev");
  // A topic set on A reaches B's members, and B shows it to those who join there.
  await alice.send("/topic shared");
  await bob.expect("* alice set the topic of dev: shared");
  await using carol = await LineClient.chat(b.port);
  await carol.send("/nick carol", "/join dev");
  await carol.expect("* topic of dev: shared (set by alice)");
  await alice.expect("* carol joined dev");
  // A kick on A removes a member on B.
  await alice.send("/kick carol out");
  await carol.expect("* carol was kicked from dev by alice (out)");
  await bob.expect("* carol was kicked from dev by alice (out)");
  await carol.expect("* now talking in lobby");
  await carol.send("/join dev", "/join lobby");
  await alice.expect("* carol joined dev");
  // A ban on A: B removes the member, and keeps it (and its address) out.
  await alice.send("/ban bob");
  await bob.expect("* bob was banned from dev by alice");
  await bob.send("/join dev");
  await bob.expect("! you are banned from dev");
  // The address was added by B, which knew it: another nick from it is out too.
  await using sneaky = await LineClient.chat(b.port);
  const deadline = Date.now() + 5000;
  for (;;) {
    await sneaky.send("/join dev");
    const reply = await sneaky.waitFor((l) => / joined dev$|^! you are banned from dev$/.test(l));
    if (reply.startsWith("!")) break;
    assert.ok(Date.now() < deadline, "the address was never banned");
    await sneaky.send("/leave dev");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // A lock on A holds on B.
  await alice.send("/lock sesame");
  await carol.expect("* alice locked dev");
  await using dave = await LineClient.chat(b.port);
  await dave.send("/join dev");
  await dave.expect("! dev is locked (/join dev <password>)");
});
