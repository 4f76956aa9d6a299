/**
 * The SQLite store's reads: a room's latest messages, pages after and before
 * an id, one message, the id at a time, and the rows turned into messages
 * with their reactions. Each read is one query on a room's rows (the table's
 * key is `(room, id)`), and their reactions one more range query.
 *
 * Reads see what is committed: the store commits the pending batch first
 * where a read must see this turn's appends (see `sqlite.ts`).
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ChatMessage } from "../core/types.ts";

/** The columns a message is read from. */
export const COLUMNS = "room, id, nick, text, ts, kind, reply_to, edited";

/** A message as read from {@link COLUMNS}. */
export type Row = {
  room: string;
  id: number;
  nick: string;
  text: string;
  ts: number;
  kind: string;
  reply_to: number | null;
  edited: number | null;
};

/** The read statements of one database, prepared once. */
export class MessageReads {
  readonly #recent: StatementSync;
  readonly #after: StatementSync;
  readonly #before: StatementSync;
  readonly #idAtTime: StatementSync;
  readonly #get: StatementSync;
  readonly #reactionsOf: StatementSync;

  constructor(db: DatabaseSync) {
    this.#recent = db.prepare(
      `SELECT ${COLUMNS} FROM messages WHERE room = ? ORDER BY id DESC LIMIT ?`,
    );
    this.#after = db.prepare(
      `SELECT ${COLUMNS} FROM messages WHERE room = ? AND id > ? ORDER BY id LIMIT ?`,
    );
    this.#before = db.prepare(
      `SELECT ${COLUMNS} FROM messages WHERE room = ? AND id < ? ORDER BY id DESC LIMIT ?`,
    );
    this.#idAtTime = db.prepare(
      "SELECT max(id) AS id FROM messages WHERE room = ? AND ts <= ?",
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM messages WHERE room = ? AND id = ?`);
    this.#reactionsOf = db.prepare(
      "SELECT id, emoji, nick FROM reactions WHERE room = ? AND id BETWEEN ? AND ? " +
        "ORDER BY id, ts",
    );
  }

  /** The last `limit` messages of `room`, oldest first. */
  recent(room: string, limit: number): ChatMessage[] {
    return this.#messages((this.#recent.all(room, Math.floor(limit)) as Row[]).reverse());
  }

  /** At most `limit` messages with an id above `after`, oldest first. */
  after(room: string, after: number, limit: number): ChatMessage[] {
    return this.#messages(this.#after.all(room, Math.floor(after), Math.floor(limit)) as Row[]);
  }

  /** The newest `limit` messages with an id below `before`, oldest first. */
  before(room: string, before: number, limit: number): ChatMessage[] {
    return this.#messages(
      (this.#before.all(room, Math.ceil(before), Math.floor(limit)) as Row[]).reverse(),
    );
  }

  /** The largest kept id said at or before `ts`, 0 for none. */
  idAtTime(room: string, ts: number): number {
    const row = this.#idAtTime.get(room, Math.floor(ts)) as { id: number | null } | undefined;
    return Number(row?.id ?? 0);
  }

  /** One kept message, `null` when it is not kept. */
  get(room: string, id: number): ChatMessage | null {
    const row = this.#get.get(room, id) as Row | undefined;
    return row === undefined ? null : this.message(row);
  }

  /** One row read elsewhere (a search) as a message, with its reactions. */
  message(row: Row): ChatMessage {
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
}

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
