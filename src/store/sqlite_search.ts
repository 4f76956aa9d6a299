/**
 * The SQLite store's search: an FTS5 index with the trigram tokenizer (any
 * script, no word splitting needed), kept off the append path. A message is
 * indexed in a later transaction of a few hundred (a row costs 5x less in the
 * index that way, which keeps full-speed fan-out within a few percent of no
 * index), at the latest a second after it was said, and every search first
 * indexes what is waiting, so it always sees every kept message. What was
 * written before a crash and not yet indexed is indexed when the file is
 * opened again (the highest row indexed is kept in `meta`).
 *
 * A query word of 3 or more characters is looked up in the index; a shorter
 * one (which trigrams cannot find; 2-character Japanese words are common) is
 * matched with `LIKE` on the rows the index found, or on the rooms' rows
 * alone when every word is short. The index is contentless (the text is kept
 * once, in `messages`); its rows are numbered in append order by a counter of
 * this process, the number kept in `messages.fts`, so newest first is
 * descending rowid and retention finds what to delete without reading the
 * index. Removed and edited text leaves the index at once (FTS5's
 * `secure-delete`, switched on around those deletes only); retention takes
 * trimmed rows out with the next index transaction and without it (secure,
 * each trimmed message would rewrite a leaf page per trigram: appends 10x
 * slower), so trimmed text lingers in the index until its segments merge.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { setImmediate } from "node:timers";

/** Messages indexed per transaction: 5x cheaper a row than one at a time, a few ms each. */
const INDEX_BATCH = 256;
/** The longest a message waits to be indexed when fewer than a batch are waiting. */
const INDEX_DELAY_MS = 1000;

/** A message as the index knows it: its rowid there, text, room and id. */
export type IndexRow = { fts: number; text: string; room: string; id: number };
type Waiting = { text: string; room: string; id: number };

/** The search index of one SQLite store (see the module doc). */
export class SearchIndex {
  readonly #db: DatabaseSync;
  readonly #columns: string;
  readonly #report: (error: string | null) => void;
  readonly #indexText: StatementSync;
  readonly #unindexText: StatementSync;
  readonly #secure: StatementSync;
  readonly #plain: StatementSync;
  readonly #setMeta: StatementSync;
  /** Search statements by shape (see {@link #statement}). */
  readonly #searches = new Map<string, StatementSync>();
  /** The next rowid: append order across rooms. */
  #next: number;
  /** The highest rowid in the index: messages above it wait in `#waiting`. */
  #indexed: number;
  /** Committed messages not indexed yet, by rowid (so in append order). */
  readonly #waiting = new Map<number, Waiting>();
  /** Trimmed messages still in the index, taken out with the next index transaction. */
  #trimmed: IndexRow[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #scheduled = false;
  #closed = false;

