/**
 * The {@link HistoryStore} contract as a shared test suite: every
 * implementation (memory, SQLite, Redis) calls
 * {@link historyStoreContract} from its own test file and must pass the same
 * cases.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ChatMessage } from "../core/types.ts";
import type { HistoryStore, NewMessage } from "../core/history.ts";

/** Makes a store keeping `historySize` messages per room. */
export type MakeStore = (historySize: number) => Promise<HistoryStore> | HistoryStore;

const TS = 1_700_000_000_000;

/** A message to append in store tests. */
export function msg(room: string, text: string, extra: Partial<NewMessage> = {}): NewMessage {
  return { room, nick: "alice", text, ts: TS, kind: "say", ...extra };
}

/** Appends `count` messages to `room`, in order, awaiting each. */
async function fill(store: HistoryStore, room: string, count: number): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  for (let i = 1; i <= count; i++) out.push(await store.append(msg(room, `m${i}`)));
  return out;
}

function ids(messages: ChatMessage[]): number[] {
  return messages.map((m) => m.id);
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/**
 * Registers the contract's `Deno.test` cases for one implementation. `make`
 * is called once per test with the per-room history size; every test closes
 * its store.
 */
export function historyStoreContract(name: string, make: MakeStore): void {
  const test = (title: string, fn: (store: HistoryStore) => Promise<void>, size = 1000) => {
    Deno.test(`${name} store: ${title}`, async () => {
      const store = await make(size);
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });
  };

  test("ids start at 1 and increase by one within a room, independently per room", async (s) => {
    assert.equal((await s.append(msg("a", "1"))).id, 1);
    assert.equal((await s.append(msg("a", "2"))).id, 2);
    assert.equal((await s.append(msg("b", "1"))).id, 1);
    assert.equal((await s.append(msg("a", "3"))).id, 3);
    assert.equal((await s.append(msg("b", "2"))).id, 2);
    assert.equal((await s.append(msg("c", "1"))).id, 1);
    assert.deepEqual(ids(await s.recent("a", 10)), [1, 2, 3]);
    assert.deepEqual(ids(await s.recent("b", 10)), [1, 2]);
  });

  test("lastId is the last id given in a room, 0 for none, also past retention", async (s) => {
    assert.equal(await s.lastId("a"), 0);
    await fill(s, "a", 5);
    await s.append(msg("b", "other room"));
    assert.equal(await s.lastId("a"), 5);
    assert.equal(await s.lastId("b"), 1);
    assert.equal(await s.lastId("nowhere"), 0);
  }, 2);

  test("before pages back: the newest messages below an id, oldest first", async (s) => {
    await fill(s, "a", 10);
    assert.deepEqual(ids(await s.before("a", 8, 3)), [5, 6, 7]);
    assert.deepEqual(ids(await s.before("a", 3, 10)), [1, 2]);
    assert.deepEqual(ids(await s.before("a", 1, 10)), []);
    assert.deepEqual(ids(await s.before("a", 100, 2)), [9, 10]);
    assert.deepEqual(await s.before("nowhere", 5, 5), []);
  });

  test("idAtTime finds the last message at or before a time", async (s) => {
    for (const [text, ts] of [["a", 100], ["b", 200], ["c", 200], ["d", 300]] as const) {
      await s.append(msg("t", text, { ts }));
    }
    assert.equal(await s.idAtTime("t", 50), 0);
    assert.equal(await s.idAtTime("t", 100), 1);
    assert.equal(await s.idAtTime("t", 250), 3);
    assert.equal(await s.idAtTime("t", 10_000), 4);
    assert.equal(await s.idAtTime("nowhere", 10_000), 0);
  });

  test("append keeps room, ts, nick, text and kind", async (s) => {
    const said = await s.append(msg("dev", "hello there", { nick: "Bob", ts: TS + 42 }));
    const acted = await s.append(
      msg("dev", "waves\tslowly", { nick: "carol_1", ts: TS + 43, kind: "action" }),
    );
    assert.deepEqual(said, {
      room: "dev",
      nick: "Bob",
      text: "hello there",
      ts: TS + 42,
      kind: "say",
      id: 1,
    });
    assert.deepEqual(acted, {
      room: "dev",
      nick: "carol_1",
      text: "waves\tslowly",
      ts: TS + 43,
      kind: "action",
      id: 2,
    });
    assert.deepEqual(await s.recent("dev", 10), [said, acted]);
    assert.deepEqual(await s.after("dev", 0, 10), [said, acted]);
  });

  test("appends called without awaiting in between resolve in call order", async (s) => {
    const resolved: string[] = [];
    const pending: Promise<ChatMessage>[] = [];
    for (let i = 1; i <= 20; i++) {
      const room = i % 2 === 0 ? "even" : "odd";
      pending.push(
        s.append(msg(room, `m${i}`)).then((m) => {
          resolved.push(m.text);
          return m;
        }),
      );
    }
    const stored = await Promise.all(pending);
    assert.deepEqual(resolved, range(1, 20).map((i) => `m${i}`));
    assert.deepEqual(ids(stored.filter((m) => m.room === "odd")), range(1, 10));
    assert.deepEqual(ids(stored.filter((m) => m.room === "even")), range(1, 10));
    assert.deepEqual(
      (await s.recent("odd", 100)).map((m) => m.text),
      range(1, 10).map((i) => `m${2 * i - 1}`),
    );
  });

  test("recent returns the last n oldest first, fewer when fewer exist", async (s) => {
    const all = await fill(s, "dev", 7);
    await fill(s, "other", 3);
    assert.deepEqual(await s.recent("dev", 3), all.slice(4));
    assert.deepEqual(ids(await s.recent("dev", 1)), [7]);
    assert.deepEqual(await s.recent("dev", 7), all);
    assert.deepEqual(await s.recent("dev", 100), all);
    assert.deepEqual(await s.recent("dev", 0), []);
    assert.deepEqual(ids(await s.recent("other", 100)), [1, 2, 3]);
  });

  test("recent of an unknown room is empty", async (s) => {
    assert.deepEqual(await s.recent("nowhere", 10), []);
    await fill(s, "dev", 2);
    assert.deepEqual(await s.recent("nowhere", 10), []);
  });

  test("after returns exactly the later messages, oldest first, at most limit", async (s) => {
    const all = await fill(s, "dev", 10);
    await fill(s, "other", 4);
    assert.deepEqual(await s.after("dev", 0, 100), all);
    assert.deepEqual(await s.after("dev", 0, 3), all.slice(0, 3));
    assert.deepEqual(await s.after("dev", 4, 100), all.slice(4));
    assert.deepEqual(await s.after("dev", 4, 2), all.slice(4, 6));
    assert.deepEqual(await s.after("dev", 9, 100), all.slice(9));
    assert.deepEqual(await s.after("dev", 10, 100), []);
    assert.deepEqual(await s.after("dev", 11, 100), []);
    assert.deepEqual(await s.after("dev", 1_000_000, 100), []);
    assert.deepEqual(await s.after("nowhere", 0, 100), []);
    assert.deepEqual(ids(await s.after("other", 2, 100)), [3, 4]);
  });

  test("paging with after has no gap and no duplicate", async (s) => {
    await fill(s, "dev", 23);
    const seen: number[] = [];
    let cursor = 0;
    for (;;) {
      const page = await s.after("dev", cursor, 5);
      if (page.length === 0) break;
      assert.ok(page.length <= 5);
      seen.push(...ids(page));
      cursor = page[page.length - 1].id;
    }
    assert.deepEqual(seen, range(1, 23));
  });

  test("retention keeps the last historySize messages per room", async (s) => {
    await fill(s, "dev", 12);
    assert.deepEqual(ids(await s.recent("dev", 100)), range(8, 12));
    assert.deepEqual(ids(await s.recent("dev", 2)), [11, 12]);
    assert.deepEqual(ids(await s.after("dev", 0, 100)), range(8, 12));
    assert.deepEqual(ids(await s.after("dev", 3, 100)), range(8, 12));
    assert.deepEqual(ids(await s.after("dev", 0, 2)), [8, 9]);
    assert.deepEqual(ids(await s.after("dev", 9, 100)), [10, 11, 12]);
    assert.deepEqual((await s.recent("dev", 100)).map((m) => m.text), [
      "m8",
      "m9",
      "m10",
      "m11",
      "m12",
    ]);
    assert.equal((await s.append(msg("dev", "m13"))).id, 13);
    assert.deepEqual(ids(await s.recent("dev", 100)), range(9, 13));
    // Another room has its own allowance.
    await fill(s, "other", 3);
    assert.deepEqual(ids(await s.recent("other", 100)), [1, 2, 3]);
    assert.deepEqual(ids(await s.recent("dev", 100)), range(9, 13));
  }, 5);

  test("size counts kept messages across rooms", async (s) => {
    assert.equal(s.size(), 0);
    await fill(s, "a", 3);
    assert.equal(s.size(), 3);
    await fill(s, "b", 4);
    assert.equal(s.size(), 7);
    await fill(s, "a", 9); // a now holds its last 5
    assert.equal(s.size(), 9);
    await fill(s, "b", 1);
    assert.equal(s.size(), 10);
  }, 5);

  test("records: put, read back, replaced, deleted, separate per kind", async (s) => {
    assert.equal(await s.getRecord("nick", "alice"), null);
    await s.putRecord("nick", "alice", '{"hash":"1"}');
    await s.putRecord("room", "alice", '{"topic":"t"}');
    assert.equal(await s.getRecord("nick", "alice"), '{"hash":"1"}');
    assert.equal(await s.getRecord("room", "alice"), '{"topic":"t"}');
    await s.putRecord("nick", "alice", '{"hash":"2"}');
    assert.equal(await s.getRecord("nick", "alice"), '{"hash":"2"}');
    await s.putRecord("nick", "alice", null);
    assert.equal(await s.getRecord("nick", "alice"), null);
    assert.equal(await s.getRecord("room", "alice"), '{"topic":"t"}');
    await s.putRecord("nick", "nobody", null); // deleting what is not there is fine
    assert.equal(s.size(), 0, "records are not messages");
  });

  test("close resolves", async (s) => {
    await fill(s, "dev", 2);
    // The wrapper closes it again in `finally`; here we check a close on its own.
    const other = await make(10);
    await other.append(msg("dev", "x"));
    assert.equal(await other.close(), undefined);
  });
}
