/**
 * Resume tokens over real WebSockets (JSON): issued to a logged-in nick,
 * resumed on a new connection without the password (multiclient included),
 * kept across a restart with the SQLite store as a hash only, revoked by
 * logout, logout all, re-registration and the per-nick limit, and limited
 * like passwords when guessed.
 */
import assert from "node:assert/strict";
import { SqliteHistoryStore } from "../src/store/sqlite.ts";
import { tokenHash } from "../src/core/tokens.ts";
import { withHttpServer } from "./helpers.ts";
import { type JsonEvent, WsClient } from "./ws_client.ts";

let refs = 0;

/** Sends a request with a fresh ref and returns the reply (or error) carrying it. */
function ask(ws: WsClient, request: Record<string, unknown>): Promise<JsonEvent> {
  const ref = ++refs;
  ws.sendJson({ ...request, ref });
  return ws.waitForEvent((e) => e.ref === ref);
}

/** Registers `nick` with `password` on a new connection, which is returned holding it. */
async function registered(port: number, nick: string, password: string): Promise<WsClient> {
  const ws = await WsClient.jsonClient(port);
  assert.equal((await ask(ws, { type: "nick", nick })).type, "nick");
  assert.equal((await ask(ws, { type: "register", password })).type, "notice");
  return ws;
}

