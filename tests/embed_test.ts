/**
 * Embedding: `startServer` from mod.ts, in this process, over real sockets.
 */
import assert from "node:assert/strict";
import { ConfigError, StartError, startServer } from "../mod.ts";
import { LineClient, runMain } from "./helpers.ts";

const quiet = { http: "off", irc: "off", db: ":memory:" } as const;

Deno.test("a bad option is refused with the same words as its flag", async () => {
  const embedded = await startServer({ ...quiet, tcp: "127.0.0.1:0", maxLineBytes: 10 }).then(
    () => assert.fail("started with maxLineBytes 10"),
    (err) => err,
  );
  assert.ok(embedded instanceof ConfigError);
  assert.equal(
    embedded.message,
    "--max-line-bytes: expected a whole number from 64 to 1048576, got '10'",
  );
  const cli = await runMain(["127.0.0.1:0", "--max-line-bytes", "10"]);
  assert.equal(cli.code, 2);
  assert.ok(cli.stderr.includes(embedded.message), cli.stderr);

  await assert.rejects(
    startServer({ ...quiet, tcp: "127.0.0.1:0", maxLineByte: 100 }),
    (err) => err instanceof ConfigError && err.message === "unknown option --max-line-byte",
  );
  await assert.rejects(
    startServer({ ...quiet, tcp: "nowhere" }),
    (err) => err instanceof ConfigError && /expected HOST:PORT .* got 'nowhere'/.test(err.message),
  );
});

Deno.test("the bound addresses come back with their ports", async () => {
  await using chat = await startServer({
    tcp: "127.0.0.1:0",
    http: "127.0.0.1:0",
    irc: "127.0.0.1:0",
    db: ":memory:",
  });
  assert.equal(chat.tcp.hostname, "127.0.0.1");
  assert.ok(chat.tcp.port > 0);
  assert.ok(chat.http !== null && chat.http.port > 0);
  assert.ok(chat.irc !== null && chat.irc.port > 0);
  const health = await fetch(`http://127.0.0.1:${chat.http.port}/healthz`);
  await health.body?.cancel();
  assert.equal(health.status, 200);
  await using client = await LineClient.chat(chat.tcp.port);
  assert.match(client.nick, /^guest/);

  await using off = await startServer({ ...quiet, tcp: "127.0.0.1:0" });
  assert.equal(off.http, null);
  assert.equal(off.irc, null);
});

Deno.test("two embedded servers run side by side, each with its own rooms", async () => {
  await using one = await startServer({ ...quiet, tcp: "127.0.0.1:0" });
  await using two = await startServer({ ...quiet, tcp: "127.0.0.1:0" });
  assert.notEqual(one.tcp.port, two.tcp.port);
  await using a = await LineClient.chat(one.tcp.port);
  await using b = await LineClient.chat(one.tcp.port);
  await using c = await LineClient.chat(two.tcp.port);
  await using d = await LineClient.chat(two.tcp.port);
  await a.send("on one");
  await c.send("on two");
  await b.expect(`[lobby] ${a.nick}: on one`);
  await d.expect(`[lobby] ${c.nick}: on two`);
  assert.ok(!b.lines.some((l) => l.includes("on two")), b.lines.join("\n"));
  assert.ok(!d.lines.some((l) => l.includes("on one")), d.lines.join("\n"));
});

Deno.test("shutdown tells the clients and closes the ports", async () => {
  const chat = await startServer({ ...quiet, tcp: "127.0.0.1:0", http: "127.0.0.1:0" });
  const { tcp, http } = chat;
  await using client = await LineClient.chat(tcp.port);
  await chat.shutdown();
  await client.waitFor((l) => l === "* server shutting down");
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: tcp.port }));
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: http!.port }));
  await chat.shutdown(); // a second call is harmless
});

Deno.test("an address in use is a StartError naming it", async () => {
  await using first = await startServer({ ...quiet, tcp: "127.0.0.1:0" });
  const address = `127.0.0.1:${first.tcp.port}`;
  await assert.rejects(
    startServer({ ...quiet, tcp: address }),
    (err) => err instanceof StartError && err.message.includes(`cannot listen on ${address}`),
  );
});

Deno.test("history in a SQLite file outlives the embedded server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-embed-" });
  try {
    const options = { ...quiet, tcp: "127.0.0.1:0", db: `${dir}/chat.db` };
    {
      await using chat = await startServer(options);
      await using a = await LineClient.chat(chat.tcp.port);
      await a.send("kept on disk");
      await a.expect(`[lobby] ${a.nick}: kept on disk`);
    }
    await using again = await startServer(options);
    await using b = await LineClient.chat(again.tcp.port);
    await b.waitFor((l) => l.includes("kept on disk"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the options of the newer flags: trusted proxies as a list, an internal metrics listener", async () => {
  await using server = await startServer({
    tcp: "127.0.0.1:0",
    http: "off",
    irc: "off",
    db: ":memory:",
    metrics: "127.0.0.1:0",
    trustedProxies: ["10.0.0.0/8", "::1"],
  });
  assert.ok(server.tcp.port > 0);
  const scraped = await fetch(`http://127.0.0.1:${server.metrics!.port}/metrics`);
  assert.match(await scraped.text(), /^chat_build_info\{/m);
  await assert.rejects(
    startServer({ tcp: "127.0.0.1:0", http: "off", irc: "off", trustedProxies: ["not-an-ip"] }),
    /not-an-ip/,
  );
});
