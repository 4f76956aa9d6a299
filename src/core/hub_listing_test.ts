/** What is there (listing.ts): `rooms` with member counts, `who` paged for big rooms. */
import assert from "node:assert/strict";
import { assertError, clients, tick, withHub } from "./hub_test_support.ts";

// --- rooms / who -------------------------------------------------------------

Deno.test("hub: rooms lists rooms sorted with member counts; empty rooms disappear", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "join", room: "zeta" });
    h.hub.handle(a.session, { type: "join", room: "alpha" });
    h.hub.handle(b.session, { type: "join", room: "alpha" });
    h.hub.handle(b.session, { type: "join", room: "mid2" });
    await tick();
    a.port.take();
    h.hub.handle(a.session, { type: "rooms", ref: "r" });
    await tick();
    // Unread counts on the rooms the client is in.
    assert.deepEqual(a.port.take(), [{
      type: "rooms",
      rooms: [
        { room: "alpha", members: 2, unread: 0 },
        { room: "lobby", members: 2, unread: 0 },
        { room: "mid2", members: 1 },
        { room: "zeta", members: 1, unread: 0 },
      ],
      ref: "r",
    }]);
    h.hub.handle(a.session, { type: "leave", room: "zeta" });
    h.hub.handle(b.session, { type: "leave", room: "mid2" });
    h.hub.handle(b.session, { type: "leave", room: "lobby" });
    a.port.take();
    h.hub.handle(a.session, { type: "rooms" });
    await tick();
    assert.deepEqual(a.port.take(), [{
      type: "rooms",
      rooms: [{ room: "alpha", members: 2, unread: 0 }, { room: "lobby", members: 1, unread: 0 }],
      ref: undefined,
    }]);
    assert.equal(h.hub.roomCount, 2);
  });
});

Deno.test("hub: who lists the members of the current or a named room", async () => {
  await withHub({}, async (h) => {
    const [a, b, c] = await clients(h, 3);
    h.hub.handle(a.session, { type: "join", room: "dev" });
    await tick();
    h.hub.handle(c.session, { type: "join", room: "dev" });
    await tick();
    for (const x of [a, b, c]) x.port.take();

    h.hub.handle(a.session, { type: "who", ref: 1 });
    assert.deepEqual(a.port.take(), [
      { type: "who", room: "dev", members: [a.session.nick, c.session.nick], ref: 1 },
    ]);
    h.hub.handle(a.session, { type: "who", room: "#Lobby" });
    assert.deepEqual(a.port.take(), [
      {
        type: "who",
        room: "lobby",
        members: [a.session.nick, b.session.nick, c.session.nick],
        ref: undefined,
      },
    ]);
    // A room one is not in may be listed.
    h.hub.handle(b.session, { type: "who", room: "dev" });
    assert.deepEqual(b.port.take(), [
      { type: "who", room: "dev", members: [a.session.nick, c.session.nick], ref: undefined },
    ]);
    h.hub.handle(b.session, { type: "who", room: "nosuch", ref: 2 });
    assertError(b.port.take(), "no_such_room", 2);
  });
});

Deno.test("hub: who on a big room is paged (100 by default, limit and offset asked)", async () => {
  await withHub({ quietRoomSize: 1000 }, async (h) => {
    const all = await clients(h, 250);
    const [a] = all;
    h.hub.handle(a.session, { type: "who", ref: 1 });
    const [first] = a.port.take();
    assert.equal(first.type, "who");
    if (first.type !== "who") return;
    assert.equal(first.members.length, 100);
    assert.equal(first.total, 250);
    assert.equal(first.offset, 0);
    assert.deepEqual(first.members, all.slice(0, 100).map((c) => c.session.nick));
    h.hub.handle(a.session, { type: "who", limit: 100, offset: 200 });
    const [last] = a.port.take();
    assert.deepEqual(last, {
      type: "who",
      room: "lobby",
      members: all.slice(200).map((c) => c.session.nick),
      total: 250,
      offset: 200,
      ref: undefined,
    });
    h.hub.handle(a.session, { type: "who", limit: 5000 }); // capped at 1000: all 250 fit
    const [whole] = a.port.take();
    assert.equal(whole.type === "who" && whole.members.length, 250);
    assert.equal(whole.type === "who" && whole.total, undefined, "one page: no paging fields");
  });
});