/** A token for `ws`'s logged-in nick. */
async function issue(ws: WsClient): Promise<string> {
  const reply = await ask(ws, { type: "token" });
  assert.equal(reply.type, "token", JSON.stringify(reply));
  assert.match(reply.token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url");
  return reply.token;
}

/** Asserts `reply` is the `bad_token` error. */
function assertBadToken(reply: JsonEvent): void {
  assert.equal(reply.type, "error", JSON.stringify(reply));
  assert.equal(reply.code, "bad_token");
  assert.equal(
    reply.message,
    "this sign-in has ended: claim your nick with /nick <name> <password>",
  );
}

/** The connection still answers requests. */
async function stillWorks(ws: WsClient): Promise<void> {
  assert.equal((await ask(ws, { type: "rooms" })).type, "rooms");
}

Deno.test("a token is refused to a guest and to an unregistered nick", async () => {
  await using server = await withHttpServer();
  await using ws = await WsClient.jsonClient(server.httpPort);
  for (const nick of [null, "alice"]) {
    if (nick !== null) assert.equal((await ask(ws, { type: "nick", nick })).nick, nick);
    const refused = await ask(ws, { type: "token" });
    assert.equal(refused.type, "error");
    assert.equal(refused.code, "bad_request");
    assert.match(refused.message, /^claim or register a nick first/);
  }
  // Logging out all needs a login too; logging out nothing is fine.
  assert.equal((await ask(ws, { type: "logout", all: true })).code, "bad_request");
  assert.deepEqual(await ask(ws, { type: "logout" }), { type: "logout", revoked: 0, ref: refs });
});

Deno.test("a token issued after /nick alice <password> resumes alice without the password", async () => {
  await using server = await withHttpServer();
  await (await registered(server.httpPort, "alice", "pw")).close();
  const claimer = await WsClient.jsonClient(server.httpPort);
  assert.equal((await ask(claimer, { type: "nick", nick: "alice", password: "pw" })).nick, "alice");
  const token = await issue(claimer);
  const reply = await ask(claimer, { type: "token" });
  assert.equal(reply.nick, "alice");
  assert.notEqual(reply.token, token, "every token is fresh");
  await claimer.close();

  await using back = await WsClient.jsonClient(server.httpPort);
  const guest = back.nick;
  const resumed = await ask(back, { type: "resume", token });
  assert.deepEqual(resumed, { type: "nick", old: guest, nick: "alice", ref: refs });
  // Logged in: it may ask for tokens itself, and resuming again changes nothing.
  await issue(back);
  const again = await ask(back, { type: "resume", token });
  assert.deepEqual(again, { type: "nick", old: "alice", nick: "alice", ref: refs });
});

Deno.test("a resume while the nick is connected joins it (multiclient)", async () => {
  await using server = await withHttpServer();
  await using first = await registered(server.httpPort, "alice", "pw");
  const token = await issue(first);
  await using second = await WsClient.jsonClient(server.httpPort);
  assert.equal((await ask(second, { type: "resume", token })).nick, "alice");
  await using bob = await WsClient.jsonClient(server.httpPort);
  bob.sendJson({ type: "say", room: "lobby", text: "hello alice" });
  for (const ws of [first, second]) {
    const heard = await ws.waitForEvent((e) => e.type === "message");
    assert.equal(heard.text, "hello alice");
  }
  // What one connection says shows on the other.
  second.sendJson({ type: "say", room: "lobby", text: "from the second tab" });
  const shown = await first.waitForEvent((e) => e.type === "message");
  assert.equal(shown.nick, "alice");
  assert.equal(shown.text, "from the second tab");
  assert.deepEqual((await ask(bob, { type: "who", room: "lobby" })).members.sort(), [
    "alice",
    bob.nick,
  ]);
});

Deno.test("tokens survive a restart (SQLite), stored only as their hash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-token-" });
  const path = `${dir}/chat.db`;
  try {
    let token: string;
    {
      await using server = await withHttpServer({}, new SqliteHistoryStore(path));
      await using ws = await registered(server.httpPort, "alice", "pw");
      token = await issue(ws);
    }
    // Every file of the database (the write-ahead log too, should one be left).
    let bytes = "";
    for await (const entry of Deno.readDir(dir)) {
      bytes += new TextDecoder("latin1").decode(await Deno.readFile(`${dir}/${entry.name}`));
    }
    assert.ok(!bytes.includes(token), "the token itself is never stored");
    assert.ok(bytes.includes(await tokenHash(token)), "its hash is");

    await using server = await withHttpServer({}, new SqliteHistoryStore(path));
    await using ws = await WsClient.jsonClient(server.httpPort);
    assert.equal((await ask(ws, { type: "resume", token })).nick, "alice");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("logout revokes the connection's token; the connection stays usable", async () => {
  await using server = await withHttpServer();
  await using alice = await registered(server.httpPort, "alice", "pw");
  const kept = await issue(alice);
  const ended = await issue(alice); // the last one issued is the connection's
  assert.deepEqual(await ask(alice, { type: "logout" }), { type: "logout", revoked: 1, ref: refs });
  assert.equal((await ask(alice, { type: "logout" })).revoked, 0, "nothing left to revoke");
  await stillWorks(alice);
  await using other = await WsClient.jsonClient(server.httpPort);
  assertBadToken(await ask(other, { type: "resume", token: ended }));
  await stillWorks(other);
  // A resumed connection's logout revokes the token it resumed with.
  assert.equal((await ask(other, { type: "resume", token: kept })).nick, "alice");
  assert.equal((await ask(other, { type: "logout" })).revoked, 1);
  await using third = await WsClient.jsonClient(server.httpPort);
  assertBadToken(await ask(third, { type: "resume", token: kept }));
});

Deno.test("logout with a token's text revokes it, even from a guest", async () => {
  await using server = await withHttpServer();
  await using alice = await registered(server.httpPort, "alice", "pw");
  const token = await issue(alice);
  await using guest = await WsClient.jsonClient(server.httpPort);
  assert.equal((await ask(guest, { type: "logout", token })).revoked, 1);
  assert.equal((await ask(guest, { type: "logout", token })).revoked, 0);
  assert.equal((await ask(guest, { type: "logout", token: "not-a-token" })).revoked, 0);
  assertBadToken(await ask(guest, { type: "resume", token }));
});

Deno.test("logout all revokes every token of the nick", async () => {
  await using server = await withHttpServer();
  await using alice = await registered(server.httpPort, "alice", "pw");
  const tokens = [await issue(alice), await issue(alice), await issue(alice)];
  await using bob = await registered(server.httpPort, "bob", "pw");
  const bobs = await issue(bob);
  assert.deepEqual(await ask(alice, { type: "logout", all: true }), {
    type: "logout",
    revoked: 3,
    ref: refs,
  });
  await using other = await WsClient.jsonClient(server.httpPort);
  for (const token of tokens) assertBadToken(await ask(other, { type: "resume", token }));
  // Another nick's tokens are untouched.
  assert.equal((await ask(other, { type: "resume", token: bobs })).nick, "bob");
});

Deno.test("registering the nick again (a new password) ends its earlier tokens", async () => {
  await using server = await withHttpServer();
  await using alice = await registered(server.httpPort, "alice", "pw");
  const old = await issue(alice);
  assert.equal((await ask(alice, { type: "register", password: "newer" })).type, "notice");
  await using other = await WsClient.jsonClient(server.httpPort);
  assertBadToken(await ask(other, { type: "resume", token: old }));
  const fresh = await issue(alice);
  assertBadToken(await ask(other, { type: "resume", token: old }));
  assert.equal((await ask(other, { type: "resume", token: fresh })).nick, "alice");
});

Deno.test("a nick keeps its 20 newest tokens: the 21st revokes the oldest", async () => {
  await using server = await withHttpServer();
  await using alice = await registered(server.httpPort, "alice", "pw");
  const tokens: string[] = [];
  for (let i = 0; i < 21; i++) tokens.push(await issue(alice));
  await using other = await WsClient.jsonClient(server.httpPort);
  assertBadToken(await ask(other, { type: "resume", token: tokens[0] }));
  assert.equal((await ask(other, { type: "resume", token: tokens[1] })).nick, "alice");
  assert.equal((await ask(alice, { type: "logout", all: true })).revoked, 20);
});

Deno.test("a malformed resume gets an error and the connection stays", async () => {
  await using server = await withHttpServer();
  await using ws = await WsClient.jsonClient(server.httpPort);
  const missing = await ask(ws, { type: "resume" });
  assert.equal(missing.code, "bad_request");
  assert.equal(missing.message, "field 'token' is required");
  const wrong = await ask(ws, { type: "resume", token: 5 });
  assert.equal(wrong.message, "field 'token' must be a string");
  assertBadToken(await ask(ws, { type: "resume", token: "" }));
  assertBadToken(await ask(ws, { type: "resume", token: "x".repeat(1000) }));
  await stillWorks(ws);
  assert.ok(!ws.closed);
});

Deno.test("wrong tokens are limited per address like wrong passwords", async () => {
  const authFailures = { failuresPerMinute: 3, limitLoopback: true };
  await using server = await withHttpServer({ authFailures });
  await using alice = await registered(server.httpPort, "alice", "pw");
  const token = await issue(alice);
  await using guesser = await WsClient.jsonClient(server.httpPort);
  for (let i = 0; i < 3; i++) {
    assertBadToken(await ask(guesser, { type: "resume", token: `guess-${i}` }));
  }
  // Over the budget even the right token is not tried, and passwords wait as well.
  const limited = await ask(guesser, { type: "resume", token });
  assert.equal(limited.code, "too_many_attempts");
  assert.match(limited.message, /^too many failed attempts, try again in \d+ s$/);
  const password = await ask(guesser, { type: "nick", nick: "alice", password: "pw" });
  assert.equal(password.code, "too_many_attempts");
  await stillWorks(guesser);
});
