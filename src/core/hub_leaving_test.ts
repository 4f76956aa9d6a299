/**
 * Leaving (leaving.ts): `leave` a room, `quit`, and a disconnect; who hears
 * it, and where the current room goes.
 */
import assert from "node:assert/strict";
import { assertError, clients, shape, tick, withHub } from "./hub_test_support.ts";

// --- leave -------------------------------------------------------------------

Deno.test("hub: leave tells the room and the leaver; current moves to the latest room", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    for (const room of ["dev", "ops"]) h.hub.handle(a.session, { type: "join", room });
    h.hub.handle(b.session, { type: "join", room: "ops" });
    await tick();
    a.port.take();
    b.port.take();

    // Leaving a room that is not current keeps the current room.
    h.hub.handle(a.session, { type: "leave", room: "#DEV", ref: 1 });
    assert.deepEqual(a.port.take(), [
      { type: "left", room: "dev", nick: a.session.nick, reason: { kind: "part" }, ref: 1 },
    ]);
    assert.equal(a.session.current?.name, "ops");
    h.hub.handle(a.session, { type: "join", room: "dev" });
    await tick();
    a.port.take();

    // Current is dev now; leaving it moves to the most recently joined remaining room: ops.
    h.hub.handle(a.session, { type: "leave", ref: 2 });
    assert.deepEqual(a.port.take(), [
      { type: "left", room: "dev", nick: a.session.nick, reason: { kind: "part" }, ref: 2 },
      { type: "current", room: "ops", ref: 2 },
    ]);
    assert.deepEqual(b.port.take(), []);

    h.hub.handle(a.session, { type: "leave" });
    const ea = a.port.take();
    const eb = b.port.take();
    assert.deepEqual(ea, [
      { type: "left", room: "ops", nick: a.session.nick, reason: { kind: "part" }, ref: undefined },
      { type: "current", room: "lobby", ref: undefined },
    ]);
    // The room gets the same event without the leaver's ref.
    assert.deepEqual(eb, [{
      type: "left",
      room: "ops",
      nick: a.session.nick,
      reason: { kind: "part" },
    }]);
  });
});

Deno.test("hub: leaving the last room leaves no current room", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "leave" });
    assert.deepEqual(shape(a.port.take()), [`left lobby ${a.session.nick}`, "current null"]);
    assert.deepEqual(shape(b.port.take()), [`left lobby ${a.session.nick}`]);
    assert.equal(a.session.current?.name ?? null, null);
    assert.equal(a.session.rooms.size, 0);

    h.hub.handle(a.session, { type: "say", text: "anyone?", ref: 1 });
    assertError(a.port.take(), "no_current_room", 1);
    h.hub.handle(a.session, { type: "me", text: "waves", ref: 2 });
    assertError(a.port.take(), "no_current_room", 2);
    h.hub.handle(a.session, { type: "leave", ref: 3 });
    assertError(a.port.take(), "no_current_room", 3);
    h.hub.handle(a.session, { type: "who", ref: 4 });
    assertError(a.port.take(), "no_current_room", 4);
    h.hub.handle(a.session, { type: "history", ref: 5 });
    assertError(a.port.take(), "no_current_room", 5);
    await tick();
    assert.deepEqual(b.port.take(), []);
    assert.equal(h.store.size(), 0);

    h.hub.handle(a.session, { type: "join", room: "lobby" });
    await tick();
    assert.equal(a.session.current?.name, "lobby");
  });
});

Deno.test("hub: leaving a room one is not in is refused with not_in_room", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(b.session, { type: "join", room: "dev" });
    b.port.take();
    a.port.take();
    h.hub.handle(a.session, { type: "leave", room: "dev", ref: 1 });
    assertError(a.port.take(), "not_in_room", 1);
    h.hub.handle(a.session, { type: "leave", room: "nosuch", ref: 2 });
    assertError(a.port.take(), "not_in_room", 2);
    assert.deepEqual(b.port.take(), []);
    assert.equal(a.session.current?.name, "lobby");
  });
});

// --- quit / disconnect -------------------------------------------------------