  /**
   * Opens the index of `db` (its `search` table and `messages.fts`), indexing
   * what a crash left waiting. `columns` are the message columns a search
   * returns; `report` hears an index transaction fail (an error) and work
   * again (null).
   */
  constructor(db: DatabaseSync, columns: string, report: (error: string | null) => void) {
    this.#db = db;
    this.#columns = columns;
    this.#report = report;
    // The index is contentless: taking a row out names its old values, which messages holds.
    this.#indexText = db.prepare("INSERT INTO search (rowid, text, room, id) VALUES (?, ?, ?, ?)");
    this.#unindexText = db.prepare(
      "INSERT INTO search (search, rowid, text, room, id) VALUES ('delete', ?, ?, ?, ?)",
    );
    // Literals: FTS5 refuses the option's value as a bound parameter.
    this.#secure = db.prepare("INSERT INTO search (search, rank) VALUES ('secure-delete', 1)");
    this.#plain = db.prepare("INSERT INTO search (search, rank) VALUES ('secure-delete', 0)");
    this.#setMeta = db.prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) " +
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    // Short search words of a script with case other than ASCII (LIKE folds ASCII only).
    db.function("chat_lower", { deterministic: true }, (text) => String(text).toLowerCase());
    this.#indexed = this.#readIndexed();
    this.#next = this.#readNext();
    this.#indexBacklog();
  }

  /** The rowid of the `offset`-th message of the batch being appended. */
  rowid(offset: number): number {
    return this.#next + offset;
  }

  /** In the append's transaction: `count` rowids are handed out (kept across restarts). */
  handOut(count: number): void {
    this.#setMeta.run("fts", String(this.#next + count - 1));
  }

  /** After the append's commit: `added` wait to be indexed; `trimmed` rows are gone. */
  committed(added: Omit<IndexRow, "fts">[], trimmed: IndexRow[]): void {
    for (const m of added) {
      this.#waiting.set(this.#next++, { text: m.text, room: m.room, id: m.id });
    }
    for (const row of trimmed) {
      if (row.fts > this.#indexed) this.#waiting.delete(row.fts);
      else this.#trimmed.push(row);
    }
    this.#schedule();
  }

  /**
   * In the caller's transaction: a message's text changes to `text`, or (null)
   * the message is removed. Indexed text leaves the index at once.
   */
  change(row: IndexRow, text: string | null): void {
    if (this.#waiting.has(row.fts)) return; // done after the commit
    this.#secure.run();
    this.#unindexText.run(row.fts, row.text, row.room, row.id);
    this.#plain.run();
    if (text !== null) this.#indexText.run(row.fts, text, row.room, row.id);
  }

  /** After that commit: a waiting message takes its new text, or is not indexed at all. */
  changed(fts: number, text: string | null): void {
    const waiting = this.#waiting.get(fts);
    if (waiting === undefined) return;
    if (text === null) this.#waiting.delete(fts);
    else waiting.text = text;
  }

  /**
   * The rows of the kept messages of `rooms` holding every word, newest
   * first, at most `limit` (everything waiting is indexed first).
   */
  search<R>(rooms: string[], words: string[], limit: number): R[] {
    this.#indexNow(Infinity);
    // Trigrams find words of 3 characters or more; shorter ones are matched on the rows.
    const long = words.filter((w) => [...w].length >= 3);
    const short = words.filter((w) => [...w].length < 3);
    const statement = this.#statement(long.length > 0, short);
    const shortArgs = short.map((w) => caseless(w) ? `%${escapeLike(w)}%` : w);
    if (long.length > 0) {
      const match = long.map((w) => `"${w.replaceAll('"', '""')}"`).join(" AND ");
      return statement.all(match, JSON.stringify(rooms), ...shortArgs, limit) as R[];
    }
    // Only short words: each room's rows newest first (bounded by retention), then merged.
    const rows: (R & { fts: number })[] = [];
    for (const room of rooms) {
      rows.push(...statement.all(room, ...shortArgs, limit) as (R & { fts: number })[]);
    }
    rows.sort((a, b) => Number(b.fts) - Number(a.fts));
    return rows.slice(0, limit);
  }

  /** Indexes what waits (a clean stop leaves nothing for the next open). */
  close(): void {
    if (this.#closed) return;
    try {
      this.#indexNow(Infinity);
    } catch {
      // Indexed when the file is opened again.
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#closed = true;
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
  #readNext(): number {
    const kept = this.#meta("fts") ?? Number(
      (this.#db.prepare("SELECT max(fts) AS n FROM messages").get() as { n: number | null }).n ??
        0,
    );
    return Math.max(kept, this.#indexed) + 1;
  }

  #meta(key: string): number | null {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row !== undefined && /^[0-9]+$/.test(row.value) ? Number(row.value) : null;
  }

  /** Messages committed but not indexed when the server stopped (a crash) are indexed now. */
  #indexBacklog(): void {
    if (this.#next - 1 <= this.#indexed) return;
    const rows = this.#db.prepare(
      "SELECT fts, text, room, id FROM messages WHERE fts > ? ORDER BY fts",
    ).all(this.#indexed) as IndexRow[];
    for (const row of rows) {
      this.#waiting.set(Number(row.fts), { text: row.text, room: row.room, id: Number(row.id) });
    }
    this.#indexNow(Infinity);
  }

  /**
   * Indexes soon: at once (after this turn) when a transaction's worth is
   * waiting, else within a second, so a quiet room's lines are indexed too.
   */
  #schedule(): void {
    const pending = this.#waiting.size + this.#trimmed.length;
    if (pending === 0) return;
    if (pending >= INDEX_BATCH) {
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#indexSoon();
      });
    } else if (this.#timer === null) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#indexSoon();
      }, INDEX_DELAY_MS);
    }
  }

  /** One index transaction from a timer: a failure is reported, and tried again later. */
  #indexSoon(): void {
    if (this.#closed) return;
    try {
      this.#indexNow(INDEX_BATCH);
      this.#report(null);
    } catch (err) {
      this.#report(`search index: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.#schedule();
  }

  /**
   * Indexes up to `limit` waiting messages (oldest first) and takes trimmed
   * ones out, in one transaction per {@link INDEX_BATCH}.
   */
  #indexNow(limit: number): void {
    while (limit > 0 && this.#waiting.size + this.#trimmed.length > 0) {
      const take = Math.min(limit, INDEX_BATCH);
      const rows = [...take >= this.#waiting.size ? this.#waiting : first(this.#waiting, take)];
      const trimmed = this.#trimmed;
      this.#db.exec("BEGIN");
      try {
        for (const t of trimmed) this.#unindexText.run(t.fts, t.text, t.room, t.id);
        for (const [fts, m] of rows) this.#indexText.run(fts, m.text, m.room, m.id);
        if (rows.length > 0) this.#setMeta.run("indexed", String(rows[rows.length - 1][0]));
        this.#db.exec("COMMIT");
      } catch (err) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw err;
      }
      this.#trimmed = [];
      for (const [fts] of rows) this.#waiting.delete(fts);
      if (rows.length > 0) this.#indexed = rows[rows.length - 1][0];
      limit -= take;
    }
  }

  /**
   * The statement for a search shape: with words of 3+ characters the index
   * drives (rowid DESC), joined to the rows for the short words; without, one
   * room's rows newest first. Short words are `L` (LIKE) or `U` (case-folded
   * by `chat_lower`).
   */
  #statement(indexed: boolean, short: string[]): StatementSync {
    const shape = short.map((w) => caseless(w) ? "L" : "U").join("");
    const key = `${indexed}:${shape}`;
    let statement = this.#searches.get(key);
    if (statement !== undefined) return statement;
    const conditions = [...shape].map((k) =>
      k === "L" ? "m.text LIKE ? ESCAPE '\\'" : "instr(chat_lower(m.text), ?) > 0"
    );
    const columns = this.#columns.split(", ").map((c) => `m.${c}`).join(", ");
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
}

/** The first `n` entries of a map, in order. */
function* first<K, V>(map: Map<K, V>, n: number): Generator<[K, V]> {
  for (const entry of map) {
    if (n-- <= 0) return;
    yield entry;
  }
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
