/**
 * Nicks (nicks.ts): guest nicks on connect, `nick` to change, who hears of
 * it, and which nicks are refused.
 */
import assert from "node:assert/strict";
import {
  assertError,
  clients,
  errorCodes,
  messagesOf,
  tick,
  withHub,
  withoutRef,
} from "./hub_test_support.ts";

// --- nick --------------------------------------------------------------------

Deno.test("hub: guest nicks skip nicks already taken", async () => {
  await withHub({}, async (h) => {
    const [a] = await clients(h, 1);
    const n = Number(a.session.nick.slice("guest-".length));
    h.hub.handle(a.session, { type: "nick", nick: `Guest-${n + 1}` });
    await tick();
    const b = h.connect();
    assert.equal(b.session.nick, `guest-${n + 2}`);
  });
});

Deno.test("hub: a nick change is told once to the client and to everyone sharing a room", async () => {
  await withHub({}, async (h) => {
    const [a, b, c, d] = await clients(h, 4);
    // a and b share lobby and dev; c shares only dev; d shares nothing.
    h.hub.handle(a.session, { type: "join", room: "dev" });
    h.hub.handle(b.session, { type: "join", room: "dev" });
    h.hub.handle(c.session, { type: "join", room: "dev" });
    h.hub.handle(c.session, { type: "leave", room: "lobby" });
    h.hub.handle(d.session, { type: "join", room: "elsewhere" });
    h.hub.handle(d.session, { type: "leave", room: "lobby" });
    await tick();
    for (const x of [a, b, c, d]) x.port.take();

    const old = a.session.nick;
    h.hub.handle(a.session, { type: "nick", nick: " Alice ", ref: 5 });
    await tick();
    const event = { type: "nick", old, nick: "Alice", ref: 5 };
    assert.deepEqual(a.port.take(), [event]);
    // (The ref others see is checked in the ignored test about refs below.)
    assert.deepEqual(b.port.take().map(withoutRef), [withoutRef(event)]);
    assert.deepEqual(c.port.take().map(withoutRef), [withoutRef(event)]);
    assert.deepEqual(d.port.take(), []);
    assert.equal(a.session.nick, "Alice");

    // Messages now carry the new nick.
    h.hub.handle(a.session, { type: "say", text: "hi" });
    await tick();
    assert.equal(messagesOf(b.port.take())[0].nick, "Alice");
  });
});

Deno.test("hub: a taken nick (ignoring case) is refused; an invalid one too", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "nick", nick: "Alice" });
    await tick();
    a.port.take();
    b.port.take();
    h.hub.handle(b.session, { type: "nick", nick: "ALICE", ref: 1 });
    assertError(b.port.take(), "nick_taken", 1);
    h.hub.handle(b.session, { type: "nick", nick: a.session.nick, ref: 2 });
    assertError(b.port.take(), "nick_taken", 2);
    assert.deepEqual(a.port.take(), []);

    for (const bad of ["", "  ", "two words", "x".repeat(33), "bang!", "é", "#room", "a.b"]) {
      h.hub.handle(b.session, { type: "nick", nick: bad, ref: bad });
      assertError(b.port.take(), "invalid_nick", bad);
    }
    assert.match(b.session.nick, /^guest-\d+$/);

    h.hub.handle(b.session, { type: "nick", nick: "x".repeat(32) });
    await tick();
    assert.equal(b.session.nick, "x".repeat(32));
  });
});

Deno.test("hub: the old nick becomes free; a case change of one's own nick is allowed", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    const old = a.session.nick;
    h.hub.handle(a.session, { type: "nick", nick: "alice" });
    await tick();
    h.hub.handle(b.session, { type: "nick", nick: old });
    await tick();
    assert.equal(b.session.nick, old);
    assert.deepEqual(errorCodes(b.port.take()), []);
    h.hub.handle(a.session, { type: "nick", nick: "ALICE" });
    assert.equal(a.session.nick, "ALICE");
    assert.deepEqual(errorCodes(a.port.take()), []);
    // The new nick is reachable, the old spelling too (case-insensitive), the freed one is b's.
    h.hub.handle(b.session, { type: "msg", to: "alice", text: "x" });
    assert.equal(a.port.take().length, 1);
    // Same nick again: acknowledged, nobody else told.
    b.port.take();
    h.hub.handle(a.session, { type: "nick", nick: "ALICE", ref: 9 });
    assert.deepEqual(a.port.take(), [{ type: "nick", old: "ALICE", nick: "ALICE", ref: 9 }]);
    assert.deepEqual(b.port.take(), []);
  });
});
