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
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import type { ChatMessage } from "../core/types.ts";
import type {
  HistoryStore,
  NewMessage,
  ReactResult,
  RecordKind,
  StoreHealth,
} from "../core/history.ts";
import { StoreWriteError } from "../core/history.ts";
import { searchWords } from "./memory.ts";
import { type IndexRow, SearchIndex } from "./sqlite_search.ts";

/** The schema version this code writes. */
export const SCHEMA_VERSION = 4;

/**
 * Migrations from each older version to the next. Version 1 (the first
 * release) had no `kind` column and no `rooms` table: ids were taken from
 * `max(id)`, which could repeat once retention had deleted every message.
 * Version 3 adds `records` (registered nicks, room settings). Version 4 adds
 * replies, edits, reactions and the search index (filled from the messages
 * already kept, oldest first).
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
  3: `
    ALTER TABLE messages ADD COLUMN reply_to INTEGER;
    ALTER TABLE messages ADD COLUMN edited INTEGER;
    ALTER TABLE messages ADD COLUMN fts INTEGER;
    CREATE TABLE reactions (
      room TEXT NOT NULL,
      id INTEGER NOT NULL,
      emoji TEXT NOT NULL,
      nick TEXT NOT NULL,
      ts INTEGER NOT NULL,
      PRIMARY KEY (room, id, emoji, nick)
    ) WITHOUT ROWID;
    CREATE VIRTUAL TABLE search USING fts5(
      text, room UNINDEXED, id UNINDEXED,
      content = '', contentless_unindexed = 1, tokenize = 'trigram'
    );
    UPDATE messages SET fts = numbered.n
      FROM (SELECT room, id, row_number() OVER (ORDER BY ts, room, id) AS n FROM messages)
        AS numbered
      WHERE messages.room = numbered.room AND messages.id = numbered.id;
    INSERT INTO search (rowid, text, room, id) SELECT fts, text, room, id FROM messages;
  `,
};

/** The columns a message is read from. */
const COLUMNS = "room, id, nick, text, ts, kind, reply_to, edited";

/** The database could not be opened or is not ours to open (reported at start). */
export class StoreOpenError extends Error {
  override name = "StoreOpenError";
}

interface Pending {
  message: ChatMessage;
  resolve: (message: ChatMessage) => void;
  reject: (err: unknown) => void;
}

/**
 * How long a write waits for a lock held by another process (a backup
 * checkpointing, Litestream) before it fails; WAL readers never block it.
 */
const BUSY_TIMEOUT_MS = 2000;

/** The lock file that keeps a second server off `path` (none for `:memory:`). */
export function lockPathOf(path: string): string | null {
  return path === ":memory:" || path === "" ? null : `${path}.lock`;
}

/**
 * Takes the OS lock (flock) on `path`'s lock file, or throws
 * {@link StoreOpenError} naming the file when another process holds it.
 */
function takeLock(path: string): Deno.FsFile | null {
  const lockPath = lockPathOf(path);
  if (lockPath === null) return null;
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(lockPath, { read: true, write: true, create: true });
  } catch (err) {
    throw new StoreOpenError(
      `cannot open database ${path}: cannot create its lock file ${lockPath}: ${errorText(err)}`,
      { cause: err },
    );
  }
  let locked: boolean;
  try {
    locked = file.tryLockSync(true);
  } catch (err) {
    file.close();
    throw new StoreOpenError(`cannot lock ${lockPath}: ${errorText(err)}`, { cause: err });
  }
  if (!locked) {
    file.close();
    throw new StoreOpenError(
      `cannot open database ${path}: it is in use by another process (another server?): ` +
        `${lockPath} is locked`,
    );
  }
  return file;
}

