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
  await using server = withServer({ drainTimeoutMs: 500 });
  const lazy = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await using talker = await LineClient.chat(server.port);
  // Fill the lazy client's socket buffers so its last output cannot drain.
  const line = "q".repeat(4000);
  for (let i = 0; i < 1500; i += 50) {
    await talker.send(...Array.from({ length: 50 }, () => line));
    await talker.waitFor((l) => l.endsWith(line));
    talker.lines.length = 0;
    talker.skip();
  }
  await server.shutdown();
  assert.equal(server.stats.openConnections(), 0);
  lazy.close();
});
