/**
 * Room messages (chat.ts): `say` and `me` reach every member of the room,
 * stripped of control characters, and `history` reads them back.
 */
import assert from "node:assert/strict";
import type { Hub } from "./hub.ts";
import {
  assertError,
  type Client,
  clients,
  messagesOf,
  NOW,
  texts,
  tick,
  withHub,
} from "./hub_test_support.ts";
import type { ServerEvent } from "./events.ts";

// --- say / me ----------------------------------------------------------------

Deno.test("hub: say fans one message object out to every member", async () => {
  await withHub({}, async (h) => {
    const [a, b, c] = await clients(h, 3);
    h.hub.handle(a.session, { type: "say", text: "hello", ref: 1 });
    await tick();
    const [ea, eb, ec] = [a.port.take(), b.port.take(), c.port.take()];
    assert.equal(ea.length, 1);
    assert.equal(eb.length, 1);
    assert.equal(ec.length, 1);
    // The others share one event object (encoded once); the sender's copy carries its ref.
    assert.equal(eb[0], ec[0], "the same event object goes to every other member");
    const message = {
      room: "lobby",
      nick: a.session.nick,
      text: "hello",
      id: 1,
      ts: NOW,
      kind: "say",
    };
    assert.deepEqual(eb[0], { type: "message", message });
    assert.deepEqual(ea[0], { type: "message", message, ref: 1 });
    assert.equal((ea[0] as { message: unknown }).message, (eb[0] as { message: unknown }).message);

    h.hub.handle(b.session, { type: "say", text: "second" });
    h.hub.handle(a.session, { type: "say", text: "third" });
    await tick();
    for (const port of [a.port, b.port, c.port]) {
      const got = messagesOf(port.take());
      assert.deepEqual(got.map((m) => [m.id, m.nick, m.text]), [
        [2, b.session.nick, "second"],
        [3, a.session.nick, "third"],
      ]);
    }
    assert.equal(h.stats.messagesIn, 3);
    assert.deepEqual((await h.store.recent("lobby", 10)).map((m) => m.text), [
      "hello",
      "second",
      "third",
    ]);
  });
});

Deno.test("hub: say only reaches the room's members; ids are per room", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "say", text: "in lobby" });
    h.hub.handle(a.session, { type: "join", room: "dev" });
    h.hub.handle(a.session, { type: "say", text: "in dev" });
    await tick();
    assert.deepEqual(messagesOf(b.port.take()).map((m) => [m.room, m.id, m.text]), [
      ["lobby", 1, "in lobby"],
    ]);
    assert.deepEqual(messagesOf(a.port.take()).map((m) => [m.room, m.id, m.text]), [
      ["lobby", 1, "in lobby"],
      ["dev", 1, "in dev"],
    ]);
    // An explicit room the client is in, spelled loosely.
    h.hub.handle(a.session, { type: "say", room: "#LOBBY", text: "named" });
    await tick();
    assert.deepEqual(messagesOf(b.port.take()).map((m) => [m.room, m.id, m.text]), [
      ["lobby", 2, "named"],
    ]);
    // A room the client is not in.
    h.hub.handle(b.session, { type: "say", room: "dev", text: "nope", ref: "r" });
    await tick();
    assertError(b.port.take(), "not_in_room", "r");
  });
});

Deno.test("hub: me sends an action", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "me", text: "waves" });
    await tick();
    const [event] = b.port.take();
    assert.deepEqual(event, {
      type: "message",
      message: {
        room: "lobby",
        nick: a.session.nick,
        text: "waves",
        id: 1,
        ts: NOW,
        kind: "action",
      },
    });
    assert.equal(a.port.take()[0], event);
  });
});

