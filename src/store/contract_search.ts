/**
 * The history contract's cases on `search`: every word in any case and
 * script, newest first, only the rooms asked, every character taken as text
 * (never query syntax), and nothing that was removed, edited away or trimmed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { msg, type StoreTest, TS } from "./contract_support.ts";

/** Registers the search cases. */
export function searchCases(test: StoreTest): void {
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
}
