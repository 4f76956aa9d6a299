/**
 * The SQLite store's schema: the version this code writes, and the
 * migrations that bring an older file up to it when it is opened.
 *
 * Tables: `messages` (one row per kept message, `fts` its row in the search
 * index), `rooms` (the last id given per room, so ids outlive retention),
 * `records` (registered nicks, room settings...), `reactions`, the FTS5
 * `search` index (see `sqlite_search.ts`), and `meta` (the schema version,
 * the count of kept messages, and how far the search index has got).
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";

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

/**
 * Brings `db` to {@link SCHEMA_VERSION}, one transaction per version; throws
 * when the file is newer than this code.
 */
export function migrate(db: DatabaseSync): void {
  db.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
    | { value: string }
    | undefined;
  let version = row === undefined ? guessVersion(db) : Number(row.value);
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `schema version ${version} is newer than this server understands (${SCHEMA_VERSION})`,
    );
  }
  while (version < SCHEMA_VERSION) {
    db.exec("BEGIN");
    db.exec(MIGRATIONS[version]);
    version++;
    db.prepare(
      "INSERT INTO meta (key, value) VALUES ('schema_version', ?) " +
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(String(version));
    db.exec("COMMIT");
  }
}

/** A file without a version row: new (0), or version 1 if its messages table exists. */
function guessVersion(db: DatabaseSync): number {
  const table = db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'messages'",
  ).get();
  return table === undefined ? 0 : 1;
}
