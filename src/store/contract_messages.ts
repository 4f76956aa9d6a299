/**
 * The history contract's cases on appending: ids (from 1, per room, never
 * given twice, `lastId`), the fields a message keeps, and appends resolving
 * in the order they were called.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ChatMessage } from "../core/types.ts";
import { fill, ids, msg, range, type StoreTest, TS } from "./contract_support.ts";

/** Registers the cases on appending. */
export function messageCases(test: StoreTest): void {
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
}