Deno.test("hub: quit says bye, closes the port, and the rooms see a quit", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "join", room: "dev" });
    await tick();
    h.hub.handle(b.session, { type: "join", room: "dev" });
    await tick();
    a.port.take();
    b.port.take();
    const nick = a.session.nick;

    h.hub.handle(a.session, { type: "quit", reason: " gone \x1b[31mfishing ", ref: "q" });
    assert.deepEqual(a.port.take(), [{ type: "bye", ref: "q" }]);
    assert.equal(a.port.closes, 1);
    const reason = { kind: "quit", message: "gone fishing" };
    assert.deepEqual(b.port.take(), [
      { type: "left", room: "lobby", nick, reason },
      { type: "left", room: "dev", nick, reason },
    ]);
    assert.equal(a.session.closed, true);
    assert.equal(h.hub.sessionCount, 1);
    assert.equal(h.hub.roomCount, 2);

    // Nothing more reaches a closed session.
    h.hub.handle(a.session, { type: "say", text: "ghost" });
    h.hub.reply(a.session, { type: "help" });
    await tick();
    assert.deepEqual(a.port.events, []);
    assert.deepEqual(b.port.events, []);
    await a.session.left;
  });
});

Deno.test("hub: quit without a reason gives a plain quit", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "quit" });
    const [left] = b.port.take();
    assert.ok(left.type === "left");
    assert.equal(left.reason.kind, "quit");
    assert.equal(left.reason.kind === "quit" ? left.reason.message : "?", undefined);
  });
});

Deno.test("hub: disconnect makes the client leave with a quit and frees its nick", async () => {
  await withHub({}, async (h) => {
    const [a, b, c] = await clients(h, 3);
    h.hub.handle(a.session, { type: "nick", nick: "Alice" });
    await tick();
    for (const x of [a, b, c]) x.port.take();
    let left = false;
    a.session.left.then(() => (left = true));
    await tick();
    assert.equal(left, false);

    h.hub.disconnect(a.session);
    const [event] = b.port.take();
    assert.ok(event.type === "left");
    assert.equal(event.room, "lobby");
    assert.equal(event.nick, "Alice");
    assert.equal(event.reason.kind, "quit");
    assert.equal(event.reason.kind === "quit" ? event.reason.message : "?", undefined);
    assert.equal(c.port.take()[0], event);
    assert.deepEqual(a.port.take(), []);
    assert.equal(a.port.closes, 0, "disconnect comes from the transport, which closes");
    assert.equal(h.hub.sessionCount, 2);

    await a.session.left;
    assert.equal(left, true);

    h.hub.handle(b.session, { type: "nick", nick: "alice" });
    await tick();
    assert.equal(b.session.nick, "alice");
    h.hub.handle(c.session, { type: "msg", to: "Alice", text: "x" });
    assert.equal(b.port.take().filter((e) => e.type === "dm").length, 1);

    // A second disconnect does nothing.
    h.hub.disconnect(a.session, "again");
    assert.deepEqual(c.port.take().filter((e) => e.type === "left"), []);
  });
});

Deno.test("hub: disconnect with a message passes it on as the quit reason", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.disconnect(a.session, "too slow");
    const [event] = b.port.take();
    assert.ok(event.type === "left");
    assert.deepEqual(event.reason, { kind: "quit", message: "too slow" });
  });
});

Deno.test("hub: session.left resolves after a disconnect queued behind a replay", async () => {
  await withHub({ historyOnJoin: 5 }, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "say", text: "hello" });
    await tick();
    const c = h.connect(); // lobby replay pending
    h.hub.disconnect(c.session);
    assert.equal(c.session.closed, false);
    await c.session.left;
    assert.equal(c.session.closed, true);
    assert.deepEqual(shape(c.port.take()), [
      "welcome",
      `joined lobby ${c.session.nick}`,
      "history lobby hello",
    ]);
    assert.deepEqual(shape(b.port.take()), [
      "message lobby hello",
      `joined lobby ${c.session.nick}`,
      `left lobby ${c.session.nick}`,
    ]);
  });
});
