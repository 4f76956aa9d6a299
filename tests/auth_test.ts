/**
 * Server password, registered nicks and server operators, over real sockets
 * (TCP text lines and WebSocket JSON), with the SQLite store across a restart.
 */
import assert from "node:assert/strict";
import { startServer } from "../src/server.ts";
import { SqliteHistoryStore } from "../src/store/sqlite.ts";
import {
  LineClient,
  runMain,
  spawnServer,
  testConfig,
  withHttpServer,
  withServer,
} from "./helpers.ts";
import { WsClient, wsUrl } from "./ws_client.ts";

const attempts = (failuresPerMinute: number, limitLoopback = true) => ({
  failuresPerMinute,
  limitLoopback,
});

Deno.test("with --password: nothing but /pass, /help and /quit before the password", async () => {
  await using server = withServer({ password: "open sesame", historyOnJoin: 0 });
  await using c = await LineClient.connect(server.port);
  await c.expect(
    "* welcome to chat, you are guest-1; this server needs a password: /pass <password>",
  );
  await c.send("hello", "/join dev", "/nick alice", "/who", "/help");
  for (let i = 0; i < 4; i++) await c.expect("! password required");
  await c.waitFor((l) => l === "* commands:");
  await using other = await LineClient.connect(server.port);
  await other.send("/pass open sesame");
  await other.expect("* password accepted");
  await other.expect("* guest-2 joined lobby");
  await other.send("only for those inside");
  await other.expect("[lobby] guest-2: only for those inside");
  // The waiting client is in no room: it heard nothing of that.
  await c.send("/pass open sesame", "now in");
  await c.expect("* password accepted");
  await c.expect("* guest-1 joined lobby");
  await c.expect("[lobby] guest-1: now in");
  assert.ok(!c.lines.some((l) => l.includes("only for those inside")));
});

Deno.test("a wrong password gets an error line; the third closes the connection", async () => {
  await using server = withServer({ password: "right" });
  await using c = await LineClient.connect(server.port);
  await c.send("/pass wrong1");
  await c.expect("! wrong password");
  await c.send("/pass wrong2");
  await c.expect("! wrong password");
  await c.send("/pass wrong3");
  await c.expect("! wrong password");
  await c.waitClosed();
  // The server goes on; the right password still works.
  await using d = await LineClient.connect(server.port);
  await d.send("/pass right");
  await d.expect("* password accepted");
});

Deno.test("JSON clients send {type: pass}; the welcome says a password is needed", async () => {
  await using server = await withHttpServer({ password: "pw" });
  await using ws = await WsClient.open(wsUrl(server.httpPort, "?format=json"), { json: true });
  const welcome = await ws.waitForEvent((e) => e.type === "welcome");
  assert.equal(welcome.password, true);
  ws.sendJson({ type: "join", room: "dev", ref: 1 });
  const refused = await ws.waitForEvent((e) => e.type === "error");
  assert.deepEqual(refused, {
    type: "error",
    code: "password_required",
    message: "password required",
    ref: 1,
  });
  ws.sendJson({ type: "pass", password: "nope", ref: 2 });
  assert.equal((await ws.waitForEvent((e) => e.type === "error")).code, "wrong_password");
  ws.sendJson({ type: "pass", password: "pw", ref: 3 });
  assert.deepEqual(await ws.waitForEvent((e) => e.type === "notice"), {
    type: "notice",
    text: "password accepted",
    ref: 3,
  });
  await ws.waitForEvent((e) => e.type === "joined" && e.room === "lobby");
});

Deno.test("wrong passwords in a loop: connections closed, attempts limited per address", async () => {
  await using server = withServer({ password: "right", authFailures: attempts(5) });
  let failures = 0;
  for (let round = 0; round < 4; round++) {
    await using c = await LineClient.connect(server.port);
    await c.send("/pass a", "/pass b", "/pass c");
    await c.waitClosed();
    failures += c.lines.filter((l) => l === "! wrong password").length;
    const limited = c.lines.filter((l) =>
      /^! too many failed attempts, try again in \d+ s$/.test(l)
    );
    if (round === 0) assert.equal(limited.length, 0, c.lines.join("\n"));
    if (limited.length > 0 && failures >= 5) {
      // Over the budget, even the right password is not tried.
      await using late = await LineClient.connect(server.port);
      await late.send("/pass right");
      await late.waitFor((l) => l.startsWith("! too many failed attempts"));
      assert.ok(!late.lines.includes("* password accepted"));
      return;
    }
  }
  assert.fail(`never limited after ${failures} failures`);
});

