/**
 * `chat-server backup FILE`: a consistent copy of the history database,
 * taken with SQLite's online backup API (`backup()` of `node:sqlite`) while
 * the server may be writing to it. The server's lock file is not touched: a
 * backup is a reader, and WAL lets it read beside the writer.
 *
 * @module
 */

import { backup, DatabaseSync } from "node:sqlite";

/** The backup could not be taken (one line for the operator, exit status 1). */
export class BackupError extends Error {
  override name = "BackupError";
}

/** What a backup wrote. */
export interface BackupResult {
  file: string;
  messages: number;
  rooms: number;
  bytes: number;
}

/**
 * Copies the database at `db` to `file`. The copy is written beside `file`
 * and renamed into place, so `file` is never a half-written database.
 * Refuses to overwrite `file` unless `force`.
 */
export async function backupDatabase(
  db: string,
  file: string,
  force = false,
): Promise<BackupResult> {
  if (!exists(db)) throw new BackupError(`no database at ${db} (give it with --db or CHAT_DB)`);
  if (!force && exists(file)) {
    throw new BackupError(`${file} exists; give --force to overwrite it`);
  }
  let source: DatabaseSync;
  try {
    source = new DatabaseSync(db);
    // A server writing at the same moment holds its write lock only briefly.
    source.exec("PRAGMA busy_timeout = 5000");
  } catch (err) {
    throw new BackupError(`cannot open database ${db}: ${errorText(err)}`, { cause: err });
  }
  const partial = `${file}.partial-${Deno.pid}`;
  try {
    countRows(source, db);
    // All pages in one step: a step-by-step copy restarts whenever the server
    // commits meanwhile, and under steady chat it might never finish.
    await backup(source, partial, { rate: -1 });
    Deno.renameSync(partial, file);
  } catch (err) {
    try {
      Deno.removeSync(partial);
    } catch {
      // Not created, or already renamed.
    }
    if (err instanceof BackupError) throw err;
    throw new BackupError(`cannot back up ${db} to ${file}: ${errorText(err)}`, { cause: err });
  } finally {
    source.close();
  }
  // One self-contained file: no -wal or -shm beside it to forget when copying it back.
  const copy = new DatabaseSync(file);
  try {
    copy.exec("PRAGMA journal_mode = DELETE");
    return { file, ...countRows(copy, file), bytes: Deno.statSync(file).size };
  } finally {
    copy.close();
  }
}

/** Messages and rooms in a chat database; a clear error for any other file. */
function countRows(db: DatabaseSync, path: string): { messages: number; rooms: number } {
  try {
    const row = db.prepare(
      "SELECT (SELECT count(*) FROM messages) AS messages, " +
        "(SELECT count(DISTINCT room) FROM messages) AS rooms",
    ).get() as { messages: number; rooms: number };
    return { messages: Number(row.messages), rooms: Number(row.rooms) };
  } catch (err) {
    throw new BackupError(`${path} is not a chat history database: ${errorText(err)}`, {
      cause: err,
    });
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw new BackupError(`cannot read ${path}: ${errorText(err)}`, { cause: err });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
