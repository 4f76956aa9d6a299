/**
 * Hostile or broken input: the connection and the server keep working and
 * memory stays bounded.
 */
import assert from "node:assert/strict";
import { delay, LineClient, spawnServer, withServer } from "./helpers.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("a line that is not UTF-8 gets '! invalid UTF-8' and is dropped", async () => {
  await using server = withServer();
  await using b = await LineClient.chat(server.port);
  await using a = await LineClient.chat(server.port);
  await a.write(new Uint8Array([...bytes("bad "), 0xc3, 0x28, 0x0a]));
  await a.expect("! invalid UTF-8");
  // Overlong form of "/" and an encoded surrogate are not UTF-8 either.
  await a.write(new Uint8Array([0xc0, 0xaf, 0x0a, 0xed, 0xa0, 0x80, 0x0a]));
  await a.expect("! invalid UTF-8");
  await a.expect("! invalid UTF-8");
  await a.send("fine now");
  await b.expect(`[lobby] ${a.nick}: fine now`);
  assert.ok(!b.lines.some((l) => l.includes("bad")), "the bad line reached nobody");
  assert.equal(server.stats.rejected.invalid_utf8, 3);
});

Deno.test("an IRC client on the text port is served as IRC: its registration is never said in a room", async () => {
  await using server = withServer();
  await using b = await LineClient.chat(server.port);
  for (
    const [registration, reply] of [
      ["PASS hunter2\r\nNICK bob\r\nUSER bob 0 * :Bob\r\n", ":chat.local 001 bob "],
      ["CAP LS 302\r\nPASS hunter3\r\nNICK bob3\r\n", ":chat.local CAP * LS "],
      ["pass hunter4\nnick bob4\nPING :sync\n", ":chat.local PONG chat.local sync"],
      ["Nick hunter5\r\nPING :sync\r\n", ":chat.local PONG chat.local sync"],
      ["USER hunter6 0 * :x\r\nPING :sync\r\n", ":chat.local PONG chat.local sync"],
    ]
  ) {
    const irc = await LineClient.connect(server.port);
    await irc.write(bytes(registration));
    await irc.waitFor((l) => l.startsWith(reply));
    assert.ok(!irc.lines.some((l) => l.startsWith("* welcome")), "no text-protocol welcome");
    await irc.close();
  }
  // Nothing they sent was said, kept or replayed.
  await b.send("/history");
  await b.expect("* history lobby end");
  await using later = await LineClient.chat(server.port);
  await later.send("after");
  await b.expect(`[lobby] ${later.nick}: after`);
  for (const line of [...b.lines, ...later.lines]) {
    assert.ok(!/hunter|NICK bob|USER bob|CAP LS|bob/i.test(line), line);
  }
});

Deno.test("a first line that merely starts with an IRC word is said as usual", async () => {
  await using server = withServer();
  await using b = await LineClient.chat(server.port);
  for (const first of ["nick of time", "user here?", "pass the salt, please", "cap"]) {
    await using a = await LineClient.chat(server.port);
    await a.send(first);
    await b.expect(`[lobby] ${a.nick}: ${first}`);
  }
});

Deno.test("an over-long line gets exactly one error and the rest is discarded", async () => {
  await using server = withServer();
  await using b = await LineClient.chat(server.port);
  await using a = await LineClient.chat(server.port);
  await a.write(bytes("z".repeat(4096) + "\n")); // exactly the limit: fine
  await b.expect(`[lobby] ${a.nick}: ${"z".repeat(4096)}`);
  await a.write(bytes("x".repeat(4097) + "\r\n" + "y".repeat(20_000) + "\nafter\n"));
  await a.expect("! line too long (max 4096 bytes)");
  await a.expect("! line too long (max 4096 bytes)");
  await b.expect(`[lobby] ${a.nick}: after`);
  assert.equal(a.lines.filter((l) => l.startsWith("! line too long")).length, 2);
  assert.ok(!b.lines.some((l) => l.includes("xxx") || l.includes("yyy")));
});

