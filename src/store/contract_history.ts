/**
 * The history contract's cases on reading back: `recent`, paging with
 * `after` and `before`, `get`, `idAtTime`, `countAfter`, and retention (the
 * last `historySize` messages per room, and `size`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { fill, ids, msg, range, type StoreTest, TS } from "./contract_support.ts";

/** Registers the cases on reading history back and on retention. */
export function historyCases(test: StoreTest): void {
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

  test("before pages back: the newest messages below an id, oldest first", async (s) => {
    await fill(s, "a", 10);
    assert.deepEqual(ids(await s.before("a", 8, 3)), [5, 6, 7]);
    assert.deepEqual(ids(await s.before("a", 3, 10)), [1, 2]);
    assert.deepEqual(ids(await s.before("a", 1, 10)), []);
    assert.deepEqual(ids(await s.before("a", 100, 2)), [9, 10]);
    assert.deepEqual(await s.before("nowhere", 5, 5), []);
  });

  test("get returns a kept message, null for an unknown id or room", async (s) => {
    const [first, second] = await fill(s, "dev", 2);
    assert.deepEqual(await s.get("dev", 1), first);
    assert.deepEqual(await s.get("dev", 2), second);
    assert.equal(await s.get("dev", 3), null);
    assert.equal(await s.get("dev", 0), null);
    assert.equal(await s.get("nowhere", 1), null);
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
}