Deno.test("hub: say or me with blank text is refused with empty_message", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "say", text: "", ref: 1 });
    assertError(a.port.take(), "empty_message", 1);
    h.hub.handle(a.session, { type: "say", text: "  \t ", ref: 2 });
    assertError(a.port.take(), "empty_message", 2);
    h.hub.handle(a.session, { type: "me", text: " ", ref: 3 });
    assertError(a.port.take(), "empty_message", 3);
    // Only control characters: nothing is left once they are stripped.
    h.hub.handle(a.session, { type: "say", text: "\x1b[31m\x07\x00", ref: 4 });
    assertError(a.port.take(), "empty_message", 4);
    await tick();
    assert.deepEqual(a.port.events, []);
    assert.deepEqual(b.port.events, []);
    assert.equal(h.store.size(), 0);
    assert.equal(h.stats.messagesIn, 0);
  });
});

Deno.test("hub: control characters and escape sequences are stripped before storing", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, {
      type: "say",
      text: "\x1b[31mred\x1b[0m and\x07 \x1b]0;title\x07plain\x00\r\x7f\x9b2J\tend",
    });
    h.hub.handle(a.session, { type: "me", text: "\x1b[2Jclears\x1b[H" });
    await tick();
    const want = ["red and plain\tend", "clears"];
    assert.deepEqual(texts(a.port.take()), want);
    assert.deepEqual(texts(b.port.take()), want);
    assert.deepEqual((await h.store.recent("lobby", 10)).map((m) => m.text), want);
  });
});

// --- history -----------------------------------------------------------------

Deno.test("hub: history returns recent messages, clamps limit, pages with after", async () => {
  await withHub({ historyDefault: 2, historyMax: 3 }, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "join", room: "dev" });
    for (let i = 1; i <= 6; i++) h.hub.handle(a.session, { type: "say", text: `m${i}` });
    await tick();
    a.port.take();

    const ask = async (who: Client, command: Parameters<Hub["handle"]>[1]) => {
      h.hub.handle(who.session, command);
      await tick();
      const events = who.port.take();
      assert.equal(events.length, 1, JSON.stringify(events));
      return events[0];
    };
    const ids = (e: ServerEvent) => {
      assert.equal(e.type, "history", JSON.stringify(e));
      return e.type === "history" ? [e.room, ...e.messages.map((m) => m.id)] : [];
    };

    assert.deepEqual(ids(await ask(a, { type: "history" })), ["dev", 5, 6]);
    assert.deepEqual(ids(await ask(a, { type: "history", limit: 100 })), ["dev", 4, 5, 6]);
    assert.deepEqual(ids(await ask(a, { type: "history", limit: 1 })), ["dev", 6]);
    assert.deepEqual(ids(await ask(a, { type: "history", after: 1 })), ["dev", 2, 3]);
    assert.deepEqual(ids(await ask(a, { type: "history", after: 1, limit: 50 })), [
      "dev",
      2,
      3,
      4,
    ]);
    assert.deepEqual(ids(await ask(a, { type: "history", after: 4, limit: 50 })), ["dev", 5, 6]);
    assert.deepEqual(ids(await ask(a, { type: "history", after: 6 })), ["dev"]);
    const withRef = await ask(a, { type: "history", room: "lobby", ref: "h" });
    assert.deepEqual(withRef, { type: "history", room: "lobby", messages: [], ref: "h" });

    // A room the client is not in, and one that does not exist.
    assert.deepEqual(ids(await ask(b, { type: "history", room: "#DEV", after: 3 })), [
      "dev",
      4,
      5,
    ]);
    assert.deepEqual(ids(await ask(b, { type: "history", room: "nosuch" })), ["nosuch"]);
    assertError([await ask(b, { type: "history", room: "bad name", ref: 1 })], "invalid_room", 1);

    const full = await ask(b, { type: "history", room: "dev", limit: 3 });
    assert.ok(full.type === "history");
    assert.deepEqual(full.messages[0], {
      room: "dev",
      nick: a.session.nick,
      text: "m4",
      id: 4,
      ts: NOW,
      kind: "say",
    });
  });
});
