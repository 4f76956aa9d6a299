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
 * Search is an FTS5 index with the trigram tokenizer (any script, no word
 * splitting needed), kept off the append path: a message is indexed in a
 * later transaction of a few hundred (a row costs 5x less in the index that
 * way, which keeps full-speed fan-out within a few percent of no index), at
 * the latest a second after it was said, and every search first indexes what
 * is waiting, so it always sees every kept message. What was written before
 * a crash and not yet indexed is indexed when the file is opened again (the
 * highest row indexed is kept in `meta`). A query word of 3 or more
 * characters is looked up in the index,
 * a shorter one (which trigrams cannot find; 2-character Japanese words are
 * common) is matched with `LIKE` on the rows the index found, or on the rooms'
 * rows alone when every word is short. The index is contentless (the text is
 * kept once, in `messages`); its rows are numbered in append order by a
 * counter of this process, the number kept in `messages.fts`, so newest first
 * is descending rowid and retention finds what to delete without reading the
 * index. Removed and edited text leaves the file: `secure_delete` zeroes the
 * freed space of tables, and FTS5's `secure-delete`, switched on around those
 * deletes only, takes the words out of the index at once instead of at a later
 * merge. Retention deletes from the index with the next index transaction and
 * without it (secure, each trimmed message would rewrite a leaf page per
 * trigram: appends 10x slower), so trimmed text lingers in the index until its
 * segments merge.
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

