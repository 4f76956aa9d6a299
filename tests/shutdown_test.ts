/**
 * Shutdown with many clients connected.
 */
import assert from "node:assert/strict";
import { LineClient, withServer } from "./helpers.ts";

Deno.test("shutdown with 300 clients: every one is told, flushed and closed", async () => {
  await using server = withServer();
  const clients: LineClient[] = [];
  for (let i = 0; i < 300; i += 50) {
    clients.push(
      ...await Promise.all(Array.from({ length: 50 }, () => LineClient.chat(server.port))),
    );
  }
  await clients[0].send("last message");
  await Promise.all(clients.map((c) => c.waitFor((l) => l.endsWith(": last message"))));
  const started = performance.now();
  await server.shutdown();
  for (const c of clients) {
    await c.waitClosed();
    assert.equal(c.lines.at(-1), "* server shutting down");
  }
  assert.ok(performance.now() - started < 2000 + 1000, "within the drain deadline");
  assert.equal(server.stats.openConnections(), 0);
  // The listener is closed: new connections are refused.
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: server.port }));
});

Deno.test("shutdown does not wait past the drain deadline for a client that never reads", async () => {
  // A queue bound big enough that the lazy client is not cut off as too slow first.
  await using server = withServer({ drainTimeoutMs: 500, maxQueueBytes: 64 << 20 });
  const lazy = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await using talker = await LineClient.chat(server.port);
  // Fill the lazy client's socket buffers so its last output cannot drain.
  const line = "q".repeat(4000);
  const nick = talker.nick;
  for (let i = 0; i < 1500; i += 50) {
    await talker.send(...Array.from({ length: 50 }, (_, k) => `${i + k} ${line}`));
    await talker.waitFor((l) => l.startsWith(`[lobby] ${nick}: ${i + 49} `));
    talker.lines.length = 0;
    talker.skip();
  }
  assert.equal(server.stats.slowConsumers, 0);
  const started = performance.now();
  await server.shutdown();
  const took = performance.now() - started;
  assert.ok(took >= 450 && took < 2000, `shutdown took ${took} ms`);
  assert.equal(server.stats.openConnections(), 0);
  lazy.close();
});
