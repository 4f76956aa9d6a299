/**
 * Abuse at the connection level: connection storms, clients that trickle
 * bytes, and oversized WebSocket frames. The server keeps serving everyone
 * else, and what it holds stays bounded.
 */
import assert from "node:assert/strict";
import { delay, LineClient, withHttpServer, withServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

/** Collects garbage (`deno test --v8-flags=--expose-gc`, as `deno task test` runs). */
function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc (deno task test does)");
  gc();
}

Deno.test("10,000 connections opened and dropped: the server forgets them all", async () => {
  // Little history: the lines said during the storm must not count as growth.
  await using server = withServer({ historySize: 10 });
  const storm = async (count: number) => {
    const WAVE = 250;
    for (let done = 0; done < count; done += WAVE) {
      await Promise.all(
        Array.from({ length: WAVE }, async (_, i) => {
          const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
          // Some say something, some leave half a line, some just go.
          if (i % 3 === 1) await conn.write(bytes("hello\n")).catch(() => {});
          if (i % 3 === 2) await conn.write(bytes("half a li")).catch(() => {});
          conn.close();
        }),
      );
    }
    const deadline = Date.now() + 10_000;
    while (server.stats.openConnections() > 0) {
      assert.ok(Date.now() < deadline, `${server.stats.openConnections()} still open`);
      await delay(50);
    }
  };
  await storm(1000); // warm up: the runtime's own caches settle
  collect();
  const before = Deno.memoryUsage().heapUsed;
  await storm(10_000);
  await delay(100);
  collect();
  const grown = Deno.memoryUsage().heapUsed - before;
  // Anything kept per connection (a session is a few KB) would show as tens of MB.
  assert.ok(grown < 2 << 20, `the heap grew by ${grown} bytes over 10,000 connections`);
  await using probe = await LineClient.chat(server.port);
  await probe.send("/rooms");
  await probe.expect("* lobby (1 member)"); // every one of them left the lobby
  await probe.send("still fine");
  await probe.expect(`[lobby] ${probe.nick}: still fine`);
});

Deno.test("a client trickling one byte per second: its line arrives, others are not slowed", async () => {
  await using server = withServer();
  await using slow = await LineClient.chat(server.port);
  await using fast = await LineClient.chat(server.port);
  const line = "hi!\n";
  let sent = 0;
  const trickle = (async () => {
    for (const b of bytes(line)) {
      await slow.write(new Uint8Array([b]));
      sent++;
      await delay(1000);
    }
  })();
  // While it trickles, the others chat at full speed.
  for (let i = 0; i < 100; i++) await fast.send(`fast ${i}`);
  await fast.expect(`[lobby] ${fast.nick}: fast 99`);
  assert.ok(sent < line.length, "the fast client was done before the slow line");
  await trickle;
  await fast.expect(`[lobby] ${slow.nick}: hi!`);
});

Deno.test("a line trickled slower than the idle timeout is pinged, then closed", async () => {
  await using server = withServer({ idleTimeoutMs: 1500 });
  await using slow = await LineClient.chat(server.port);
  await using other = await LineClient.chat(server.port);
  let stop = false;
  const trickle = (async () => {
    // A line that never ends, one byte per second: bytes are not an answer to the ping.
    while (!stop && !slow.closed) {
      await slow.write(bytes("a")).catch(() => {});
      await delay(1000);
    }
  })();
  await slow.expect("* ping", 5000);
  await slow.waitClosed(5000);
  stop = true;
  await trickle;
  await other.expect(`* ${slow.nick} left lobby (quit: idle timeout)`);
  await using fresh = await LineClient.chat(server.port); // `other` is idle too by now
  await fresh.send("/who");
  await fresh.waitFor((l) => l.startsWith("* members of lobby:") && !l.includes(slow.nick));
});

Deno.test("a 16 MB WebSocket frame is refused with an error; the connection and server go on", async () => {
  await using server = await withHttpServer();
  await using j = await WsClient.jsonClient(server.httpPort);
  await using t = await LineClient.chat(server.port);
  j.skip();
  j.send("x".repeat(16 << 20));
  const refused = await j.next(30_000);
  assert.equal(refused.code, "line_too_long");
  j.sendJson({ type: "say", text: "after the big one", ref: 1 });
  await j.waitForEvent((e) => e.ref === 1);
  await t.expect(`[lobby] ${j.nick}: after the big one`);
});
