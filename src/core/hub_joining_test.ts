/**
 * Joining a room (joining.ts): names, the current room, the history replayed
 * before any live message, and quiet rooms that count joins instead of
 * announcing each.
 */
import assert from "node:assert/strict";
import { MemoryHistoryStore } from "../store/memory.ts";
import {
  assertError,
  type Client,
  clients,
  type Harness,
  messagesOf,
  shape,
  texts,
  tick,
  withHub,
} from "./hub_test_support.ts";
import type { ChatMessage } from "./types.ts";

// --- join --------------------------------------------------------------------

Deno.test("hub: join normalizes the name, creates the room and makes it current", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "join", room: " #Dev ", ref: "j" });
    await tick();
    assert.deepEqual(a.port.take(), [
      { type: "joined", room: "dev", nick: a.session.nick, ref: "j", read: 0, unread: 0 },
      { type: "notice", text: "you are an operator of dev", op: "dev" },
    ]);
    assert.deepEqual(b.port.take(), []);
    assert.equal(a.session.current?.name, "dev");
    assert.equal(h.hub.roomCount, 2);

    h.hub.handle(b.session, { type: "join", room: "DEV" });
    await tick();
    const joined = { type: "joined", room: "dev", nick: b.session.nick };
    assert.deepEqual(a.port.take(), [joined]);
    assert.deepEqual(b.port.take(), [{ ...joined, ref: undefined, read: 0, unread: 0 }]);
  });
});

Deno.test("hub: join refuses invalid room names", async () => {
  await withHub({}, async (h) => {
    const [a] = await clients(h, 1);
    for (const bad of ["", "#", "two words", "x".repeat(65), "dév", "a.b", "##dev", "a/b"]) {
      h.hub.handle(a.session, { type: "join", room: bad, ref: bad });
      assertError(a.port.take(), "invalid_room", bad);
    }
    assert.equal(h.hub.roomCount, 1);
    assert.equal(a.session.current?.name, "lobby");
    h.hub.handle(a.session, { type: "join", room: "y".repeat(64) });
    await tick();
    assert.equal(a.session.current?.name, "y".repeat(64));
  });
});

Deno.test("hub: joining a room already joined makes it current without a new joined", async () => {
  await withHub({}, async (h) => {
    const [a, b] = await clients(h, 2);
    h.hub.handle(a.session, { type: "join", room: "dev" });
    await tick();
    a.port.take();
    h.hub.handle(a.session, { type: "join", room: "#LOBBY", ref: 3 });
    assert.deepEqual(a.port.take(), [{ type: "current", room: "lobby", ref: 3 }]);
    assert.deepEqual(b.port.take(), []);
    assert.equal(a.session.current?.name, "lobby");
    h.hub.handle(a.session, { type: "say", text: "back in lobby" });
    await tick();
    assert.deepEqual(messagesOf(b.port.take()).map((m) => m.room), ["lobby"]);
  });
});

// --- replay on join ----------------------------------------------------------

/** Two clients; the first is in `dev` and has said m1, m2, m3 there (its own events taken). */
async function devWithThree(h: Harness): Promise<Client[]> {
  const [a, b] = await clients(h, 2);
  h.hub.handle(a.session, { type: "join", room: "dev" });
  for (const t of ["m1", "m2", "m3"]) h.hub.handle(a.session, { type: "say", text: t });
  await tick();
  a.port.take();
  return [a, b];
}

Deno.test("hub: join replays the last historyOnJoin messages", async () => {
  await withHub({ historyOnJoin: 2 }, async (h) => {
    const [a, b] = await devWithThree(h);

    h.hub.handle(b.session, { type: "join", room: "dev" });
    await tick();
    const events = b.port.take();
    assert.deepEqual(shape(events), [`joined dev ${b.session.nick}`, "history dev m2,m3"]);
    const history = events[1];
    assert.ok(history.type === "history");
    assert.deepEqual(history.messages.map((m) => m.id), [2, 3]);
    assert.deepEqual(shape(a.port.take()), [`joined dev ${b.session.nick}`]);
  });
});

Deno.test("hub: a message said as a client joins reaches it once, in order", async () => {
  await withHub({ historyOnJoin: 2 }, async (h) => {
    const [a, b] = await devWithThree(h);

    // b asks to join, and a says something while b's read marker is looked
    // up: b is not a member yet, so it is history for b.
    h.hub.handle(b.session, { type: "join", room: "dev" });
    h.hub.handle(a.session, { type: "say", text: "live" });
    await tick();
    assert.deepEqual(shape(b.port.take()), [`joined dev ${b.session.nick}`, "history dev m3,live"]);
    assert.deepEqual(shape(a.port.take()), ["message dev live", `joined dev ${b.session.nick}`]);

    // Said just before the join: history too, once.
    const [c] = await clients(h, 1);
    h.hub.handle(a.session, { type: "say", text: "just before" });
    h.hub.handle(c.session, { type: "join", room: "dev" });
    await tick();
    assert.deepEqual(shape(c.port.take()), [
      `joined dev ${c.session.nick}`,
      "history dev live,just before",
    ]);
  });
});

