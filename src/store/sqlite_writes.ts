/**
 * The SQLite store's writes: appends in batches, the ids they take, retention,
 * and the changes to kept messages (edit, remove, react).
 *
 * Group commit: everything appended during one turn of the event loop goes
 * into one transaction, so the store costs one commit per turn, not one per
 * message; the appends' promises settle only once it has committed, in call
 * order. Ids are handed out at append time from `rooms` (the highest id ever
 * given per room), so they are known before the commit and never come back
 * after retention. Retention runs in the same transaction, a few rows per
 * room per batch. Changes are written at once, each in its own transaction,
 * after the store has committed the pending batch.
 *
 * The counts of kept messages live here because every write moves them: the
 * total (`size`, kept in `meta` so a start need not count the table) and,
 * once asked for, each room's (`countAfter`).
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import type { ChatMessage } from "../core/types.ts";
import type { NewMessage, ReactResult } from "../core/history.ts";
import { StoreWriteError } from "../core/history.ts";
import type { IndexRow, SearchIndex } from "./sqlite_search.ts";

interface Pending {
  message: ChatMessage;
  resolve: (message: ChatMessage) => void;
  reject: (err: unknown) => void;
}

/** The write statements and the write state of one database. */
export class MessageWrites {
  readonly #db: DatabaseSync;
  readonly #historySize: number;
  readonly #index: SearchIndex;
  readonly #report: (error: string | null) => void;
  readonly #insert: StatementSync;
  readonly #setLastId: StatementSync;
  readonly #getLastId: StatementSync;
  readonly #trim: StatementSync;
  readonly #trimmed: StatementSync;
  readonly #trimReactions: StatementSync;
  readonly #setKept: StatementSync;
  readonly #exists: StatementSync;
  readonly #edit: StatementSync;
  readonly #remove: StatementSync;
  readonly #removeReactions: StatementSync;
  readonly #react: StatementSync;
  readonly #unreact: StatementSync;
  readonly #countAfter: StatementSync;
  /** The last reaction's time: reactions are ordered by it, so it never repeats. */
  #reactTs = 0;
  /** Messages kept per room, once counted (every join asks how many a first visit has unread). */
  readonly #roomCounts = new Map<string, number>();
  /** Last id handed out per room (ids come from here, so they are known before the commit). */
  readonly #lastIds = new Map<string, number>();
  #batch: Pending[] = [];
  #scheduled = false;
  #kept: number;
  #closed = false;

  /**
   * Writes to `db`, keeping `historySize` messages per room and `index` up to
   * date. `report` hears a batch fail to commit (an error) and one commit
   * again (null).
   */
  constructor(
    db: DatabaseSync,
    historySize: number,
    index: SearchIndex,
    report: (error: string | null) => void,
  ) {
    this.#db = db;
    this.#historySize = historySize;
    this.#index = index;
    this.#report = report;
    this.#insert = db.prepare(
      "INSERT INTO messages (room, id, nick, text, ts, kind, reply_to, fts) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.#setLastId = db.prepare(
      "INSERT INTO rooms (room, last_id) VALUES (?, ?) " +
        "ON CONFLICT (room) DO UPDATE SET last_id = excluded.last_id",
    );
    this.#getLastId = db.prepare("SELECT last_id FROM rooms WHERE room = ?");
    this.#trim = db.prepare("DELETE FROM messages WHERE room = ? AND id <= ?");
    this.#trimmed = db.prepare("SELECT fts, text, id FROM messages WHERE room = ? AND id <= ?");
    this.#trimReactions = db.prepare("DELETE FROM reactions WHERE room = ? AND id <= ?");
    this.#setKept = db.prepare(
      "INSERT INTO meta (key, value) VALUES ('messages', ?) " +
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    this.#exists = db.prepare("SELECT text, fts FROM messages WHERE room = ? AND id = ?");
    this.#edit = db.prepare("UPDATE messages SET text = ?, edited = ? WHERE room = ? AND id = ?");
    this.#remove = db.prepare("DELETE FROM messages WHERE room = ? AND id = ?");
    this.#removeReactions = db.prepare("DELETE FROM reactions WHERE room = ? AND id = ?");
    this.#react = db.prepare(
      "INSERT INTO reactions (room, id, emoji, nick, ts) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT DO NOTHING",
    );
    this.#unreact = db.prepare(
      "DELETE FROM reactions WHERE room = ? AND id = ? AND emoji = ? AND nick = ?",
    );
    this.#countAfter = db.prepare("SELECT count(*) AS n FROM messages WHERE room = ? AND id > ?");
    this.#kept = this.#readKept();
  }

  /** Messages kept, in every room. */
  get kept(): number {
    return this.#kept;
  }

  /** Numbers `message` and queues it for this turn's commit; resolves once committed. */
  append(message: NewMessage): Promise<ChatMessage> {
    const numbered: ChatMessage = { ...message, id: this.#nextId(message.room) };
    return new Promise((resolve, reject) => {
      this.#batch.push({ message: numbered, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // After the turn's I/O callbacks: every message of the turn in one commit.
        setImmediate(() => this.commit());
      }
    });
  }

  /** The highest id given in the room, kept in `rooms` across restarts. */
  lastId(room: string): number {
    const last = this.#lastIds.get(room);
    if (last !== undefined) return last;
    const row = this.#getLastId.get(room) as { last_id: number } | undefined;
    return row === undefined ? 0 : Number(row.last_id);
  }

  /** Writes the batch in one transaction, then settles its promises in order. */
  commit(): void {
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
      this.#report(null);
    } catch (err) {
      try {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      } catch {
        // The rollback failing too changes nothing for the callers.
      }
      this.#report(errorText(err));
      for (const p of batch) p.reject(new StoreWriteError(errorText(err), p.message));
      return;
    }
    for (const p of batch) p.resolve(p.message);
  }

  /** Replaces a kept message's text; false when it is not kept. */
  edit(room: string, id: number, text: string, ts: number): boolean {
    const old = this.#exists.get(room, id) as { text: string; fts: number } | undefined;
    if (old === undefined) return false;
    const row: IndexRow = { fts: Number(old.fts), text: old.text, room, id };
    this.#transaction(() => {
      this.#index.change(row, text);
      this.#edit.run(text, Math.floor(ts), room, id);
    });
    this.#index.changed(row.fts, text);
    return true;
  }

  /** Deletes a kept message with its reactions; false when it is not kept. */
  remove(room: string, id: number): boolean {
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
  }

  /** Adds (`on`) or takes back one nick's reaction; null when the message is not kept. */
  react(room: string, id: number, emoji: string, nick: string, on: boolean): ReactResult | null {
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
  }

  /** Kept messages of `room` above `after`; a whole room's count is kept once known. */
  countAfter(room: string, after: number): number {
    const all = Math.floor(after) <= 0;
    const known = all ? this.#roomCounts.get(room) : undefined;
    if (known !== undefined) return known;
    const n = Number((this.#countAfter.get(room, Math.floor(after)) as { n: number }).n);
    if (all) this.#roomCounts.set(room, n);
    return n;
  }

  /** Commits what is pending; later commits do nothing. */
  close(): void {
    this.commit();
    this.#closed = true;
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

  /** Ids continue from the highest ever given in the room. */
  #nextId(room: string): number {
    const next = this.lastId(room) + 1;
    this.#lastIds.set(room, next);
    return next;
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
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
