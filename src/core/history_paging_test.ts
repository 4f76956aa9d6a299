/** `history` pages: before, around, between (both ways), and times standing for ids. */
import assert from "node:assert/strict";
import { MemoryLink } from "../cluster/memory.ts";
import { MemoryHistoryStore } from "../store/memory.ts";
import { Hub } from "./hub.ts";
import { Stats } from "./stats.ts";
import { RecordingPort, TEST_HUB_OPTIONS, tick } from "./test_support.ts";
import type { Command } from "./types.ts";

Deno.test("history: before, around, between and times page through a room", async () => {
  let now = 1000;
  const store = new MemoryHistoryStore(100);
  const hub = new Hub(store, new Stats(), {
    ...TEST_HUB_OPTIONS,
    link: new MemoryLink(),
    now: () => now,
  });
  const port = new RecordingPort();
  const session = hub.connect(port);
  await tick();
  // Ten messages, ids 1..10, at times 1100..2000.
  for (let i = 1; i <= 10; i++) {
    now = 1000 + i * 100;
    hub.handle(session, { type: "say", text: `m${i}` });
    await tick();
  }
  const ids = async (query: Omit<Extract<Command, { type: "history" }>, "type">) => {
    port.events = [];
    hub.handle(session, { type: "history", room: "lobby", ...query, ref: "q" });
    for (let i = 0; i < 10 && !port.events.some((e) => e.type === "history"); i++) await tick();
    const reply = port.events.find((e) => e.type === "history");
    return reply?.type === "history" ? reply.messages.map((m) => m.id) : null;
  };
  assert.deepEqual(await ids({ limit: 3 }), [8, 9, 10], "the latest");
  assert.deepEqual(await ids({ before: 5, limit: 3 }), [2, 3, 4], "scrollback");
  assert.deepEqual(
    await ids({ around: 5, limit: 5 }),
    [3, 4, 5, 6, 7],
    "around, the message itself included",
  );
  assert.deepEqual(
    await ids({ after: 2, before: 9, limit: 3 }),
    [3, 4, 5],
    "between, from the older end",
  );
  assert.deepEqual(
    await ids({ after: 2, before: 9, latest: true, limit: 3 }),
    [6, 7, 8],
    "between, from the newer end",
  );
  assert.deepEqual(
    await ids({ after: 7, latest: true, limit: 10 }),
    [8, 9, 10],
    "latest above an id",
  );
  assert.deepEqual(await ids({ afterTime: 1750, limit: 3 }), [8, 9, 10], "after a time");
  assert.deepEqual(await ids({ beforeTime: 1300, limit: 5 }), [1, 2], "before a time (strictly)");
  assert.deepEqual(await ids({ aroundTime: 1500, limit: 3 }), [4, 5, 6], "around a time");
  hub.shutdown();
  await store.close();
});
