/**
 * Order: each client's requests take effect in the order sent, replies wait
 * behind pending work, and other members never see the requester's ref.
 */
import assert from "node:assert/strict";
import { clients, shape, tick, withHub } from "./hub_test_support.ts";
import type { ServerEvent } from "./events.ts";

// --- ordering ----------------------------------------------------------------

Deno.test("hub: a client that says a line and then leaves sees its line before its left", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "say", text: "bye all" });
    h.hub.handle(a.session, { type: "leave" });
    await tick();
    assert.deepEqual(shape(a.port.take()), [
      "message lobby bye all",
      `left lobby ${a.session.nick}`,
      "current null",
    ]);
    assert.deepEqual(shape(b.port.take()), [
      "message lobby bye all",
      `left lobby ${a.session.nick}`,
    ]);
  });
});

Deno.test("hub: a client that says lines and then disconnects has them delivered first", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "say", text: "one" });
    h.hub.handle(a.session, { type: "me", text: "two" });
    h.hub.disconnect(a.session);
    await a.session.left;
    await tick();
    assert.deepEqual(shape(b.port.take()), [
      "message lobby one",
      "message lobby two",
      `left lobby ${a.session.nick}`,
    ]);
  });
});

Deno.test("hub: reply() keeps its order behind pending commands", async () => {
  await withHub({ historyOnJoin: 3 }, async (h) => {
    const [a, b] = await clients(h, 2);
    const bad: ServerEvent = { type: "error", code: "bad_request", message: "bad" };
    h.hub.handle(a.session, { type: "say", text: "one" });
    h.hub.reply(a.session, bad);
    h.hub.handle(a.session, { type: "say", text: "two" });
    h.hub.reply(a.session, { type: "error", code: "unknown_command", message: "x" });
    assert.deepEqual(a.port.events, [], "the replies wait for the message before them");
    await tick();
    assert.deepEqual(shape(a.port.take()), [
      "message lobby one",
      "error bad_request",
      "message lobby two",
      "error unknown_command",
    ]);
    b.port.take();

    // Behind a join whose replay is still being read.
    h.hub.handle(b.session, { type: "join", room: "dev" });
    h.hub.handle(a.session, { type: "join", room: "dev" });
    h.hub.reply(a.session, bad);
    h.hub.handle(a.session, { type: "who" });
    await tick();
    assert.deepEqual(shape(a.port.take()), [
      `joined dev ${a.session.nick}`,
      "error bad_request",
      "who",
    ]);

    // With nothing pending, a reply goes out at once.
    h.hub.reply(a.session, bad);
    assert.deepEqual(a.port.take(), [bad]);
  });
});

Deno.test("hub: commands behind a pending join replay wait for it", async () => {
  await withHub({ historyOnJoin: 2 }, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "join", room: "dev" });
    h.hub.handle(a.session, { type: "say", text: "old" });
    await tick();
    a.port.take();
    h.hub.handle(b.session, { type: "join", room: "dev" });
    h.hub.handle(b.session, { type: "say", text: "new" });
    h.hub.handle(b.session, { type: "leave" });
    assert.equal(b.session.busy, true);
    await b.session.drained();
    await tick();
    assert.deepEqual(shape(b.port.take()), [
      `joined dev ${b.session.nick}`,
      "history dev old",
      "message dev new",
      `left dev ${b.session.nick}`,
      "current lobby",
    ]);
    assert.equal(b.session.busy, false);
  });
});

// `ref` belongs on the requester's own replies only: a JSON client must never
// see a ref it did not send on another member's join, leave or nick change.
Deno.test({
  name: "hub: other members never see the requester's ref",
  fn: async () => {
    await withHub({}, async (h) => {
      const [a, b] = await clients(h, 2);
      h.hub.handle(b.session, { type: "join", room: "dev" });
      await tick();
      b.port.take();
      h.hub.handle(a.session, { type: "join", room: "dev", ref: "a-1" });
      h.hub.handle(a.session, { type: "nick", nick: "Alice", ref: "a-2" });
      await tick();
      h.hub.handle(a.session, { type: "leave", room: "dev", ref: "a-3" });
      const seen = b.port.take();
      assert.equal(seen.length, 3);
      for (const e of seen) assert.equal("ref" in e ? e.ref : undefined, undefined);
    });
  },
});
