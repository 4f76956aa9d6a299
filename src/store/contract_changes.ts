/**
 * The history contract's cases on changing kept messages: `edit`, `remove`
 * (every read forgets the message; ids are not reused; retention and counts
 * stay right) and `react`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ChatMessage } from "../core/types.ts";
import { fill, ids, msg, type StoreTest, TS } from "./contract_support.ts";

/** Registers the cases on edits, removals and reactions. */
export function changeCases(test: StoreTest): void {
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
}