/** {@link HistoryStore} in a SQLite file. See the module doc. */
export class SqliteHistoryStore implements HistoryStore {
  readonly #db: DatabaseSync;
  /** Held open (and locked) until close; `null` for `:memory:`. */
  readonly #lock: Deno.FsFile | null;
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
  readonly #get: StatementSync;
  readonly #exists: StatementSync;
  readonly #edit: StatementSync;
  readonly #remove: StatementSync;
  readonly #countAfter: StatementSync;
  readonly #trimmed: StatementSync;
  readonly #reactionsOf: StatementSync;
  readonly #react: StatementSync;
  readonly #unreact: StatementSync;
  readonly #removeReactions: StatementSync;
  readonly #trimReactions: StatementSync;
  readonly #index: SearchIndex;
  /** The last reaction's time: reactions are ordered by it, so it never repeats. */
  #reactTs = 0;
  /** Messages kept per room, once counted (every join asks how many a first visit has unread). */
  readonly #roomCounts = new Map<string, number>();
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
    this.#lock = takeLock(path);
    try {
      this.#db = new DatabaseSync(path);
    } catch (err) {
      this.#lock?.close();
      throw new StoreOpenError(`cannot open database ${path}: ${errorText(err)}`, { cause: err });
    }
    try {
      this.#db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.#db.exec("PRAGMA journal_mode = WAL");
      this.#db.exec("PRAGMA synchronous = NORMAL");
      this.#db.exec("PRAGMA secure_delete = FAST");
      this.#db.exec("BEGIN IMMEDIATE; COMMIT");
      this.#migrate();
    } catch (err) {
      this.#db.close();
      this.#lock?.close();
      const text = errorText(err);
      const reason = /locked|busy/i.test(text)
        ? "it is in use by another process (another server?)"
        : /not a database/i.test(text)
        ? "it is not a SQLite database"
        : text;
      throw new StoreOpenError(`cannot open database ${path}: ${reason}`, { cause: err });
    }
    this.#insert = this.#db.prepare(
      "INSERT INTO messages (room, id, nick, text, ts, kind, reply_to, fts) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.#setLastId = this.#db.prepare(
      "INSERT INTO rooms (room, last_id) VALUES (?, ?) " +
        "ON CONFLICT (room) DO UPDATE SET last_id = excluded.last_id",
    );
    this.#getLastId = this.#db.prepare("SELECT last_id FROM rooms WHERE room = ?");
    this.#trim = this.#db.prepare("DELETE FROM messages WHERE room = ? AND id <= ?");
    this.#recent = this.#db.prepare(
      `SELECT ${COLUMNS} FROM messages WHERE room = ? ORDER BY id DESC LIMIT ?`,
    );
    this.#after = this.#db.prepare(
      `SELECT ${COLUMNS} FROM messages WHERE room = ? AND id > ? ORDER BY id LIMIT ?`,
    );
    this.#before = this.#db.prepare(
      `SELECT ${COLUMNS} FROM messages WHERE room = ? AND id < ? ORDER BY id DESC LIMIT ?`,
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
    this.#get = this.#db.prepare(`SELECT ${COLUMNS} FROM messages WHERE room = ? AND id = ?`);
    this.#exists = this.#db.prepare(
      "SELECT text, fts FROM messages WHERE room = ? AND id = ?",
    );
    this.#edit = this.#db.prepare(
      "UPDATE messages SET text = ?, edited = ? WHERE room = ? AND id = ?",
    );
    this.#remove = this.#db.prepare("DELETE FROM messages WHERE room = ? AND id = ?");
    this.#countAfter = this.#db.prepare(
      "SELECT count(*) AS n FROM messages WHERE room = ? AND id > ?",
    );
    this.#trimmed = this.#db.prepare(
      "SELECT fts, text, id FROM messages WHERE room = ? AND id <= ?",
    );
    this.#reactionsOf = this.#db.prepare(
      "SELECT id, emoji, nick FROM reactions WHERE room = ? AND id BETWEEN ? AND ? " +
        "ORDER BY id, ts",
    );
    this.#react = this.#db.prepare(
      "INSERT INTO reactions (room, id, emoji, nick, ts) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT DO NOTHING",
    );
    this.#unreact = this.#db.prepare(
      "DELETE FROM reactions WHERE room = ? AND id = ? AND emoji = ? AND nick = ?",
    );
    this.#removeReactions = this.#db.prepare(
      "DELETE FROM reactions WHERE room = ? AND id = ?",
    );
    this.#trimReactions = this.#db.prepare(
      "DELETE FROM reactions WHERE room = ? AND id <= ?",
    );
    this.#kept = this.#readKept();
    this.#index = new SearchIndex(this.#db, COLUMNS, (error) => {
      if (error === null) {
        if (!this.#health.ok) this.#setHealth({ ok: true });
        return;
      }
      this.#failures++;
      if (this.#health.ok) this.#setHealth({ ok: false, error });
    });
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
    return this.#run(() =>
      this.#messages((this.#recent.all(room, Math.floor(limit)) as Row[]).reverse())
    );
  }

  after(room: string, after: number, limit: number): Promise<ChatMessage[]> {
    return this.#run(() =>
      this.#messages(this.#after.all(room, Math.floor(after), Math.floor(limit)) as Row[])
    );
  }

  before(room: string, before: number, limit: number): Promise<ChatMessage[]> {
    return this.#run(() =>
      this.#messages(
        (this.#before.all(room, Math.ceil(before), Math.floor(limit)) as Row[]).reverse(),
      )
    );
  }

  idAtTime(room: string, ts: number): Promise<number> {
    return this.#run(() => {
      this.#commit(); // what was said this turn counts
      const row = this.#idAtTime.get(room, Math.floor(ts)) as { id: number | null } | undefined;
      return Number(row?.id ?? 0);
    });
  }

  // What follows first commits the pending batch, so a message appended this turn is found.

  get(room: string, id: number): Promise<ChatMessage | null> {
    return this.#run(() => {
      this.#commit();
      return this.#getNow(room, id);
    });
  }

  edit(room: string, id: number, text: string, ts: number): Promise<ChatMessage | null> {
    return this.#run(() => {
      this.#commit();
      const old = this.#exists.get(room, id) as { text: string; fts: number } | undefined;
      if (old === undefined) return null;
      const row: IndexRow = { fts: Number(old.fts), text: old.text, room, id };
      this.#transaction(() => {
        this.#index.change(row, text);
        this.#edit.run(text, Math.floor(ts), room, id);
      });
      this.#index.changed(row.fts, text);
      return this.#getNow(room, id);
    });
  }

  remove(room: string, id: number): Promise<boolean> {
    return this.#run(() => {
      this.#commit();
      const old = this.#exists.get(room, id) as { text: string; fts: number } | undefined;
      if (old === undefined) return false;
      const row: IndexRow = { fts: Number(old.fts), text: old.text, room, id };
      this.#transaction(() => {
        this.#index.change(row, null);
        this.#removeReactions.run(room, id);
        this.#remove.run(room, id);
        this.#setKept.run(String(this.#kept - 1));
      });
      this.#index.changed(row.fts, null);
      const known = this.#roomCounts.get(room);
      if (known !== undefined) this.#roomCounts.set(room, known - 1);
      this.#kept--;
      return true;
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
      this.#commit();
      if (this.#exists.get(room, id) === undefined) return null;
      let changes;
      if (on) {
        // Strictly increasing, so two reactions of one millisecond keep their order.
        this.#reactTs = Math.max(Date.now(), this.#reactTs + 1);
        changes = this.#react.run(room, id, emoji, nick, this.#reactTs).changes;
      } else {
        changes = this.#unreact.run(room, id, emoji, nick).changes;
      }
      return Number(changes) > 0 ? "changed" : "unchanged";
    });
  }

  countAfter(room: string, after: number): Promise<number> {
    return this.#run(() => {
      this.#commit();
      const all = Math.floor(after) <= 0;
      const known = all ? this.#roomCounts.get(room) : undefined;
      if (known !== undefined) return known;
      const n = Number((this.#countAfter.get(room, Math.floor(after)) as { n: number }).n);
      if (all) this.#roomCounts.set(room, n);
      return n;
    });
  }

  search(rooms: string[], query: string, limit: number): Promise<ChatMessage[]> {
    return this.#run(() => {
      const words = searchWords(query);
      const asked = [...new Set(rooms)];
      limit = Math.floor(limit);
      if (words.length === 0 || asked.length === 0 || limit < 1) return [];
      this.#commit();
      return this.#index.search<Row>(asked, words, limit).map((row) => this.#oneMessage(row));
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
    return this.#kept;
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
    this.#commit();
    this.#index.close();
    this.#closed = true;
    this.#db.close();
    // Closing the file releases the lock; the file stays (removing it would race a new start).
    this.#lock?.close();
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
    const added: ChatMessage[] = [];
    const trimmedRows: IndexRow[] = [];
    // Per room: appended less trimmed, for the kept counts once committed.
    const counted = new Map<string, number>();
    try {
      this.#db.exec("BEGIN");
      for (const { message: m } of batch) {
        this.#insert.run(
          m.room,
          m.id,
          m.nick,
          m.text,
          m.ts,
          m.kind,
          m.replyTo ?? null,
          this.#index.rowid(added.length),
        );
        added.push(m);
        rooms.set(m.room, m.id);
        counted.set(m.room, (counted.get(m.room) ?? 0) + 1);
      }
      let trimmed = 0;
      for (const [room, lastId] of rooms) {
        this.#setLastId.run(room, lastId);
        // Retention: a few rows per room per batch, never a long stall.
        const floor = lastId - this.#historySize;
        if (floor < 1) continue;
        for (const row of this.#trimmed.all(room, floor) as Omit<IndexRow, "room">[]) {
          trimmedRows.push({ fts: Number(row.fts), text: row.text, room, id: Number(row.id) });
        }
        this.#trimReactions.run(room, floor);
        const gone = Number(this.#trim.run(room, floor).changes);
        counted.set(room, (counted.get(room) ?? 0) - gone);
        trimmed += gone;
      }
      this.#setKept.run(String(this.#kept + batch.length - trimmed));
      this.#index.handOut(added.length);
      this.#db.exec("COMMIT");
      this.#kept += batch.length - trimmed;
      this.#index.committed(added, trimmedRows);
      for (const [room, n] of counted) {
        const known = this.#roomCounts.get(room);
        if (known !== undefined) this.#roomCounts.set(room, known + n);
      }
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

  /** Runs `fn` now, its result or error as a promise (rejected once closed). */
  #run<T>(fn: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("history store is closed"));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Runs `fn` in one transaction, rolled back if it throws. */
  #transaction(fn: () => void): void {
    this.#db.exec("BEGIN");
    try {
      fn();
      this.#db.exec("COMMIT");
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw err;
    }
  }

  #getNow(room: string, id: number): ChatMessage | null {
    const row = this.#get.get(room, id) as Row | undefined;
    return row === undefined ? null : this.#oneMessage(row);
  }

  #oneMessage(row: Row): ChatMessage {
    return this.#messages([row])[0];
  }

  /** Rows of one room in id order as messages, with their reactions (one range query). */
  #messages(rows: Row[]): ChatMessage[] {
    if (rows.length === 0) return [];
    const first = Number(rows[0].id);
    const last = Number(rows[rows.length - 1].id);
    const found = this.#reactionsOf.all(rows[0].room, first, last) as {
      id: number;
      emoji: string;
      nick: string;
    }[];
    if (found.length === 0) return rows.map((row) => toMessage(row));
    const byId = new Map<number, Map<string, string[]>>();
    for (const { id, emoji, nick } of found) {
      let emojis = byId.get(Number(id));
      if (emojis === undefined) byId.set(Number(id), emojis = new Map());
      const nicks = emojis.get(emoji);
      if (nicks === undefined) emojis.set(emoji, [nick]);
      else nicks.push(nick);
    }
    return rows.map((row) => toMessage(row, byId.get(Number(row.id))));
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

type Row = {
  room: string;
  id: number;
  nick: string;
  text: string;
  ts: number;
  kind: string;
  reply_to: number | null;
  edited: number | null;
};

/** Optional fields are set only when there is something in them (reads compare simply). */
function toMessage(row: Row, reactions?: Map<string, string[]>): ChatMessage {
  const message: ChatMessage = {
    room: row.room,
    id: Number(row.id),
    nick: row.nick,
    text: row.text,
    ts: Number(row.ts),
    kind: row.kind === "action" || row.kind === "notice" ? row.kind : "say",
  };
  if (row.reply_to !== null) message.replyTo = Number(row.reply_to);
  if (row.edited !== null) message.edited = Number(row.edited);
  // fromEntries defines keys: a reaction named "__proto__" stays a reaction.
  if (reactions !== undefined) message.reactions = Object.fromEntries(reactions);
  return message;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
