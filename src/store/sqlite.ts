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
 * The file is opened with an exclusive lock, so a second server pointed at it
 * refuses to start instead of corrupting it. The schema carries a version
 * number and older files are migrated when opened.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import type { ChatMessage } from "../core/types.ts";
import type { HistoryStore, NewMessage, RecordKind, StoreHealth } from "../core/history.ts";
import { StoreWriteError } from "../core/history.ts";

/** The schema version this code writes. */
export const SCHEMA_VERSION = 3;

/**
 * Migrations from each older version to the next. Version 1 (the first
 * release) had no `kind` column and no `rooms` table: ids were taken from
 * `max(id)`, which could repeat once retention had deleted every message.
 * Version 3 adds `records` (registered nicks, room settings).
 */
const MIGRATIONS: Record<number, string> = {
  0: `
    CREATE TABLE messages (
      room TEXT NOT NULL,
      id INTEGER NOT NULL,
      nick TEXT NOT NULL,
      text TEXT NOT NULL,
      ts INTEGER NOT NULL,
      PRIMARY KEY (room, id)
    ) WITHOUT ROWID;
  `,
  1: `
    ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'say';
    CREATE TABLE rooms (room TEXT PRIMARY KEY, last_id INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO rooms (room, last_id) SELECT room, max(id) FROM messages GROUP BY room;
  `,
  2: `
    CREATE TABLE records (
      kind TEXT NOT NULL,
      key TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (kind, key)
    ) WITHOUT ROWID;
  `,
};

/** The database could not be opened or is not ours to open (reported at start). */
export class StoreOpenError extends Error {
  override name = "StoreOpenError";
}

interface Pending {
  message: ChatMessage;
  resolve: (message: ChatMessage) => void;
  reject: (err: unknown) => void;
}

/** {@link HistoryStore} in a SQLite file. See the module doc. */
export class SqliteHistoryStore implements HistoryStore {
  readonly #db: DatabaseSync;
  readonly #historySize: number;
  readonly #insert: StatementSync;
  readonly #setLastId: StatementSync;
  readonly #getLastId: StatementSync;
  readonly #trim: StatementSync;
  readonly #recent: StatementSync;
  readonly #after: StatementSync;
  readonly #before: StatementSync;
  readonly #idAtTime: StatementSync;
  readonly #getRecord: StatementSync;
  readonly #putRecord: StatementSync;
  readonly #deleteRecord: StatementSync;
  readonly #setKept: StatementSync;
  /** Last id handed out per room (ids come from here, so they are known before the commit). */
  readonly #lastIds = new Map<string, number>();
  #batch: Pending[] = [];
  #scheduled = false;
  #kept: number;
  #health: StoreHealth = { ok: true };
  #failures = 0;
  #closed = false;

  readonly #onHealth: (health: StoreHealth) => void;