Deno.test("a 400 MB line without a newline leaves the server's memory bounded", async () => {
  await using server = await spawnServer();
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await a.send("warm up");
  await b.expect(`[lobby] ${a.nick}: warm up`);
  const before = await server.rssKiB();
  const chunk = bytes("A".repeat(64 * 1024));
  for (let sent = 0; sent < 400 * 1024 * 1024; sent += chunk.length) await a.write(chunk);
  await a.expect("! line too long (max 4096 bytes)");
  await a.send("", "and on");
  await b.expect(`[lobby] ${a.nick}: and on`);
  const grown = (await server.rssKiB()) - before;
  // Buffering the line would cost 400 MB; reading it in chunks costs only the
  // read buffers the garbage collector has not reclaimed yet (V8 collects
  // after about 64 MB of them), whatever the line's length.
  assert.ok(grown < 160 * 1024, `RSS grew by ${grown} KiB`);
});

Deno.test("control characters and escape sequences never reach other users", async () => {
  await using server = withServer();
  await using b = await LineClient.chat(server.port);
  await using a = await LineClient.chat(server.port);
  await a.send("/nick mallory");
  await a.write(
    bytes(
      "\x1b[2J\x1b[31mred\x1b[0m \x1b]0;owned\x07title\x00nul\x07bel\x08bs\x7f \x9b1mc1\ttab\n",
    ),
  );
  const line = await b.waitFor((l) => l.startsWith("[lobby] mallory:"));
  assert.equal(line, "[lobby] mallory: red titlenulbelbs c1\ttab");
  await a.send("/quit \x1b[5mblink");
  await b.expect("* mallory left lobby (quit: blink)");
});

Deno.test("abrupt disconnects mid-line leave the server working", async () => {
  await using server = withServer();
  await using b = await LineClient.chat(server.port);
  for (let i = 0; i < 20; i++) {
    const a = await LineClient.chat(server.port);
    await a.write(bytes("half a li"));
    await a.close();
  }
  await using c = await LineClient.chat(server.port);
  await c.send("still up");
  await b.expect(`[lobby] ${c.nick}: still up`);
  // The cut lines still counted (EOF ends a line) and every client left.
  assert.equal(b.lines.filter((l) => l.endsWith(": half a li")).length, 20);
  assert.equal(b.lines.filter((l) => l.endsWith(" left lobby (quit)")).length, 20);
});

Deno.test("a client that never reads is cut off; the others get every line", async () => {
  await using server = withServer({ maxQueueBytes: 256 * 1024 });
  const lazy = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await using reader = await LineClient.chat(server.port);
  await using sender = await LineClient.chat(server.port);
  const TOO_SLOW = / left lobby \(quit: too slow\)$/;
  let cutOff = false;
  const line = "p".repeat(3000);
  const total = 8000; // 24 MB to each member: more than the kernel buffers hold
  // The reader keeps up (the sender waits for it every 50 lines); the lazy
  // client reads nothing.
  for (let i = 0; i < total; i += 50) {
    await sender.send(...Array.from({ length: 50 }, (_, k) => `${i + k} ${line}`));
    await reader.waitFor((l) => l.startsWith(`[lobby] ${sender.nick}: ${i + 49} `), 30_000);
    if (reader.lines.some((l) => TOO_SLOW.test(l))) cutOff = true;
    reader.lines.length = 0; // keep the test's memory low
    reader.skip();
  }
  if (!cutOff) await reader.waitFor((l) => TOO_SLOW.test(l), 20_000);
  assert.equal(server.stats.slowConsumers, 1);
  // The lazy client's connection was closed by the server.
  const buf = new Uint8Array(1 << 20);
  let closed = false;
  const deadline = Date.now() + 20_000;
  while (!closed && Date.now() < deadline) {
    try {
      closed = (await lazy.read(buf)) === null;
    } catch {
      closed = true;
    }
  }
  lazy.close();
  assert.ok(closed, "the server closed the non-reading client");
  await delay(0);
});

Deno.test("errors for refused lines come in order with the replies to the other lines", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await a.write(
    new Uint8Array([...bytes("first\n"), 0xff, 0x0a, ...bytes("/join q2\n"), 0xff, 0x0a]),
  );
  await a.expect(`[lobby] ${a.nick}: first`);
  const rest = [
    await a.waitFor(() => true),
    await a.waitFor(() => true),
    await a.waitFor(() => true),
    await a.waitFor(() => true),
  ];
  assert.deepEqual(rest, [
    "! invalid UTF-8",
    `* ${a.nick} joined q2`,
    "* you are an operator of q2",
    "! invalid UTF-8",
  ]);
});
