/**
 * History in an embedded SQLite file, through Deno's built-in `node:sqlite`.
 *
 * Durability: a message is delivered only after the transaction holding it
 * has committed (the hub waits for `append`). Appends are written in batches
 * (group commit): everything appended during one turn of the event loop goes
 * into one transaction, so the store costs one commit per turn, not one per
 * message. The journal is WAL with `synchronous=NORMAL`: a commit survives a
 * crash of the server process (`kill -9`); after a power loss the last
 * commits before it may be lost, never the file's consistency.
 *
 * One server per file: the store holds an OS lock on a lock file beside the
 * database (`chat.db.lock`), so a second server pointed at it refuses to start
 * instead of corrupting it. The lock goes with the process, so a crashed
 * server leaves nothing that blocks the next start. The database itself is
 * opened in SQLite's normal (shared) locking mode, so `sqlite3 chat.db
 * ".backup b.db"`, `chat-server backup` and Litestream can read it while the
 * server runs. The schema carries a version number and older files are
 * migrated when opened.
 *
 * Search is an FTS5 index kept beside the messages (see `sqlite_search.ts`).
 * Removed and edited text leaves the file: `secure_delete` zeroes the freed
 * space of tables, and the index takes such text out at once.
 *
 * This file holds the store's operations (which of them first commit the
 * pending batch), its records and its health; the parts do the work:
 * `sqlite_open.ts` (the lock, the connection's settings), `sqlite_schema.ts`
 * (tables and migrations), `sqlite_writes.ts` (group commit, ids, retention,
 * edits, removals, reactions, the kept counts), `sqlite_reads.ts` (recent,
 * pages, one message) and `sqlite_search.ts`.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ChatMessage } from "../core/types.ts";
import type {
  HistoryStore,
  NewMessage,
  ReactResult,
  RecordKind,
  StoreHealth,
} from "../core/history.ts";
import { searchWords } from "./memory.ts";
import { openDatabase } from "./sqlite_open.ts";
import { COLUMNS, MessageReads, type Row } from "./sqlite_reads.ts";
import { SearchIndex } from "./sqlite_search.ts";
import { MessageWrites } from "./sqlite_writes.ts";

/** {@link HistoryStore} in a SQLite file. See the module doc. */
export class SqliteHistoryStore implements HistoryStore {
  readonly #db: DatabaseSync;
  /** Held open (and locked) until close; `null` for `:memory:`. */
  readonly #lock: Deno.FsFile | null;
  readonly #reads: MessageReads;
  readonly #writes: MessageWrites;
  readonly #index: SearchIndex;
  readonly #getRecord: StatementSync;
  readonly #putRecord: StatementSync;
  readonly #deleteRecord: StatementSync;
  #health: StoreHealth = { ok: true };
  #failures = 0;
  #closed = false;

  readonly #onHealth: (health: StoreHealth) => void;

