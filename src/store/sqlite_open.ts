/**
 * Opening the SQLite store's file: the lock that keeps a second server off
 * it, the connection's settings, and the schema brought up to date. Whatever
 * goes wrong here is a {@link StoreOpenError} that says why, reported at start.
 *
 * The lock is an OS lock on a file beside the database (`chat.db.lock`): it
 * goes with the process, so a crashed server leaves nothing that blocks the
 * next start. The database itself stays in SQLite's normal (shared) locking
 * mode, so backups and Litestream can read it while the server runs.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { migrate } from "./sqlite_schema.ts";

/** The database could not be opened or is not ours to open (reported at start). */
export class StoreOpenError extends Error {
  override name = "StoreOpenError";
}

/**
 * How long a write waits for a lock held by another process (a backup
 * checkpointing, Litestream) before it fails; WAL readers never block it.
 */
const BUSY_TIMEOUT_MS = 2000;

/** An open, migrated database and the lock file held for it (`null` for `:memory:`). */
export interface OpenDatabase {
  db: DatabaseSync;
  lock: Deno.FsFile | null;
}

/**
 * Locks and opens (creating or migrating) the database at `path`; `:memory:`
 * keeps nothing. Throws {@link StoreOpenError}, leaving nothing open.
 */
export function openDatabase(path: string): OpenDatabase {
  const lock = takeLock(path);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (err) {
    lock?.close();
    throw new StoreOpenError(`cannot open database ${path}: ${errorText(err)}`, { cause: err });
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    // Freed space of tables is zeroed: removed and edited text leaves the file.
    db.exec("PRAGMA secure_delete = FAST");
    db.exec("BEGIN IMMEDIATE; COMMIT");
    migrate(db);
  } catch (err) {
    db.close();
    lock?.close();
    const text = errorText(err);
    const reason = /locked|busy/i.test(text)
      ? "it is in use by another process (another server?)"
      : /not a database/i.test(text)
      ? "it is not a SQLite database"
      : text;
    throw new StoreOpenError(`cannot open database ${path}: ${reason}`, { cause: err });
  }
  return { db, lock };
}

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

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
