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
import type { HistoryStore, NewMessage, RecordKind } from "../core/history.ts";

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

  test("records of every kind, resume tokens included, keep their own keys", async (s) => {
    const kinds: RecordKind[] = ["nick", "room", "dms", "read", "joined", "token", "tokens"];
    for (const kind of kinds) await s.putRecord(kind, "k", JSON.stringify({ kind }));
    for (const kind of kinds) assert.equal(await s.getRecord(kind, "k"), JSON.stringify({ kind }));
    const hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    await s.putRecord("token", hash, '{"nick":"alice","ts":1,"reg":1}');
    await s.putRecord("tokens", "alice", JSON.stringify([hash]));
    assert.equal(await s.getRecord("token", hash), '{"nick":"alice","ts":1,"reg":1}');
    await s.putRecord("token", hash, null);
    assert.equal(await s.getRecord("token", hash), null);
    assert.equal(await s.getRecord("tokens", "alice"), JSON.stringify([hash]));
  });

  test("get returns a kept message, null for an unknown id or room", async (s) => {
    const [first, second] = await fill(s, "dev", 2);
    assert.deepEqual(await s.get("dev", 1), first);
    assert.deepEqual(await s.get("dev", 2), second);
    assert.equal(await s.get("dev", 3), null);
    assert.equal(await s.get("dev", 0), null);
    assert.equal(await s.get("nowhere", 1), null);
  });

  test("get is null for a message retention took", async (s) => {
    await fill(s, "dev", 4);
    assert.equal(await s.get("dev", 1), null);
    assert.equal(await s.get("dev", 2), null);
    assert.equal((await s.get("dev", 3))?.text, "m3");
    assert.equal(await s.edit("dev", 1, "late", TS + 1), null);
    assert.equal(await s.react("dev", 2, "👍", "bob", true), null);
    assert.equal(await s.remove("dev", 1), false);
    assert.equal(s.size(), 2);
  }, 2);

  test("replyTo is kept; replyTo, edited and reactions are absent when not set", async (s) => {
    const plain = await s.append(msg("dev", "question"));
    const reply = await s.append(msg("dev", "answer", { replyTo: plain.id }));
    assert.equal(reply.replyTo, 1);
    for (const read of [await s.recent("dev", 10), await s.after("dev", 0, 10)]) {
      assert.deepEqual(read, [plain, reply]);
      assert.ok(!("replyTo" in read[0]) && !("edited" in read[0]) && !("reactions" in read[0]));
      assert.ok(!("edited" in read[1]) && !("reactions" in read[1]));
    }
    assert.deepEqual(await s.before("dev", 3, 10), [plain, reply]);
    assert.deepEqual(await s.get("dev", 2), reply);
    assert.equal((await s.search(["dev"], "answer", 10))[0].replyTo, 1);
  });

  test("edit replaces the text, sets edited, and every read sees it", async (s) => {
    await s.append(msg("dev", "before it"));
    const original = await s.append(msg("dev", "teh typo", { nick: "bob", replyTo: 1 }));
    await s.append(msg("dev", "after it"));
    const edited = await s.edit("dev", 2, "the typo", TS + 500);
    const expected: ChatMessage = { ...original, text: "the typo", edited: TS + 500 };
    assert.deepEqual(edited, expected);
    assert.deepEqual(await s.get("dev", 2), expected);
    assert.deepEqual((await s.recent("dev", 10))[1], expected);
    assert.deepEqual((await s.after("dev", 1, 1))[0], expected);
    assert.deepEqual((await s.before("dev", 3, 1))[0], expected);
    const again = await s.edit("dev", 2, "the typo, fixed twice", TS + 900);
    assert.deepEqual(again, { ...expected, text: "the typo, fixed twice", edited: TS + 900 });
    assert.equal((await s.get("dev", 2))?.text, "the typo, fixed twice");
    assert.equal(await s.edit("dev", 9, "nothing here", TS), null);
    assert.equal(await s.edit("nowhere", 1, "nothing here", TS), null);
    assert.deepEqual((await s.recent("dev", 10)).map((m) => m.text), [
      "before it",
      "the typo, fixed twice",
      "after it",
    ]);
  });

  test("remove deletes a message from every read; ids are not reused", async (s) => {
    await fill(s, "dev", 5);
    await s.append(msg("other", "m3 elsewhere"));
    assert.equal(s.size(), 6);
    assert.equal(await s.countAfter("dev", 0), 5);
    assert.equal(await s.remove("dev", 3), true);
    assert.equal(s.size(), 5);
    assert.equal(await s.get("dev", 3), null);
    assert.deepEqual(ids(await s.recent("dev", 10)), [1, 2, 4, 5]);
    assert.deepEqual(ids(await s.recent("dev", 3)), [2, 4, 5]);
    assert.deepEqual(ids(await s.after("dev", 0, 10)), [1, 2, 4, 5]);
    assert.deepEqual(ids(await s.after("dev", 2, 1)), [4]);
    assert.deepEqual(ids(await s.before("dev", 5, 2)), [2, 4]);
    assert.deepEqual(ids(await s.before("dev", 4, 10)), [1, 2]);
    assert.equal(await s.countAfter("dev", 0), 4);
    assert.equal(await s.countAfter("dev", 2), 2);
    assert.deepEqual(await s.search(["dev"], "m3", 10), []);
    assert.deepEqual((await s.search(["dev", "other"], "m3", 10)).map((m) => m.room), ["other"]);
    assert.equal(await s.remove("dev", 3), false, "removed once");
    assert.equal(await s.remove("dev", 99), false);
    assert.equal(await s.remove("nowhere", 1), false);
    assert.equal(await s.edit("dev", 3, "back?", TS), null);
    assert.equal(await s.react("dev", 3, "👍", "bob", true), null);
    // The last one too: the next append does not take its id.
    assert.equal(await s.remove("dev", 5), true);
    assert.equal(await s.lastId("dev"), 5);
    assert.equal((await s.append(msg("dev", "m6"))).id, 6);
    assert.deepEqual(ids(await s.after("dev", 0, 10)), [1, 2, 4, 6]);
    assert.equal(s.size(), 5);
  });

  test("a message removed just after its append is gone", async (s) => {
    const pending = s.append(msg("dev", "oops"));
    assert.equal(await s.remove("dev", 1), true);
    assert.equal((await pending).id, 1);
    assert.equal(await s.get("dev", 1), null);
    assert.equal(s.size(), 0);
  });

  test("retention and size stay right around removed messages", async (s) => {
    await fill(s, "dev", 5);
    assert.equal(await s.remove("dev", 3), true);
    assert.equal(s.size(), 4);
    await s.append(msg("dev", "m6")); // takes 1
    await s.append(msg("dev", "m7")); // takes 2
    assert.equal(s.size(), 4);
    assert.deepEqual(ids(await s.recent("dev", 10)), [4, 5, 6, 7]);
    await s.append(msg("dev", "m8")); // its window starts at 4: the removed 3 was already gone
    assert.equal(s.size(), 5);
    assert.deepEqual(ids(await s.recent("dev", 10)), [4, 5, 6, 7, 8]);
    assert.equal(await s.countAfter("dev", 0), 5);
  }, 5);

  test("idAtTime skips removed messages", async (s) => {
    for (
      const [text, ts] of [["a", 100], ["b", 200], ["c", 300], ["d", 400], ["e", 500]] as const
    ) {
      await s.append(msg("t", text, { ts }));
    }
    for (const id of [1, 3, 4]) assert.equal(await s.remove("t", id), true);
    assert.equal(await s.idAtTime("t", 150), 0);
    assert.equal(await s.idAtTime("t", 250), 2);
    assert.equal(await s.idAtTime("t", 450), 2);
    assert.equal(await s.idAtTime("t", 500), 5);
    assert.equal(await s.remove("t", 5), true);
    assert.equal(await s.idAtTime("t", 10_000), 2);
  });

  test("reactions of any text keep their names and order", async (s) => {
    await s.append(msg("dev", "x"));
    const names = ['"quoted"', "back\\slash", "a/b", "__proto__", "42", "ü", "{}", "[]"];
    for (const name of names) assert.equal(await s.react("dev", 1, name, 'n"ick', true), "changed");
    const reactions = (await s.get("dev", 1))!.reactions!;
    assert.deepEqual(Object.keys(reactions).sort(), [...names].sort());
    for (const name of names) assert.deepEqual(reactions[name], ['n"ick']);
    assert.equal(Object.getPrototypeOf(reactions), Object.prototype);
    assert.equal(await s.react("dev", 1, "__proto__", 'n"ick', false), "changed");
    assert.equal(await s.react("dev", 1, "__proto__", 'n"ick', false), "unchanged");
  });

  test("react adds and takes back one nick's reaction, once per nick and emoji", async (s) => {
    await fill(s, "dev", 2);
    assert.equal(await s.react("dev", 1, "👍", "ann", true), "changed");
    assert.deepEqual((await s.get("dev", 1))?.reactions, { "👍": ["ann"] });
    assert.equal(await s.react("dev", 1, "👍", "ann", true), "unchanged");
    assert.equal(await s.react("dev", 1, "👍", "bob", true), "changed");
    assert.equal(await s.react("dev", 1, "🎉", "ann", true), "changed");
    assert.equal(await s.react("dev", 1, "constructor", "cy", true), "changed");
    const reacted = await s.get("dev", 1);
    assert.deepEqual(reacted?.reactions, {
      "👍": ["ann", "bob"],
      "🎉": ["ann"],
      "constructor": ["cy"],
    });
    assert.deepEqual(Object.keys(reacted!.reactions!), ["👍", "🎉", "constructor"]);
    for (const read of [await s.recent("dev", 10), await s.after("dev", 0, 10)]) {
      assert.deepEqual(read[0], reacted);
      assert.ok(!("reactions" in read[1]));
    }
    assert.deepEqual((await s.before("dev", 2, 10))[0], reacted);
    assert.deepEqual((await s.search(["dev"], "m1", 10))[0], reacted);
    assert.equal(await s.react("dev", 1, "👍", "ann", false), "changed");
    assert.deepEqual((await s.get("dev", 1))?.reactions?.["👍"], ["bob"]);
    assert.equal(await s.react("dev", 1, "👍", "ann", false), "unchanged");
    assert.equal(await s.react("dev", 1, "🙃", "ann", false), "unchanged");
    assert.equal(await s.react("dev", 9, "👍", "ann", true), null);
    assert.equal(await s.react("nowhere", 1, "👍", "ann", false), null);
    // A nick that comes back goes to the end of the line.
    assert.equal(await s.react("dev", 1, "👍", "ann", true), "changed");
    assert.deepEqual((await s.get("dev", 1))?.reactions?.["👍"], ["bob", "ann"]);
    const edited = await s.edit("dev", 1, "m1 edited", TS + 1);
    assert.deepEqual(edited?.reactions, {
      "👍": ["bob", "ann"],
      "🎉": ["ann"],
      "constructor": ["cy"],
    });
    for (
      const [emoji, nick] of [["👍", "bob"], ["👍", "ann"], ["🎉", "ann"], ["constructor", "cy"]]
    ) {
      assert.equal(await s.react("dev", 1, emoji, nick, false), "changed");
    }
    const bare = await s.get("dev", 1);
    assert.ok(bare !== null && !("reactions" in bare), "no reactions: no field");
    assert.ok(!("reactions" in (await s.recent("dev", 1))[0]));
  });

  test("countAfter counts the kept messages above an id", async (s) => {
    assert.equal(await s.countAfter("dev", 0), 0);
    await fill(s, "dev", 8);
    await fill(s, "other", 2);
    assert.equal(await s.countAfter("dev", 0), 5, "retention");
    assert.equal(await s.countAfter("dev", 2), 5);
    assert.equal(await s.countAfter("dev", 5), 3);
    assert.equal(await s.countAfter("dev", 7), 1);
    assert.equal(await s.countAfter("dev", 8), 0);
    assert.equal(await s.countAfter("dev", 100), 0);
    assert.equal(await s.countAfter("other", 0), 2);
    assert.equal(await s.countAfter("nowhere", 0), 0);
  }, 5);

  test("search: every word, any case, newest first, only the rooms asked", async (s) => {
    let ts = TS;
    const say = (room: string, text: string) => s.append(msg(room, text, { ts: ++ts }));
    await say("dev", "Apple pie for lunch");
    await say("dev", "an apple a day");
    await say("ops", "APPLE PIE is served");
    await say("dev", "pie charts and apples");
    await say("hidden", "apple pie in a room not asked");
    await say("dev", "nothing about fruit");
    const found = (q: string, rooms = ["dev", "ops"], limit = 10) =>
      s.search(rooms, q, limit).then((ms) => ms.map((m) => `${m.room}/${m.id}`));
    assert.deepEqual(await found("apple pie"), ["dev/3", "ops/1", "dev/1"]);
    assert.deepEqual(await found("  PIE   aPPle "), ["dev/3", "ops/1", "dev/1"]);
    assert.deepEqual(await found("apple"), ["dev/3", "ops/1", "dev/2", "dev/1"]);
    assert.deepEqual(await found("apple", ["dev", "ops"], 2), ["dev/3", "ops/1"]);
    assert.deepEqual(await found("apple pie", ["dev"]), ["dev/3", "dev/1"]);
    assert.deepEqual(await found("apple pie", ["dev", "dev"]), ["dev/3", "dev/1"]);
    assert.deepEqual(await found("apple pie", ["hidden"]), ["hidden/1"]);
    assert.deepEqual(await found("apple pie", ["nowhere"]), []);
    assert.deepEqual(await found("apple pie", []), []);
    assert.deepEqual(await found("apple tart"), []);
    assert.deepEqual(await found("an"), ["dev/3", "dev/2"], "short words too");
    assert.deepEqual(await found("a pie"), ["dev/3", "ops/1", "dev/1"]);
    assert.deepEqual(await found(" \t "), [], "no words: nothing");
    const [first] = await s.search(["dev"], "lunch", 1);
    assert.deepEqual(first, { ...msg("dev", "Apple pie for lunch", { ts: TS + 1 }), id: 1 });
  });

  test("search: Japanese and other scripts, short words included", async (s) => {
    await s.append(msg("jp", "明日の会議は東京で"));
    await s.append(msg("jp", "京都は遠い"));
    await s.append(msg("jp", "Привет, МИР"));
    await s.append(msg("jp", "Ça va? Été"));
    const found = (q: string) => s.search(["jp"], q, 10).then((ms) => ms.map((m) => m.id));
    assert.deepEqual(await found("東京"), [1]);
    assert.deepEqual(await found("会議は東"), [1]);
    assert.deepEqual(await found("明日 東京"), [1]);
    assert.deepEqual(await found("京"), [2, 1]);
    assert.deepEqual(await found("京都は"), [2]);
    assert.deepEqual(await found("大阪"), []);
    assert.deepEqual(await found("東京 大阪"), []);
    assert.deepEqual(await found("мир"), [3]);
    assert.deepEqual(await found("привет"), [3]);
    assert.deepEqual(await found("ça"), [4]);
    assert.deepEqual(await found("été"), [4]);
  });

  test("search: every character is text, never query syntax", async (s) => {
    const texts = [
      'she said "hi" (twice)',
      "star* and col:umn",
      "NEAR the end AND more",
      "a-b ^top 100% a_b c\\d",
      "plain words only",
    ];
    for (const t of texts) await s.append(msg("dev", t));
    const found = (q: string) => s.search(["dev"], q, 10).then((ms) => ms.map((m) => m.id));
    assert.deepEqual(await found('"hi"'), [1]);
    assert.deepEqual(await found('"'), [1]);
    assert.deepEqual(await found('"hi'), [1]);
    assert.deepEqual(await found("(twice)"), [1]);
    assert.deepEqual(await found("("), [1]);
    assert.deepEqual(await found("*"), [2]);
    assert.deepEqual(await found("star*"), [2]);
    assert.deepEqual(await found(":"), [2]);
    assert.deepEqual(await found("col:umn"), [2]);
    assert.deepEqual(await found("text:plain"), []);
    assert.deepEqual(await found("NEAR"), [3]);
    assert.deepEqual(await found("near end"), [3]);
    assert.deepEqual(await found("NEAR(the"), []);
    assert.deepEqual(await found("AND"), [3, 2], "as a word: in 'AND' and in 'and'");
    assert.deepEqual(await found("plain AND words"), [], "AND is a word too");
    assert.deepEqual(await found("OR"), [5, 3], "in 'words' and 'more'");
    assert.deepEqual(await found("NOT"), []);
    assert.deepEqual(await found("-"), [4]);
    assert.deepEqual(await found("-plain"), []);
    assert.deepEqual(await found("^"), [4]);
    assert.deepEqual(await found("^top"), [4]);
    assert.deepEqual(await found("%"), [4]);
    assert.deepEqual(await found("100%"), [4]);
    assert.deepEqual(await found("_"), [4]);
    assert.deepEqual(await found("a_b"), [4]);
    assert.deepEqual(await found("\\"), [4]);
    assert.deepEqual(await found("c\\d"), [4]);
    assert.deepEqual(await found("%%"), []);
    assert.deepEqual(await found("'"), []);
    assert.deepEqual(await found("\0 {} [] ;"), []);
    assert.deepEqual(await found(`" OR "plain`), []);
  });

  test("search: removed messages are not found; edited ones by their new words", async (s) => {
    await s.append(msg("dev", "secret launch code"));
    await s.append(msg("dev", "launch party friday"));
    await s.append(msg("dev", "launch lunch"));
    assert.equal(await s.remove("dev", 1), true);
    assert.deepEqual(await s.search(["dev"], "secret", 10), []);
    assert.deepEqual((await s.search(["dev"], "launch", 10)).map((m) => m.id), [3, 2]);
    await s.edit("dev", 2, "meeting on monday", TS + 1);
    assert.deepEqual(await s.search(["dev"], "party", 10), []);
    assert.deepEqual(await s.search(["dev"], "launch friday", 10), []);
    const [edited] = await s.search(["dev"], "monday", 10);
    assert.deepEqual(edited, {
      ...msg("dev", "meeting on monday"),
      id: 2,
      edited: TS + 1,
    });
    assert.deepEqual((await s.search(["dev"], "on", 10)).map((m) => m.id), [2]);
    assert.deepEqual((await s.search(["dev"], "launch", 10)).map((m) => m.id), [3]);
  });

  test("search does not find what retention took", async (s) => {
    for (let i = 1; i <= 6; i++) await s.append(msg("dev", `needle ${i}`));
    assert.deepEqual((await s.search(["dev"], "needle", 10)).map((m) => m.id), [6, 5, 4]);
  }, 3);

  test("close resolves", async (s) => {
    await fill(s, "dev", 2);
    // The wrapper closes it again in `finally`; here we check a close on its own.
    const other = await make(10);
    await other.append(msg("dev", "x"));
    assert.equal(await other.close(), undefined);
  });
}
