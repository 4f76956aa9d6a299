import assert from "node:assert/strict";
import { lastGuest, LineClient, withServer } from "./helpers.ts";

/**
 * `members` clients in the lobby; the first `senders` each send `perSender`
 * numbered lines. Every member must get every line exactly once, and each
 * sender's lines in the order sent.
 */
async function fanout(members: number, senders: number, perSender: number): Promise<void> {
  // Joins are announced one by one (not summarized): they tell when the room is complete.
  await using server = withServer({ quietRoomSize: members });
  const clients: LineClient[] = [];
  for (let i = 0; i < members; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, members - i) }, () => LineClient.chat(server.port)),
    );
    clients.push(...batch);
  }
  try {
    // Everyone has seen the last member join: the room is complete.
    const last = lastGuest(clients);
    await Promise.all(
      clients.filter((c) => c !== last).map((c) =>
        c.waitFor((l) => l === `* ${last.nick} joined lobby`)
      ),
    );
    for (const c of clients) c.skip();
    await Promise.all(
      clients.slice(0, senders).map(async (c, s) => {
        const lines = Array.from({ length: perSender }, (_, n) => `m ${s} ${n}`);
        // Several writes of several lines each: exercises batching on both sides.
        for (let i = 0; i < lines.length; i += 7) await c.send(...lines.slice(i, i + 7));
      }),
    );
    const expected = senders * perSender;
    await Promise.all(clients.map(async (c) => {
      const seen = new Map<number, number>();
      let got = 0;
      while (got < expected) {
        const line = await c.waitFor((l) => / m \d+ \d+$/.test(l));
        const [, s, n] = /m (\d+) (\d+)$/.exec(line)!.map(Number);
        const prev = seen.get(s) ?? -1;
        assert.equal(n, prev + 1, `${c.nick}: sender ${s} line ${n} after ${prev}`);
        seen.set(s, n);
        got++;
      }
      // Nothing more than expected (no duplicates) once the room is quiet.
      assert.deepEqual(c.rest().filter((l) => / m \d+ \d+$/.test(l)), []);
    }));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

Deno.test("2 clients each receive every line once and in order", () => fanout(2, 2, 200));
Deno.test("50 clients each receive every line once and in order", () => fanout(50, 5, 100));
Deno.test("500 clients each receive every line once and in order", () => fanout(500, 10, 20));
