/** Direct messages (direct.ts): `msg` to a nick, whatever its case. */
import assert from "node:assert/strict";
import { assertError, clients, NOW, tick, withHub } from "./hub_test_support.ts";

// --- msg ---------------------------------------------------------------------

Deno.test("hub: msg sends one dm to each end, found by nick ignoring case", async () => {
  await withHub({}, async (h) => {
    const [a, b, c] = await clients(h, 3);
    h.hub.handle(b.session, { type: "nick", nick: "Bob" });
    await tick();
    for (const x of [a, b, c]) x.port.take();
    h.hub.handle(a.session, { type: "msg", to: " bOB ", text: "psst\x1b[31m!" });
    const event = { type: "dm", from: a.session.nick, to: "Bob", text: "psst!", ts: NOW };
    const ea = a.port.take();
    const eb = b.port.take();
    assert.deepEqual(ea, [event]);
    assert.deepEqual(eb, [event]);
    assert.deepEqual(c.port.take(), []);
    assert.equal(h.stats.messagesIn, 1);
    await tick();
    assert.deepEqual(a.port.events, []);
    assert.deepEqual(b.port.events, []);
    assert.equal(h.store.size(), 0, "direct messages are not kept in room history");
  });
});

Deno.test("hub: msg to oneself arrives once", async () => {
  await withHub({}, async (h) => {
    const [a] = await clients(h, 1);
    h.hub.handle(a.session, { type: "msg", to: a.session.nick.toUpperCase(), text: "note" });
    assert.deepEqual(a.port.take(), [
      { type: "dm", from: a.session.nick, to: a.session.nick, text: "note", ts: NOW },
    ]);
  });
});

Deno.test("hub: msg to an unknown nick or with blank text is refused", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "msg", to: "nobody", text: "hi", ref: 7 });
    assertError(a.port.take(), "no_such_nick", 7);
    h.hub.handle(a.session, { type: "msg", to: b.session.nick, text: "   ", ref: 8 });
    assertError(a.port.take(), "empty_message", 8);
    assert.deepEqual(b.port.take(), []);
  });
});