  /**
   * Opens (creating or migrating) the database at `path`; `:memory:` keeps
   * nothing. `onHealth` hears when writes start failing and when they recover.
   */
  constructor(
    path: string,
    historySize = 10_000,
    onHealth: (health: StoreHealth) => void = () => {},
  ) {
    this.#historySize = historySize;
    this.#onHealth = onHealth;
    try {
      this.#db = new DatabaseSync(path);
    } catch (err) {
      throw new StoreOpenError(`cannot open database ${path}: ${errorText(err)}`, { cause: err });
    }
    try {
      // The exclusive lock is taken by the first write and held until close.
      this.#db.exec("PRAGMA locking_mode = EXCLUSIVE");
      this.#db.exec("PRAGMA journal_mode = WAL");
      this.#db.exec("PRAGMA synchronous = NORMAL");
      this.#db.exec("BEGIN IMMEDIATE; COMMIT");
      this.#migrate();
    } catch (err) {
      this.#db.close();
      const text = errorText(err);
      const reason = /locked|busy/i.test(text)
        ? "it is in use by another process (another server?)"
        : /not a database/i.test(text)
        ? "it is not a SQLite database"
        : text;
      throw new StoreOpenError(`cannot open database ${path}: ${reason}`, { cause: err });
    }
    this.#insert = this.#db.prepare(
      "INSERT INTO messages (room, id, nick, text, ts, kind) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.#setLastId = this.#db.prepare(
      "INSERT INTO rooms (room, last_id) VALUES (?, ?) " +
        "ON CONFLICT (room) DO UPDATE SET last_id = excluded.last_id",
    );
    this.#getLastId = this.#db.prepare("SELECT last_id FROM rooms WHERE room = ?");
    this.#trim = this.#db.prepare("DELETE FROM messages WHERE room = ? AND id <= ?");
    this.#recent = this.#db.prepare(
      "SELECT room, id, nick, text, ts, kind FROM messages WHERE room = ? " +
        "ORDER BY id DESC LIMIT ?",
    );
    this.#after = this.#db.prepare(
      "SELECT room, id, nick, text, ts, kind FROM messages WHERE room = ? AND id > ? " +
        "ORDER BY id LIMIT ?",
    );
    this.#before = this.#db.prepare(
      "SELECT room, id, nick, text, ts, kind FROM messages WHERE room = ? AND id < ? " +
        "ORDER BY id DESC LIMIT ?",
    );
    this.#idAtTime = this.#db.prepare(
      "SELECT max(id) AS id FROM messages WHERE room = ? AND ts <= ?",
    );
    this.#getRecord = this.#db.prepare("SELECT value FROM records WHERE kind = ? AND key = ?");
    this.#putRecord = this.#db.prepare(
      "INSERT INTO records (kind, key, value) VALUES (?, ?, ?) " +
        "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
    );
    this.#deleteRecord = this.#db.prepare("DELETE FROM records WHERE kind = ? AND key = ?");
    this.#setKept = this.#db.prepare(
      "INSERT INTO meta (key, value) VALUES ('messages', ?) " +
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    this.#kept = this.#readKept();
  }

  /**
   * Messages kept, as counted with every commit: counting the rows instead
   * would read the whole table at every start (seconds for a big file). A file
   * written before the count was kept is counted once.
   */
  #readKept(): number {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = 'messages'").get() as
      | { value: string }
      | undefined;
    if (row !== undefined && /^[0-9]+$/.test(row.value)) return Number(row.value);
    const n = Number(
      (this.#db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number }).n,
    );
    this.#setKept.run(String(n));
    return n;
  }

  append(message: NewMessage): Promise<ChatMessage> {
    if (this.#closed) return Promise.reject(new Error("history store is closed"));
    const numbered: ChatMessage = { ...message, id: this.#nextId(message.room) };
    return new Promise((resolve, reject) => {
      this.#batch.push({ message: numbered, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // After the turn's I/O callbacks: every message of the turn in one commit.
        setImmediate(() => this.#commit());
      }
    });
  }

  recent(room: string, limit: number): Promise<ChatMessage[]> {
    return this.#read(() => (this.#recent.all(room, Math.floor(limit)) as Row[]).reverse());
  }

  after(room: string, after: number, limit: number): Promise<ChatMessage[]> {
    return this.#read(() => this.#after.all(room, Math.floor(after), Math.floor(limit)) as Row[]);
  }

  before(room: string, before: number, limit: number): Promise<ChatMessage[]> {
    return this.#read(() =>
      (this.#before.all(room, Math.ceil(before), Math.floor(limit)) as Row[]).reverse()
    );
  }

  idAtTime(room: string, ts: number): Promise<number> {
    if (this.#closed) return Promise.reject(new Error("history store is closed"));
    try {
      this.#commit(); // what was said this turn counts
      const row = this.#idAtTime.get(room, Math.floor(ts)) as { id: number | null } | undefined;
      return Promise.resolve(Number(row?.id ?? 0));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  getRecord(kind: RecordKind, key: string): Promise<string | null> {
    if (this.#closed) return Promise.reject(new Error("history store is closed"));
    try {
      const row = this.#getRecord.get(kind, key) as { value: string } | undefined;
      return Promise.resolve(row === undefined ? null : row.value);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Written at once, in its own transaction: records are rare and must not wait for a batch. */
  putRecord(kind: RecordKind, key: string, value: string | null): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("history store is closed"));
    try {
      if (value === null) this.#deleteRecord.run(kind, key);
      else this.#putRecord.run(kind, key, value);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  size(): number {
    return this.#kept;
  }

  health(): StoreHealth {
    return this.#health;
  }

  /** Batches that failed to commit since start. */
  get failures(): number {
    return this.#failures;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#commit();
    this.#closed = true;
    this.#db.close();
    return Promise.resolve();
  }

  lastId(room: string): Promise<number> {
    try {
      return Promise.resolve(this.#last(room));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The highest id given in the room, kept in `rooms` across restarts. */
  #last(room: string): number {
    const last = this.#lastIds.get(room);
    if (last !== undefined) return last;
    const row = this.#getLastId.get(room) as { last_id: number } | undefined;
    return row === undefined ? 0 : Number(row.last_id);
  }

  /** Ids continue from the highest ever given in the room. */
  #nextId(room: string): number {
    const next = this.#last(room) + 1;
    this.#lastIds.set(room, next);
    return next;
  }

  /** Writes the batch in one transaction, then settles its promises in order. */
  #commit(): void {
    this.#scheduled = false;
    const batch = this.#batch;
    if (batch.length === 0 || this.#closed) return;
    this.#batch = [];
    const rooms = new Map<string, number>();
    try {
      this.#db.exec("BEGIN");
      for (const { message: m } of batch) {
        this.#insert.run(m.room, m.id, m.nick, m.text, m.ts, m.kind);
        rooms.set(m.room, m.id);
      }
      let trimmed = 0;
      for (const [room, lastId] of rooms) {
        this.#setLastId.run(room, lastId);
        // Retention: a few rows per room per batch, never a long stall.
        trimmed += Number(this.#trim.run(room, lastId - this.#historySize).changes);
      }
      this.#setKept.run(String(this.#kept + batch.length - trimmed));
      this.#db.exec("COMMIT");
      this.#kept += batch.length - trimmed;
      if (!this.#health.ok) this.#setHealth({ ok: true });
    } catch (err) {
      try {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      } catch {
        // The rollback failing too changes nothing for the callers.
      }
      this.#failures++;
      if (this.#health.ok) this.#setHealth({ ok: false, error: errorText(err) });
      for (const p of batch) p.reject(new StoreWriteError(errorText(err), p.message));
      return;
    }
    for (const p of batch) p.resolve(p.message);
  }

  #setHealth(health: StoreHealth): void {
    this.#health = health;
    this.#onHealth(health);
  }

  #read(query: () => Row[]): Promise<ChatMessage[]> {
    if (this.#closed) return Promise.reject(new Error("history store is closed"));
    try {
      return Promise.resolve(query().map(toMessage));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #migrate(): void {
    this.#db.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      | { value: string }
      | undefined;
    let version = row === undefined ? this.#guessVersion() : Number(row.value);
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `schema version ${version} is newer than this server understands (${SCHEMA_VERSION})`,
      );
    }
    while (version < SCHEMA_VERSION) {
      this.#db.exec("BEGIN");
      this.#db.exec(MIGRATIONS[version]);
      version++;
      this.#db.prepare(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) " +
          "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ).run(String(version));
      this.#db.exec("COMMIT");
    }
  }

  /** A file without a version row: new (0), or version 1 if its messages table exists. */
  #guessVersion(): number {
    const table = this.#db.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'messages'",
    ).get();
    return table === undefined ? 0 : 1;
  }
}

type Row = { room: string; id: number; nick: string; text: string; ts: number; kind: string };

function toMessage(row: Row): ChatMessage {
  return {
    room: row.room,
    id: Number(row.id),
    nick: row.nick,
    text: row.text,
    ts: Number(row.ts),
    kind: row.kind === "action" || row.kind === "notice" ? row.kind : "say",
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