/** A memory store whose `recent` answers only when released, read then or at call time. */
class GatedStore extends MemoryHistoryStore {
  gated = false;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly readAtCall: boolean) {
    super(100);
  }

  override recent(room: string, limit: number): Promise<ChatMessage[]> {
    if (!this.gated) return super.recent(room, limit);
    const early = this.readAtCall ? super.recent(room, limit) : null;
    return new Promise((resolve) => {
      this.#waiting.push(() => resolve(early ?? super.recent(room, limit)));
    });
  }

  release(): void {
    for (const go of this.#waiting.splice(0)) go();
  }
}

for (const readAtCall of [true, false]) {
  Deno.test(`hub: messages held during a slow replay come after it, once (read ${readAtCall ? "at call" : "late"})`, async () => {
    const store = new GatedStore(readAtCall);
    await withHub({ historyOnJoin: 2 }, async (h) => {
      const [a, b] = await clients(h, 2);
      h.hub.handle(a.session, { type: "join", room: "dev" });
      for (const t of ["m1", "m2"]) h.hub.handle(a.session, { type: "say", text: t });
      await tick();
      a.port.take();

      store.gated = true;
      h.hub.handle(b.session, { type: "join", room: "dev" });
      await tick(); // a member now (its read marker looked up); its replay is being read
      h.hub.handle(a.session, { type: "say", text: "l1" });
      h.hub.handle(a.session, { type: "say", text: "l2" });
      h.hub.handle(b.session, { type: "say", text: "after join" });
      await tick();
      assert.deepEqual(shape(b.port.take()), [`joined dev ${b.session.nick}`]);
      assert.deepEqual(texts(a.port.take()), ["l1", "l2"]);

      store.release();
      await tick();
      // Read late, the last two messages are the live ones: they come live, not as history.
      const history = readAtCall ? ["history dev m1,m2"] : [];
      const live = ["message dev l1", "message dev l2"];
      assert.deepEqual(shape(b.port.take()), [...history, ...live, "message dev after join"]);
      assert.deepEqual(texts(a.port.take()), ["after join"]);
    }, store);
  });
}

// With a store that reads later than the join (SQLite, Redis), more live
// messages may arrive during the replay than `historyOnJoin`: each must still
// arrive exactly once, in order, after the history that preceded the join.
Deno.test({
  name: "hub: live messages held during a late-read replay are all delivered once",
  fn: async () => {
    const store = new GatedStore(false);
    await withHub({ historyOnJoin: 2 }, async (h) => {
      const [a, b] = await clients(h, 2);
      h.hub.handle(a.session, { type: "join", room: "dev" });
      h.hub.handle(a.session, { type: "say", text: "m1" });
      await tick();
      store.gated = true;
      h.hub.handle(b.session, { type: "join", room: "dev" });
      await tick(); // a member now; its replay is being read
      for (const t of ["l1", "l2", "l3"]) h.hub.handle(a.session, { type: "say", text: t });
      await tick();
      b.port.take();
      store.release();
      await tick();
      const events = b.port.take();
      const seen = events.flatMap((e) =>
        e.type === "history" ? e.messages.map((m) => m.text) : texts([e])
      );
      assert.deepEqual(seen.filter((t) => t.startsWith("l")), ["l1", "l2", "l3"]);
    }, store);
  },
});

// --- quiet rooms -------------------------------------------------------------

Deno.test("hub: a quiet room summarizes joins and leaves instead of announcing each", async () => {
  await withHub({ quietRoomSize: 3, summaryIntervalMs: 20 }, async (h) => {
    const members = await clients(h, 3); // lobby at the quiet size: still announced
    const watcher = members[0];
    watcher.port.take();
    const late = [h.connect(), h.connect()]; // 4th and 5th member: quiet
    await tick();
    assert.deepEqual(watcher.port.take(), [], "no per-join notice in a quiet room");
    // The joiner itself is still told it joined.
    assert.equal(late[0].port.events.filter((e) => e.type === "joined").length, 1);
    h.hub.disconnect(late[1].session);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const summaries = watcher.port.take().filter((e) => e.type === "summary");
    assert.deepEqual(summaries, [{
      type: "summary",
      room: "lobby",
      joined: 2,
      left: 1,
      seconds: 0,
    }]);
    // Nothing new: no more summaries, and the timer stops.
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(watcher.port.take(), []);
    h.hub.shutdown();
  });
});