/** Messages indexed per transaction: 5x cheaper a row than one at a time, a few ms each. */
const INDEX_BATCH = 256;
/** The longest a message waits to be indexed when fewer than a batch are waiting. */
const INDEX_DELAY_MS = 1000;

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
  readonly #get: StatementSync;
  readonly #exists: StatementSync;
  readonly #edit: StatementSync;
  readonly #remove: StatementSync;
  readonly #countAfter: StatementSync;
  readonly #indexText: StatementSync;
  readonly #unindexText: StatementSync;
  readonly #trimmed: StatementSync;
  readonly #unindexedSince: StatementSync;
  readonly #setMeta: StatementSync;
  readonly #reactionsOf: StatementSync;
  readonly #react: StatementSync;
  readonly #unreact: StatementSync;
  readonly #removeReactions: StatementSync;
  readonly #trimReactions: StatementSync;
  readonly #secureIndex: StatementSync;
  readonly #plainIndex: StatementSync;
  /** Search statements by shape (see {@link #searchStatement}). */
  readonly #searches = new Map<string, StatementSync>();
  /** The next search index rowid: append order across rooms. */
  #nextFts: number;
  /** The highest rowid in the index: messages above it wait in `#unindexed`. */
  #indexed: number;
  /** Committed messages not indexed yet, by index rowid (so in append order). */
  readonly #unindexed = new Map<number, { text: string; room: string; id: number }>();
  /** Trimmed messages still in the index, taken out with the next index transaction. */
  #trimmedIndexed: { fts: number; text: string; room: string; id: number }[] = [];
  #indexTimer: ReturnType<typeof setTimeout> | null = null;
  #indexScheduled = false;
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
      this.#db.exec("PRAGMA secure_delete = FAST");
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
    // The index is contentless: taking a row out names its old values, which messages holds.
    this.#indexText = this.#db.prepare(
      "INSERT INTO search (rowid, text, room, id) VALUES (?, ?, ?, ?)",
    );
    this.#unindexText = this.#db.prepare(
      "INSERT INTO search (search, rowid, text, room, id) VALUES ('delete', ?, ?, ?, ?)",
    );
    this.#trimmed = this.#db.prepare(
      "SELECT fts, text, id FROM messages WHERE room = ? AND id <= ?",
    );
    this.#unindexedSince = this.#db.prepare(
      "SELECT fts, text, room, id FROM messages WHERE fts > ? ORDER BY fts",
    );
    this.#setMeta = this.#db.prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) " +
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
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
    // Literals: FTS5 refuses the option's value as a bound parameter.
    this.#secureIndex = this.#db.prepare(
      "INSERT INTO search (search, rank) VALUES ('secure-delete', 1)",
    );
    this.#plainIndex = this.#db.prepare(
      "INSERT INTO search (search, rank) VALUES ('secure-delete', 0)",
    );
    // Short search words of a script with case other than ASCII (LIKE folds ASCII only).
    this.#db.function(
      "chat_lower",
      { deterministic: true },
      (text) => String(text).toLowerCase(),
    );
    this.#kept = this.#readKept();
    this.#indexed = this.#readIndexed();
    this.#nextFts = this.#readNextFts();
    this.#indexBacklog();
  }

  /** The highest rowid indexed, as kept with every index transaction (or the index's top). */
  #readIndexed(): number {
    const kept = this.#meta("indexed");
    if (kept !== null) return kept;
    const top = this.#db.prepare("SELECT rowid FROM search ORDER BY rowid DESC LIMIT 1").get() as
      | { rowid: number }
      | undefined;
    return Number(top?.rowid ?? 0);
  }

  /** Rowids continue from the highest handed out (kept with every commit) or indexed. */
  #readNextFts(): number {
    const kept = this.#meta("fts");
    const top = kept ?? Number(
      (this.#db.prepare("SELECT max(fts) AS n FROM messages").get() as { n: number | null }).n ??
        0,
    );
    return Math.max(top, this.#indexed) + 1;
  }

  #meta(key: string): number | null {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row !== undefined && /^[0-9]+$/.test(row.value) ? Number(row.value) : null;
  }

  /** Messages committed but not indexed when the server stopped (a crash) are indexed now. */
  #indexBacklog(): void {
    if (this.#nextFts - 1 <= this.#indexed) return;
    for (const row of this.#unindexedSince.all(this.#indexed) as IndexRow[]) {
      this.#unindexed.set(Number(row.fts), { text: row.text, room: row.room, id: Number(row.id) });
    }
    this.#indexNow(Infinity);
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
      const fts = Number(old.fts);
      const waiting = this.#unindexed.get(fts);
      this.#transaction(() => {
        if (waiting === undefined) {
          this.#unindexSecurely(fts, old.text, room, id);
          this.#indexText.run(fts, text, room, id);
        }
        this.#edit.run(text, Math.floor(ts), room, id);
      });
      if (waiting !== undefined) waiting.text = text;
      return this.#getNow(room, id);
    });
  }

  remove(room: string, id: number): Promise<boolean> {
    return this.#run(() => {
      this.#commit();
      const old = this.#exists.get(room, id) as { text: string; fts: number } | undefined;
      if (old === undefined) return false;
      const fts = Number(old.fts);
      const waiting = this.#unindexed.has(fts);
      this.#transaction(() => {
        if (!waiting) this.#unindexSecurely(fts, old.text, room, id);
        this.#removeReactions.run(room, id);
        this.#remove.run(room, id);
        this.#setKept.run(String(this.#kept - 1));
      });
      this.#unindexed.delete(fts);
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
      this.#indexNow(Infinity);
      // Trigrams find words of 3 characters or more; shorter ones are matched on the rows.
      const long = words.filter((w) => [...w].length >= 3);
      const short = words.filter((w) => [...w].length < 3);
      const statement = this.#searchStatement(long.length > 0, short);
      const shortArgs = short.map((w) => caseless(w) ? `%${escapeLike(w)}%` : w);
      if (long.length > 0) {
        const match = long.map((w) => `"${w.replaceAll('"', '""')}"`).join(" AND ");
        const rows = statement.all(match, JSON.stringify(asked), ...shortArgs, limit) as Row[];
        return rows.map((row) => this.#oneMessage(row));
      }
      // Only short words: each room's rows newest first (bounded by retention), then merged.
      const rows: (Row & { fts: number })[] = [];
      for (const room of asked) {
        rows.push(...statement.all(room, ...shortArgs, limit) as (Row & { fts: number })[]);
      }
      rows.sort((a, b) => Number(b.fts) - Number(a.fts));
      return rows.slice(0, limit).map((row) => this.#oneMessage(row));
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

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#commit();
    try {
      this.#indexNow(Infinity);
    } catch {
      // Indexed when the file is opened again.
    }
    if (this.#indexTimer !== null) clearTimeout(this.#indexTimer);
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
    const unindexed: ChatMessage[] = [];
    const trimmedIndexed: { fts: number; text: string; room: string; id: number }[] = [];
    const trimmedWaiting: number[] = [];
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
          this.#nextFts + unindexed.length,
        );
        unindexed.push(m);
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
          const fts = Number(row.fts);
          if (fts > this.#indexed) trimmedWaiting.push(fts);
          else trimmedIndexed.push({ fts, text: row.text, room, id: Number(row.id) });
        }
        this.#trimReactions.run(room, floor);
        const gone = Number(this.#trim.run(room, floor).changes);
        counted.set(room, (counted.get(room) ?? 0) - gone);
        trimmed += gone;
      }
      this.#setKept.run(String(this.#kept + batch.length - trimmed));
      this.#setMeta.run("fts", String(this.#nextFts + unindexed.length - 1));
      this.#db.exec("COMMIT");
      this.#kept += batch.length - trimmed;
      for (const m of unindexed) {
        this.#unindexed.set(this.#nextFts++, { text: m.text, room: m.room, id: m.id });
      }
      for (const fts of trimmedWaiting) this.#unindexed.delete(fts);
      for (const [room, n] of counted) {
        const known = this.#roomCounts.get(room);
        if (known !== undefined) this.#roomCounts.set(room, known + n);
      }
      this.#trimmedIndexed.push(...trimmedIndexed);
      this.#scheduleIndex();
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

  /**
   * Indexes soon: at once (after this turn) when a transaction's worth is
   * waiting, else within a second, so a quiet room's lines are indexed too.
   */
  #scheduleIndex(): void {
    if (this.#unindexed.size + this.#trimmedIndexed.length === 0) return;
    if (this.#unindexed.size + this.#trimmedIndexed.length >= INDEX_BATCH) {
      if (this.#indexScheduled) return;
      this.#indexScheduled = true;
      setImmediate(() => {
        this.#indexScheduled = false;
        this.#indexSoon();
      });
    } else if (this.#indexTimer === null) {
      this.#indexTimer = setTimeout(() => {
        this.#indexTimer = null;
        this.#indexSoon();
      }, INDEX_DELAY_MS);
    }
  }

  /** One index transaction from a timer: a failure is reported as the store's health. */
  #indexSoon(): void {
    if (this.#closed) return;
    try {
      this.#indexNow(INDEX_BATCH);
      if (!this.#health.ok) this.#setHealth({ ok: true });
    } catch (err) {
      this.#failures++;
      if (this.#health.ok) this.#setHealth({ ok: false, error: `search index: ${errorText(err)}` });
    }
    this.#scheduleIndex();
  }

  /**
   * Indexes up to `limit` waiting messages (oldest first) and takes trimmed
   * ones out, in one transaction per {@link INDEX_BATCH}.
   */
  #indexNow(limit: number): void {
    while (limit > 0 && this.#unindexed.size + this.#trimmedIndexed.length > 0) {
      const take = Math.min(limit, INDEX_BATCH);
      const rows = [
        ...take >= this.#unindexed.size ? this.#unindexed : first(this.#unindexed, take),
      ];
      const trimmed = this.#trimmedIndexed;
      this.#transaction(() => {
        for (const t of trimmed) this.#unindexText.run(t.fts, t.text, t.room, t.id);
        for (const [fts, m] of rows) this.#indexText.run(fts, m.text, m.room, m.id);
        if (rows.length > 0) this.#setMeta.run("indexed", String(rows[rows.length - 1][0]));
      });
      this.#trimmedIndexed = [];
      for (const [fts] of rows) this.#unindexed.delete(fts);
      if (rows.length > 0) this.#indexed = rows[rows.length - 1][0];
      limit -= take;
    }
  }

  /** Takes a text out of the index at once (in the caller's transaction). */
  #unindexSecurely(fts: number, text: string, room: string, id: number): void {
    this.#secureIndex.run();
    this.#unindexText.run(fts, text, room, id);
    this.#plainIndex.run();
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

  /**
   * The statement for a search shape: with words of 3+ characters the index
   * drives (rowid DESC), joined to the rows for the short words; without, one
   * room's rows newest first. Short words are `L` (LIKE) or `U` (case-folded
   * by `chat_lower`).
   */
  #searchStatement(indexed: boolean, short: string[]): StatementSync {
    const shape = short.map((w) => caseless(w) ? "L" : "U").join("");
    const key = `${indexed}:${shape}`;
    let statement = this.#searches.get(key);
    if (statement !== undefined) return statement;
    const conditions = [...shape].map((k) =>
      k === "L" ? "m.text LIKE ? ESCAPE '\\'" : "instr(chat_lower(m.text), ?) > 0"
    );
    const columns = COLUMNS.split(", ").map((c) => `m.${c}`).join(", ");
    statement = this.#db.prepare(
      indexed
        ? `SELECT ${columns} FROM search AS s CROSS JOIN messages AS m ` +
          "ON m.room = s.room AND m.id = s.id " +
          "WHERE search MATCH ? AND s.room IN (SELECT value FROM json_each(?)) " +
          conditions.map((c) => `AND ${c} `).join("") +
          "ORDER BY s.rowid DESC LIMIT ?"
        : `SELECT ${columns}, m.fts FROM messages AS m WHERE m.room = ? ` +
          conditions.map((c) => `AND ${c} `).join("") +
          "ORDER BY m.id DESC LIMIT ?",
    );
    this.#searches.set(key, statement);
    return statement;
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

type IndexRow = { fts: number; text: string; room: string; id: number };

/** The first `n` entries of a map, in order. */
function* first<K, V>(map: Map<K, V>, n: number): Generator<[K, V]> {
  for (const entry of map) {
    if (n-- <= 0) return;
    yield entry;
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

/** Whether LIKE (case-insensitive for ASCII only) matches `word` as toLowerCase would. */
function caseless(word: string): boolean {
  for (const c of word) {
    if (c > "\x7f" && c.toLowerCase() !== c.toUpperCase()) return false;
  }
  return true;
}

function escapeLike(word: string): string {
  return word.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
