/**
 * The history seam: where room messages are kept and numbered. The core
 * defines what it needs here; `src/store/` implements it.
 *
 * Contract (every implementation runs the same contract test):
 * - `append` assigns the message its `id` (increasing within the room, never
 *   reused) and keeps `ts`; appends resolve in the order they were called, so
 *   the hub can fan out in resolution order and keep the room's order.
 * - `recent` returns the last `limit` messages of a room, oldest first.
 * - `after` returns the messages with an id larger than `after`, oldest first,
 *   at most `limit`, with no gap while they are still kept.
 * - `before` returns the newest `limit` messages with an id smaller than
 *   `before`, oldest first (scrollback).
 * - `idAtTime` is the largest kept id whose message is at or before `ts`
 *   (ms), 0 when none is (timestamps do not decrease as ids grow).
 * - `lastId` is the last id given in a room so far (0 for none), also once
 *   retention has deleted the message, and across restarts where history
 *   survives them.
 * - at most `historySize` messages are kept per room; older ones go.
 * - a write that fails rejects with {@link StoreWriteError} (the message is
 *   numbered all the same) and `health()` reports it until a write succeeds.
 * - records (registered nicks, room settings) are small JSON texts by kind
 *   and key; `putRecord` with `null` deletes one; a record put is read back
 *   by any later `getRecord`, and survives restarts where history does.
 *
 * @module
 */

import type { ChatMessage } from "./types.ts";

/** A message before the store has numbered it. */
export type NewMessage = Omit<ChatMessage, "id">;

/** Whether the store is writing; `error` says why not. */
export interface StoreHealth {
  ok: boolean;
  error?: string;
}

/**
 * An append that was numbered but could not be written (disk full, file
 * gone...). It carries the numbered message so the chat can go on: the hub
 * still delivers it and tells the sender it was not kept.
 */
export class StoreWriteError extends Error {
  override name = "StoreWriteError";
  constructor(reason: string, readonly numbered: ChatMessage) {
    super(reason);
  }
}

/** What small records are about: a registered nick, or a room's settings. */
export type RecordKind = "nick" | "room" | "dms";

/** Where room messages live, and the few records kept beside them. */
export interface HistoryStore {
  append(message: NewMessage): Promise<ChatMessage>;
  recent(room: string, limit: number): Promise<ChatMessage[]>;
  after(room: string, after: number, limit: number): Promise<ChatMessage[]>;
  before(room: string, before: number, limit: number): Promise<ChatMessage[]>;
  idAtTime(room: string, ts: number): Promise<number>;
  lastId(room: string): Promise<number>;
  getRecord(kind: RecordKind, key: string): Promise<string | null>;
  putRecord(kind: RecordKind, key: string, value: string | null): Promise<void>;
  /** Messages kept, all rooms together (for metrics). */
  size(): number;
  /** Whether writes currently succeed (for /healthz and metrics). */
  health(): StoreHealth;
  close(): Promise<void>;
}