Deno.test("loopback is exempt from the attempt limit unless --limit-loopback", async () => {
  await using server = withServer({ password: "right", authFailures: attempts(1, false) });
  for (let round = 0; round < 3; round++) {
    await using c = await LineClient.connect(server.port);
    await c.send("/pass a", "/pass b", "/pass c");
    await c.waitClosed();
    assert.equal(c.lines.filter((l) => l === "! wrong password").length, 3);
  }
});

Deno.test("registered nicks need their password, and survive a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-auth-" });
  const path = `${dir}/chat.db`;
  try {
    {
      const server = startServer(testConfig(), new SqliteHistoryStore(path));
      try {
        await using a = await LineClient.chat(server.tcpAddr.port);
        await a.send("/register first");
        await a.expect("! choose a nick first (/nick <name>), then /register <password>");
        await a.send("/nick alice", "/register s3cret pass");
        await a.expect("* nick alice is registered: claim it with /nick alice <password>");
        await a.send("/quit");
        await a.waitClosed();
      } finally {
        await server.shutdown();
      }
    }
    const server = startServer(testConfig(), new SqliteHistoryStore(path));
    try {
      await using b = await LineClient.chat(server.tcpAddr.port);
      await b.send("/nick alice");
      await b.expect("! nick alice is registered (/nick alice <password>)");
      await b.send("/nick ALICE wrong");
      await b.expect("! wrong password");
      await b.send("/nick alice s3cret pass");
      await b.waitFor((l) => / is now known as alice$/.test(l));
      // The holder may change the case, and register again (a new password).
      await b.send("/nick Alice", "/register newer");
      await b.expect(`* alice is now known as Alice`);
      await b.expect("* nick Alice is registered: claim it with /nick Alice <password>");
      await b.send("/nick bob");
      await b.expect("* Alice is now known as bob");
      await using c = await LineClient.chat(server.tcpAddr.port);
      await c.send("/nick alice s3cret pass");
      await c.expect("! wrong password");
      await c.send("/nick alice newer");
      await c.waitFor((l) => / is now known as alice$/.test(l));
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("failed nick passwords are limited per address", async () => {
  await using server = withServer({ authFailures: attempts(2) });
  await using a = await LineClient.chat(server.port);
  await a.send("/nick owner", "/register pw");
  await a.waitFor((l) => l.startsWith("* nick owner is registered"));
  await a.send("/nick other");
  await a.expect("* owner is now known as other");
  await using b = await LineClient.chat(server.port);
  await b.send("/nick owner x", "/nick owner y", "/nick owner pw");
  await b.expect("! wrong password");
  await b.expect("! wrong password");
  await b.waitFor((l) => /^! too many failed attempts, try again in \d+ s$/.test(l));
});

Deno.test("/admin makes a server operator, who sees /stats", async () => {
  await using server = withServer({ adminPassword: "boss" });
  await using c = await LineClient.chat(server.port);
  await using _other = await LineClient.chat(server.port);
  await c.send("/stats");
  await c.expect("! you are not a server operator (/admin <password>)");
  await c.send("/admin guess");
  await c.expect("! wrong password");
  await c.send("/admin boss", "hello", "/stats");
  await c.expect("* you are now a server operator");
  const first = await c.waitFor((l) => l.startsWith("* stats: "));
  assert.match(
    first,
    /^\* stats: 2 connections \(tcp 2\), 2 clients, 1 room, 1 message kept, up \d+ s$/,
  );
  const rates = await c.waitFor((l) => l.startsWith("* stats: "));
  assert.match(
    rates,
    /^\* stats: [0-9.]+ messages\/s in, [0-9.]+ events\/s out over the last \d+ s \(1 and \d+ since start\)$/,
  );
});

Deno.test("without an admin password nobody becomes a server operator", async () => {
  await using server = withServer();
  await using c = await LineClient.chat(server.port);
  await c.send("/admin anything");
  await c.expect("! this server has no server operators");
  await c.send("/pass anything");
  await c.expect("* no password needed");
});

Deno.test("--password-file and --admin-password-file are read at start; a missing one is exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-auth-" });
  try {
    await Deno.writeTextFile(`${dir}/pw`, "from-file\n");
    await Deno.writeTextFile(`${dir}/admin`, "boss-file\n");
    const missing = await runMain(["--password-file", `${dir}/nope`, "--db", ":memory:"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--password-file: cannot read/);
    await using server = await spawnServer([
      "--password-file",
      `${dir}/pw`,
      "--admin-password-file",
      `${dir}/admin`,
    ]);
    await using c = await LineClient.connect(server.port);
    await c.send("/pass from-file", "/admin boss-file");
    await c.expect("* password accepted");
    await c.expect("* you are now a server operator");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
