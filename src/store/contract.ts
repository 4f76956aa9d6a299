/**
 * The {@link HistoryStore} contract as a shared test suite: every
 * implementation (memory, SQLite, Redis) calls
 * {@link historyStoreContract} from its own test file and must pass the same
 * cases. They are kept by topic: `contract_messages.ts` (appending, ids),
 * `contract_history.ts` (reading back, paging, retention),
 * `contract_changes.ts` (edit, remove, react), `contract_search.ts` and
 * `contract_records.ts`; `contract_support.ts` holds what they share.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { HistoryStore } from "../core/history.ts";
import { fill, msg, type StoreTest } from "./contract_support.ts";
import { messageCases } from "./contract_messages.ts";
import { historyCases } from "./contract_history.ts";
import { changeCases } from "./contract_changes.ts";
import { searchCases } from "./contract_search.ts";
import { recordCases } from "./contract_records.ts";

/** Makes a store keeping `historySize` messages per room. */
export type MakeStore = (historySize: number) => Promise<HistoryStore> | HistoryStore;

/**
 * Registers the contract's `Deno.test` cases for one implementation. `make`
 * is called once per test with the per-room history size; every test closes
 * its store.
 */
export function historyStoreContract(name: string, make: MakeStore): void {
  const test: StoreTest = (title, fn, size = 1000) => {
    Deno.test(`${name} store: ${title}`, async () => {
      const store = await make(size);
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });
  };

  messageCases(test);
  historyCases(test);
  changeCases(test);
  searchCases(test);
  recordCases(test);

  test("close resolves", async (s) => {
    await fill(s, "dev", 2);
    // The wrapper closes it again in `finally`; here we check a close on its own.
    const other = await make(10);
    await other.append(msg("dev", "x"));
    assert.equal(await other.close(), undefined);
  });
}
