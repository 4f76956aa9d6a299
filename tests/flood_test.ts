/**
 * Flood control over real sockets: slowed, not silenced; excess flood cut off.
 */
import assert from "node:assert/strict";
import { parseInvocation } from "../src/config.ts";
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

Deno.test("a client that keeps sending 1000 short lines a second is cut off, and the room goes on", async () => {
  // The defaults, as a server started without flood options has them.
  const defaults = parseInvocation(["127.0.0.1:0"]);
  if (defaults.kind !== "run" || defaults.config.flood === null) {
    throw new Error("no default flood");
  }
  await using server = withServer({ flood: defaults.config.flood });
  await using b = await LineClient.chat(server.port);
  await using c = await LineClient.chat(server.port);
  await using a = await LineClient.chat(server.port);
  // 10 lines every 10 ms, until the server cuts it off (or 30 s pass).
  const flooding = (async () => {
    const started = performance.now();
    for (let i = 0; !a.closed && performance.now() - started < 30_000; i += 10) {
      try {
        await a.send(...Array.from({ length: 10 }, (_, k) => `flood ${i + k}`));
      } catch {
        break; // closed by the server mid-write
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return performance.now() - started;
  })();
  // Another member's line still reaches the room within a few seconds meanwhile.
  await a.expect("! slow down", 5000);
  await b.send("still here");
  await c.expect(`[lobby] ${b.nick}: still here`, 3000);
  await a.expect("! excess flood", 30_000);
  await a.waitClosed(5000);
  const seconds = (await flooding) / 1000;
  assert.ok(seconds < 30, `cut off after ${seconds.toFixed(1)} s`);
  await c.expect(`* ${a.nick} left lobby (quit: excess flood)`);
  // Nothing it sent within its budget was lost: its first 50 lines (the burst) reached the room.
  const heard = new Set(c.lines);
  for (let i = 0; i < 50; i++) assert.ok(heard.has(`[lobby] ${a.nick}: flood ${i}`), `flood ${i}`);
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
