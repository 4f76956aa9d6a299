/**
 * The hub's front door: a client is welcomed with a guest nick in the lobby,
 * `help` is answered, and a shutdown is told to every session.
 */
import assert from "node:assert/strict";
import { clients, tick, withHub } from "./hub_test_support.ts";

// --- connect -----------------------------------------------------------------

Deno.test("hub: connect sends a welcome with a guest nick and joins the lobby", async () => {
  await withHub({}, async (h) => {
    const a = h.connect();
    assert.match(a.session.nick, /^guest-\d+$/);
    await tick(); // the lobby's rules are read from the store first
    assert.deepEqual(a.port.take(), [
      { type: "welcome", nick: a.session.nick, room: "lobby", server: "test-server" },
      // The joiner hears what it has read there (nothing yet) and how much is unread.
      { type: "joined", room: "lobby", nick: a.session.nick, ref: undefined, read: 0, unread: 0 },
    ]);
    assert.equal(a.session.current?.name, "lobby");
    assert.deepEqual([...a.session.rooms.keys()], ["lobby"]);

    const b = h.connect();
    await tick(); // its read marker is looked up first
    assert.match(b.session.nick, /^guest-\d+$/);
    assert.notEqual(b.session.nick, a.session.nick);
    const joined = { type: "joined", room: "lobby", nick: b.session.nick };
    assert.deepEqual(b.port.take(), [
      { type: "welcome", nick: b.session.nick, room: "lobby", server: "test-server" },
      { ...joined, ref: undefined, read: 0, unread: 0 },
    ]);
    assert.deepEqual(a.port.take(), [joined]);
    assert.equal(h.hub.sessionCount, 2);
    assert.equal(h.hub.roomCount, 1);
    await tick();
    assert.deepEqual(a.port.events, []);
    assert.deepEqual(b.port.events, []);
  });
});

// --- help / shutdown ---------------------------------------------------------

Deno.test("hub: help answers with a help event", async () => {
  await withHub({}, async (h) => {
    const [a] = await clients(h, 1);
    h.hub.handle(a.session, { type: "help", ref: 1 });
    assert.deepEqual(a.port.take(), [{ type: "help", ref: 1 }]);
  });
});

Deno.test("hub: shutdown tells every session once and leaves closing to the transports", async () => {
  await withHub({}, async (h) => {
    const all = await clients(h, 3);
    h.hub.handle(all[2].session, { type: "join", room: "dev" });
    all[2].port.take();
    h.hub.shutdown();
    for (const c of all) {
      assert.deepEqual(c.port.take(), [{ type: "shutdown" }]);
      assert.equal(c.port.closes, 0);
    }
  });
});
