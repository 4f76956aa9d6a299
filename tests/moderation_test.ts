/**
 * Rooms that belong to someone: operators, kicks, bans, topics and locks,
 * over real sockets, and kept across a restart by the SQLite store.
 */
import assert from "node:assert/strict";
import { startServer } from "../src/server.ts";
import { SqliteHistoryStore } from "../src/store/sqlite.ts";
import { LineClient, testConfig, withHttpServer, withServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";

/** A chat client that took `nick` and joined `room` (its current room). */
async function member(port: number, nick: string, room: string): Promise<LineClient> {
  const c = await LineClient.chat(port);
  await c.send(`/nick ${nick}`, `/join ${room}`);
  await c.waitFor((l) => l === `* ${nick} joined ${room}`);
  return c;
}

Deno.test("the first member of a new room is its operator; others are not", async () => {
  await using server = withServer();
  await using alice = await member(server.port, "alice", "dev");
  await alice.expect("* you are an operator of dev");
  await using bob = await member(server.port, "bob", "dev");
  await bob.send("/kick alice", "/topic mine", "/lock pw", "/op bob", "/ban alice");
  for (let i = 0; i < 5; i++) await bob.expect("! you are not an operator of dev");
  assert.ok(!bob.lines.includes("* you are an operator of dev"));
  // The lobby belongs to nobody: its first member gets nothing.
  assert.ok(!alice.lines.some((l) => l === "* you are an operator of lobby"));
});

Deno.test("kick removes a member; everyone sees it; the kicked one may come back", async () => {
  await using server = withServer();
  await using alice = await member(server.port, "alice", "dev");
  await using bob = await member(server.port, "bob", "dev");
  await using carol = await member(server.port, "carol", "dev");
  await alice.send("/kick bob  spamming links ");
  const line = "* bob was kicked from dev by alice (spamming links)";
  await alice.expect(line);
  await bob.expect(line);
  await carol.expect(line);
  await bob.expect("* now talking in lobby");
  await carol.send("still here");
  await alice.expect("[dev] carol: still here");
  await bob.send("/who dev");
  await bob.expect("* members of dev: alice, carol");
  await alice.send("/kick nobody");
  await alice.expect("! nobody is not in dev");
  await bob.send("/join dev");
  await bob.expect("* bob joined dev");
});

Deno.test("ban keeps the nick out (and the address with --limit-loopback); unban lets it in", async () => {
  await using server = withServer({ limitLoopback: true });
  await using alice = await member(server.port, "alice", "dev");
  await using bob = await member(server.port, "bob", "dev");
  await alice.send("/ban bob");
  await bob.expect("* bob was banned from dev by alice");
  await alice.expect("* bob was banned from dev by alice");
  await bob.send("/join dev");
  await bob.expect("! you are banned from dev");
  // Another nick from the same address: banned too (loopback counts here).
  await using sneaky = await LineClient.chat(server.port);
  await sneaky.send("/join dev");
  await sneaky.expect("! you are banned from dev");
  await alice.send("/ban ghost"); // not in the room: banned all the same
  await alice.expect("* alice banned ghost from dev");
  await alice.send("/unban bob", "/unban bob");
  await alice.expect("* alice lifted the ban on bob in dev");
  await alice.expect("! bob is not banned from dev");
  await bob.send("/join dev");
  await bob.expect("* bob joined dev");
});

Deno.test("without --limit-loopback a ban from loopback is by nick only", async () => {
  await using server = withServer();
  await using alice = await member(server.port, "alice", "dev");
  await using bob = await member(server.port, "bob", "dev");
  await alice.send("/ban bob");
  await bob.expect("* bob was banned from dev by alice");
  await using other = await LineClient.chat(server.port);
  await other.send("/join dev");
  await other.waitFor((l) => / joined dev$/.test(l));
});

Deno.test("topic: set by an operator, seen by members, shown on join and by /topic", async () => {
  await using server = withServer();
  await using alice = await member(server.port, "alice", "dev");
  await alice.send("/topic");
  await alice.expect("* no topic in dev");
  await using bob = await member(server.port, "bob", "dev");
  await alice.send("/topic  Release on \x1b[31mFriday ");
  await alice.expect("* alice set the topic of dev: Release on Friday");
  await bob.expect("* alice set the topic of dev: Release on Friday");
  await using carol = await LineClient.chat(server.port);
  await carol.send("/join dev");
  await carol.expect("* carol joined dev".replace("carol", carol.nick));
  await carol.expect("* topic of dev: Release on Friday (set by alice)");
  await bob.send("/topic");
  await bob.expect("* topic of dev: Release on Friday (set by alice)");
  await alice.send(`/topic ${"x".repeat(301)}`, "/topic -");
  await alice.expect("! topic too long (max 300 characters)");
  await alice.expect("* alice cleared the topic of dev");
});

Deno.test("op and deop: an operator shares the room; ops follow nick changes", async () => {
  await using server = withServer();
  await using alice = await member(server.port, "alice", "dev");
  await using bob = await member(server.port, "bob", "dev");
  await alice.send("/op bob", "/op bob");
  await bob.expect("* alice made bob an operator of dev");
  await alice.expect("! bob is already an operator of dev");
  await bob.send("/nick robert", "/topic from robert");
  await alice.expect("* robert set the topic of dev: from robert");
  await alice.send("/deop robert");
  await bob.expect("* alice removed robert as an operator of dev");
  await bob.send("/topic again");
  await bob.expect("! you are not an operator of dev");
  await alice.send("/op nobody");
  await alice.expect("! nobody is not in dev");
});

Deno.test("lock: others need the password; members and operators stay; /lock off opens", async () => {
  await using server = withServer();
  await using alice = await member(server.port, "alice", "dev");
  await using bob = await member(server.port, "bob", "dev");
  await alice.send("/lock let me in");
  await alice.expect("* alice locked dev");
  await bob.expect("* alice locked dev");
  await using carol = await LineClient.chat(server.port);
  await carol.send("/join dev");
  await carol.expect("! dev is locked (/join dev <password>)");
  await carol.send("/join dev wrong");
  await carol.expect("! wrong password");
  await carol.send("/join dev let me in");
  await carol.waitFor((l) => / joined dev$/.test(l));
  await alice.send("/lock off");
  await alice.expect("* alice unlocked dev");
  await using dave = await LineClient.chat(server.port);
  await dave.send("/join dev");
  await dave.waitFor((l) => / joined dev$/.test(l));
  await alice.send("/join lobby", "/lock pw");
  await alice.expect("! you are not an operator of lobby");
});

Deno.test("a server operator moderates every room and cannot be kicked", async () => {
  await using server = withServer({ adminPassword: "boss" });
  await using alice = await member(server.port, "alice", "dev");
  await using _bob = await member(server.port, "bob", "dev");
  await using root = await member(server.port, "root", "dev");
  await root.send("/kick bob");
  await root.expect("! you are not an operator of dev");
  await root.send("/admin boss", "/kick bob rules");
  await root.expect("* you are now a server operator");
  await alice.expect("* bob was kicked from dev by root (rules)");
  await alice.send("/kick root");
  await alice.expect("! root is a server operator");
  await alice.send("/lock pw", "/ban root");
  await alice.expect("* alice locked dev");
  await root.send("/leave dev", "/join dev");
  await root.expect("* root joined dev"); // past the lock, without the password
});

Deno.test("JSON clients moderate with requests and see moderation events", async () => {
  await using server = await withHttpServer();
  await using alice = await WsClient.jsonClient(server.httpPort);
  alice.sendJson({ type: "nick", nick: "alice" }, { type: "join", room: "ops", ref: 1 });
  await alice.waitForEvent((e) => e.type === "joined" && e.ref === 1);
  await using bob = await WsClient.jsonClient(server.httpPort);
  bob.sendJson({ type: "nick", nick: "bob" }, { type: "join", room: "ops" });
  await alice.waitForEvent((e) => e.type === "joined" && e.nick === "bob");
  alice.sendJson({ type: "topic", room: "ops", text: "json topic", ref: 2 });
  assert.deepEqual(await bob.waitForEvent((e) => e.type === "topic"), {
    type: "topic",
    room: "ops",
    topic: "json topic",
    by: "alice",
    changed: true,
  });
  alice.sendJson({ type: "op", nick: "bob", room: "ops", ref: 3 });
  assert.deepEqual(await bob.waitForEvent((e) => e.type === "moderation"), {
    type: "moderation",
    room: "ops",
    action: "op",
    by: "alice",
    nick: "bob",
  });
  bob.sendJson({ type: "kick", nick: "alice", room: "ops", reason: "coup", ref: 4 });
  assert.deepEqual(await alice.waitForEvent((e) => e.type === "left"), {
    type: "left",
    room: "ops",
    nick: "alice",
    reason: "kick",
    by: "bob",
    message: "coup",
  });
  // An operator is let past the lock: alice must lose that first.
  bob.sendJson({ type: "deop", nick: "alice", room: "ops" });
  await bob.waitForEvent((e) => e.type === "moderation" && e.action === "deop");
  bob.sendJson({ type: "lock", room: "ops", password: "" });
  assert.equal((await bob.waitForEvent((e) => e.type === "error")).code, "bad_request");
  bob.sendJson({ type: "lock", room: "ops", password: "k", ref: 5 });
  await bob.waitForEvent((e) => e.type === "moderation" && e.action === "lock" && e.ref === 5);
  alice.sendJson({ type: "join", room: "ops", ref: 6 });
  assert.equal((await alice.waitForEvent((e) => e.type === "error")).code, "room_locked");
  alice.sendJson({ type: "join", room: "ops", password: "k", ref: 7 });
  await alice.waitForEvent((e) => e.type === "joined" && e.ref === 7);
});

Deno.test("operators, bans, topics and locks survive a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-mod-" });
  const path = `${dir}/chat.db`;
  try {
    let server = startServer(testConfig({ historyOnJoin: 0 }), new SqliteHistoryStore(path));
    {
      await using alice = await member(server.tcpAddr.port, "alice", "dev");
      await alice.send("/register pw", "/topic kept", "/ban bob", "/lock sesame");
      await alice.expect("* alice locked dev");
    }
    await server.shutdown();
    server = startServer(testConfig({ historyOnJoin: 0 }), new SqliteHistoryStore(path));
    try {
      const port = server.tcpAddr.port;
      await using bob = await LineClient.chat(port);
      await bob.send("/nick bob", "/join dev sesame");
      await bob.expect("! you are banned from dev");
      await using carol = await LineClient.chat(port);
      await carol.send("/join dev");
      await carol.expect("! dev is locked (/join dev <password>)");
      await carol.send("/join dev sesame");
      await carol.expect("* topic of dev: kept (set by alice)");
      // carol came first this time, but the room is alice's.
      assert.ok(!carol.lines.includes("* you are an operator of dev"));
      await using alice = await LineClient.chat(port);
      await alice.send("/nick alice pw", "/join dev", "/topic still mine");
      await carol.expect("* alice set the topic of dev: still mine");
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a moderated room: only its operators and voiced members speak", async () => {
  await using server = await withHttpServer();
  await using alice = await WsClient.jsonClient(server.httpPort);
  alice.sendJson({ type: "nick", nick: "alice" }, { type: "join", room: "dev", ref: 1 });
  await alice.waitForEvent((e) => e.type === "joined" && e.ref === 1);
  await using bob = await member(server.port, "bob", "dev");
  alice.sendJson({ type: "flags", room: "dev", moderated: true, ref: 2 });
  await bob.expect("* alice made dev moderated");
  await bob.send("may I?");
  await bob.expect("! dev is moderated: only its operators and voiced members speak");
  alice.sendJson({ type: "say", room: "dev", text: "operators still speak", ref: 3 });
  await bob.expect("[dev] alice: operators still speak");
  alice.sendJson({ type: "voice", nick: "bob", room: "dev", ref: 4 });
  await bob.expect("* alice gave bob a voice in dev");
  await bob.send("thank you");
  const heard = await alice.waitForEvent((e) => e.type === "message" && e.nick === "bob");
  assert.equal(heard.text, "thank you", "bob's line from before his voice never came");
  alice.sendJson({ type: "devoice", nick: "bob", room: "dev" }, {
    type: "flags",
    room: "dev",
    moderated: false,
  });
  await bob.expect("* alice made dev open to every member's messages");
  await bob.send("back to normal");
  await alice.waitForEvent((e) => e.type === "message" && e.text === "back to normal");
});
