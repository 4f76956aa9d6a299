/**
 * The history contract's cases on records, the small JSON texts by kind and
 * key kept beside the messages (registered nicks, room settings, DM
 * partners, read markers, resume tokens...).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { RecordKind } from "../core/history.ts";
import type { StoreTest } from "./contract_support.ts";

/** Registers the record cases. */
export function recordCases(test: StoreTest): void {
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
}
