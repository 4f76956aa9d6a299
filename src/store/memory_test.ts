import assert from "node:assert/strict";
import { historyStoreContract } from "./contract.ts";
import { MemoryHistoryStore } from "./memory.ts";

historyStoreContract("memory", (n) => new MemoryHistoryStore(n));

const TS = 1_700_000_000_000;

Deno.test("memory store: constructor rejects a historySize that is not a positive integer", () => {
  assert.throws(() => new MemoryHistoryStore(0), RangeError);
  assert.throws(() => new MemoryHistoryStore(-1), RangeError);
  assert.throws(() => new MemoryHistoryStore(1.5), RangeError);
  assert.throws(() => new MemoryHistoryStore(Number.NaN), RangeError);
});

Deno.test("memory store: historySize 1 keeps only the newest message", async () => {
  const store = new MemoryHistoryStore(1);
  try {
    for (let i = 1; i <= 3; i++) {
      await store.append({ room: "dev", nick: "a", text: `m${i}`, ts: TS, kind: "say" });
    }
    assert.deepEqual((await store.recent("dev", 10)).map((m) => m.id), [3]);
    assert.deepEqual((await store.after("dev", 0, 10)).map((m) => m.id), [3]);
    assert.equal(store.size(), 1);
  } finally {
    await store.close();
  }
});

Deno.test("memory store: rings growing past their initial capacity keep order", async () => {
  const store = new MemoryHistoryStore(150);
  try {
    for (let i = 1; i <= 200; i++) {
      const m = await store.append({
        room: "dev",
        nick: "a",
        text: `m${i}`,
        ts: TS + i,
        kind: "say",
      });
      assert.equal(m.id, i);
      if (i === 64 || i === 65 || i === 128 || i === 129 || i === 150) {
        const kept = await store.recent("dev", 1000);
        assert.deepEqual(kept.map((k) => k.id), Array.from({ length: i }, (_, j) => j + 1));
      }
    }
    const expected = Array.from({ length: 150 }, (_, j) => j + 51);
    const recent = await store.recent("dev", 1000);
    assert.deepEqual(recent.map((m) => m.id), expected);
    assert.deepEqual(recent.map((m) => m.text), expected.map((i) => `m${i}`));
    assert.deepEqual(recent.map((m) => m.ts), expected.map((i) => TS + i));
    assert.deepEqual((await store.after("dev", 0, 1000)).map((m) => m.id), expected);
    assert.deepEqual((await store.after("dev", 120, 10)).map((m) => m.id), [
      121,
      122,
      123,
      124,
      125,
      126,
      127,
      128,
      129,
      130,
    ]);
    assert.equal(store.size(), 150);
  } finally {
    await store.close();
  }
});

// Indexes come from arithmetic on `after` and `limit`: fractions must not
// turn into holes in the result.
Deno.test({
  name: "memory store: non-integer after and limit do not yield undefined entries",
  fn: async () => {
    const store = new MemoryHistoryStore(10);
    try {
      for (let i = 1; i <= 4; i++) {
        await store.append({ room: "r", nick: "a", text: `m${i}`, ts: TS, kind: "say" });
      }
      assert.deepEqual((await store.after("r", 0.5, 10)).map((m) => m?.id), [1, 2, 3, 4]);
      for (const m of await store.recent("r", 2.5)) assert.notEqual(m, undefined);
    } finally {
      await store.close();
    }
  },
});

Deno.test("memory store: a removed message stays removed while its ring grows", async () => {
  const store = new MemoryHistoryStore(100);
  try {
    const say = (i: number) =>
      store.append({ room: "r", nick: "a", text: `m${i}`, ts: TS + i, kind: "say" });
    for (let i = 1; i <= 4; i++) await say(i); // fills the first ring (capacity 4)
    assert.equal(await store.remove("r", 2), true);
    for (let i = 5; i <= 20; i++) await say(i); // grows to 8, 16, 32
    assert.equal(await store.get("r", 2), null);
    assert.equal((await store.get("r", 3))?.text, "m3");
    assert.deepEqual((await store.after("r", 0, 3)).map((m) => m.id), [1, 3, 4]);
    assert.equal(store.size(), 19);
    assert.equal(await store.countAfter("r", 0), 19);
  } finally {
    await store.close();
  }
});