  /**
   * Opens (creating or migrating) the database at `path`; `:memory:` keeps
   * nothing. `onHealth` hears when writes start failing and when they recover.
   * Throws `StoreOpenError` (`sqlite_open.ts`) when the file cannot be used.
   */
  constructor(
    path: string,
    historySize = 10_000,
    onHealth: (health: StoreHealth) => void = () => {},
  ) {
    this.#onHealth = onHealth;
    const { db, lock } = openDatabase(path);
    this.#db = db;
    this.#lock = lock;
    this.#getRecord = this.#db.prepare("SELECT value FROM records WHERE kind = ? AND key = ?");
    this.#putRecord = this.#db.prepare(
      "INSERT INTO records (kind, key, value) VALUES (?, ?, ?) " +
        "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
    );
    this.#deleteRecord = this.#db.prepare("DELETE FROM records WHERE kind = ? AND key = ?");
    this.#reads = new MessageReads(this.#db);
    const report = (error: string | null) => this.#report(error);
    this.#index = new SearchIndex(this.#db, COLUMNS, report);
    this.#writes = new MessageWrites(this.#db, historySize, this.#index, report);
  }

  append(message: NewMessage): Promise<ChatMessage> {
    if (this.#closed) return Promise.reject(new Error("history store is closed"));
    return this.#writes.append(message);
  }

  recent(room: string, limit: number): Promise<ChatMessage[]> {
    return this.#run(() => this.#reads.recent(room, limit));
  }

  after(room: string, after: number, limit: number): Promise<ChatMessage[]> {
    return this.#run(() => this.#reads.after(room, after, limit));
  }

  before(room: string, before: number, limit: number): Promise<ChatMessage[]> {
    return this.#run(() => this.#reads.before(room, before, limit));
  }

  idAtTime(room: string, ts: number): Promise<number> {
    return this.#run(() => {
      this.#writes.commit(); // what was said this turn counts
      return this.#reads.idAtTime(room, ts);
    });
  }

  // What follows first commits the pending batch, so a message appended this turn is found.

  get(room: string, id: number): Promise<ChatMessage | null> {
    return this.#run(() => {
      this.#writes.commit();
      return this.#reads.get(room, id);
    });
  }

  edit(room: string, id: number, text: string, ts: number): Promise<ChatMessage | null> {
    return this.#run(() => {
      this.#writes.commit();
      return this.#writes.edit(room, id, text, ts) ? this.#reads.get(room, id) : null;
    });
  }

  remove(room: string, id: number): Promise<boolean> {
    return this.#run(() => {
      this.#writes.commit();
      return this.#writes.remove(room, id);
    });
  }

  react(
    room: string,
    id: number,
    emoji: string,
    nick: string,
    on: boolean,
  ): Promise<ReactResult | null> {
    return this.#run(() => {
      this.#writes.commit();
      return this.#writes.react(room, id, emoji, nick, on);
    });
  }

  countAfter(room: string, after: number): Promise<number> {
    return this.#run(() => {
      this.#writes.commit();
      return this.#writes.countAfter(room, after);
    });
  }

  search(rooms: string[], query: string, limit: number): Promise<ChatMessage[]> {
    return this.#run(() => {
      const words = searchWords(query);
      const asked = [...new Set(rooms)];
      limit = Math.floor(limit);
      if (words.length === 0 || asked.length === 0 || limit < 1) return [];
      this.#writes.commit();
      return this.#index.search<Row>(asked, words, limit).map((row) => this.#reads.message(row));
    });
  }

  getRecord(kind: RecordKind, key: string): Promise<string | null> {
    return this.#run(() => {
      const row = this.#getRecord.get(kind, key) as { value: string } | undefined;
      return row === undefined ? null : row.value;
    });
  }

  /** Written at once, in its own transaction: records are rare and must not wait for a batch. */
  putRecord(kind: RecordKind, key: string, value: string | null): Promise<void> {
    return this.#run(() => {
      if (value === null) this.#deleteRecord.run(kind, key);
      else this.#putRecord.run(kind, key, value);
    });
  }

  size(): number {
    return this.#writes.kept;
  }

  health(): StoreHealth {
    return this.#health;
  }

  /** Batches that failed to commit since start. */
  get failures(): number {
    return this.#failures;
  }

  /** Failures by operation, for `/metrics` (`chat_store_errors_total`), as the Redis store. */
  errorCounts(): Record<string, number> {
    return { append: this.#failures };
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#writes.close();
    this.#index.close();
    this.#closed = true;
    this.#db.close();
    // Closing the file releases the lock; the file stays (removing it would race a new start).
    this.#lock?.close();
    return Promise.resolve();
  }

  lastId(room: string): Promise<number> {
    try {
      return Promise.resolve(this.#writes.lastId(room));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Hears the writes and the search index: an error when a commit fails
   * (counted; health goes bad), null when one succeeds (health recovers).
   */
  #report(error: string | null): void {
    if (error === null) {
      if (!this.#health.ok) this.#setHealth({ ok: true });
      return;
    }
    this.#failures++;
    if (this.#health.ok) this.#setHealth({ ok: false, error });
  }

  #setHealth(health: StoreHealth): void {
    this.#health = health;
    this.#onHealth(health);
  }

  /** Runs `fn` now, its result or error as a promise (rejected once closed). */
  #run<T>(fn: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("history store is closed"));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
