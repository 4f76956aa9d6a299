/**
 * Flood control over real sockets: slowed, not silenced; excess flood cut off.
 */
import assert from "node:assert/strict";
import { LineClient, withHttpServer, withServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";

const flood = {
  lineBurst: 5,
  lineRate: 20,
  byteBurst: 1 << 20,
  byteRate: 1 << 20,
  maxWaitingBytes: 65536,
};

Deno.test("a client over its budget is told once, slowed, and loses nothing", async () => {
  await using server = withServer({ flood });
  await using b = await LineClient.chat(server.port);
  await using a = await LineClient.chat(server.port);
  const started = performance.now();
  await a.send(...Array.from({ length: 15 }, (_, i) => `line ${i}`));
  for (let i = 0; i < 15; i++) await b.expect(`[lobby] ${a.nick}: line ${i}`);
  // 5 at once, then 10 more at 20 per second.
  assert.ok(performance.now() - started >= 400, "the lines past the burst were paced");
  await a.expect(`[lobby] ${a.nick}: line 14`);
  assert.equal(a.lines.filter((l) => l === "! slow down").length, 1);
});

Deno.test("a client whose waiting input passes the bound gets excess flood and is cut off", async () => {
  await using server = withServer({
    flood: {
      lineBurst: 2,
      lineRate: 1,
      byteBurst: 1 << 20,
      byteRate: 1 << 20,
      maxWaitingBytes: 4096,
    },
  });
  await using b = await LineClient.chat(server.port);
  await using a = await LineClient.chat(server.port);
  await a.send(...Array.from({ length: 20 }, (_, i) => `${i} ${"f".repeat(1000)}`));
  await a.expect("! excess flood");
  await a.waitClosed();
  await b.expect(`* ${a.nick} left lobby (quit: excess flood)`);
});

Deno.test("the same rules hold for WebSocket clients (JSON)", async () => {
  await using server = await withHttpServer({ flood });
  await using c = await WsClient.jsonClient(server.httpPort);
  for (let i = 0; i < 10; i++) c.send(JSON.stringify({ type: "say", text: `w${i}`, ref: i }));
  await c.waitForEvent((e) => e.type === "message" && e.text === "w9");
  const texts = c.events.filter((e) => e.type === "message").map((e) => e.text);
  assert.deepEqual(texts, Array.from({ length: 10 }, (_, i) => `w${i}`), "all of them, in order");
  const told = c.events.filter((e) => e.type === "error" && e.code === "slow_down");
  assert.equal(told.length, 1);
  assert.equal(told[0].message, "slow down");
});
