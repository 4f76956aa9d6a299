import assert from "node:assert/strict";
import { RoomRules } from "./room_rules.ts";

Deno.test("room rules: round trip through the stored record", () => {
  const rules = new RoomRules();
  assert.equal(rules.serialize(), null, "nothing to keep");
  rules.ops.add("alice");
  rules.ops.add("guest-3");
  rules.ban("Bob", "203.0.113.5");
  rules.topic = { text: "hi", by: "alice", ts: 1 };
  rules.lock = "pbkdf2-sha256$1$AA==$AA==";
  const back = RoomRules.parse(rules.serialize());
  assert.deepEqual([...back.ops], ["alice"], "guest operators are not kept");
  assert.deepEqual(back.bans, [{ nick: "bob", address: "203.0.113.5" }]);
  assert.deepEqual(back.topic, rules.topic);
  assert.equal(back.lock, rules.lock);
});

Deno.test("room rules: bans by nick (any case) and by address; no address, no address ban", () => {
  const rules = new RoomRules();
  rules.ban("Mallory", "127.0.0.1");
  rules.ban("eve", "203.0.113.9");
  assert.equal(rules.isBanned("MALLORY", "198.51.100.1"), true);
  assert.equal(rules.isBanned("other", "203.0.113.9"), true);
  assert.equal(rules.isBanned("other", "127.0.0.1"), true);
  // The caller leaves exempt addresses out (loopback, unless --limit-loopback).
  assert.equal(rules.isBanned("other", ""), false);
  assert.equal(rules.unban("EVE"), true);
  assert.equal(rules.unban("eve"), false);
  assert.equal(rules.isBanned("other", "203.0.113.9"), false);
});

Deno.test("room rules: operators follow renames; damaged records give empty rules", () => {
  const rules = new RoomRules();
  rules.ops.add("alice");
  assert.equal(rules.renameOp("Alice", "Alicia"), true);
  assert.equal(rules.isOp("ALICIA"), true);
  assert.equal(rules.isOp("alice"), false);
  assert.equal(rules.renameOp("nobody", "x"), false);
  for (const bad of ["{", "[]", '{"ops":"x","bans":[1,{"nick":2}],"topic":5}', "null"]) {
    const parsed = RoomRules.parse(bad);
    assert.equal(parsed.serialize(), null, bad);
  }
});
