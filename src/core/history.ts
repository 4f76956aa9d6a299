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
 * - `get` returns one kept message (with its edit and reactions), `null`
 *   when it is not kept (never was, retention took it, or it was deleted).
 * - `edit` replaces a kept message's text and sets `edited`; `remove` deletes
 *   it (its text leaves the store, search included; its id is not reused);
 *   `react` adds or takes back one nick's reaction (once per nick and emoji).
 *   Each answers `null` (`false` for `remove`) when the message is not kept.
 *   What they change is seen by every later read, on every process sharing
 *   the store, and survives restarts where history does.
 * - `countAfter` is how many kept messages of a room have an id above one.
 * - `search` finds the kept messages of the given rooms whose text holds
 *   every word of the query (case-insensitive, any script, every character
 *   taken as text), newest first; a store that cannot search throws
 *   {@link SearchUnavailable}.
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

/** A store that cannot search (the core answers with a clear error, never a partial result). */
export class SearchUnavailable extends Error {
  override name = "SearchUnavailable";
}

/**
 * What small records are about: a registered nick, a room's settings, a
 * nick's DM partners, a registered nick's read markers and kept rooms, a
 * resume token (by its hash) and a nick's list of them.
 */
export type RecordKind = "nick" | "room" | "dms" | "read" | "joined" | "token" | "tokens";

/** The result of `react`: whether it changed anything (a nick reacts once per emoji). */
export type ReactResult = "changed" | "unchanged";

/** Where room messages live, and the few records kept beside them. */
export interface HistoryStore {
  append(message: NewMessage): Promise<ChatMessage>;
  recent(room: string, limit: number): Promise<ChatMessage[]>;
  after(room: string, after: number, limit: number): Promise<ChatMessage[]>;
  before(room: string, before: number, limit: number): Promise<ChatMessage[]>;
  idAtTime(room: string, ts: number): Promise<number>;
  lastId(room: string): Promise<number>;
  get(room: string, id: number): Promise<ChatMessage | null>;
  /** The edited message (`edited` set to `ts`). */
  edit(room: string, id: number, text: string, ts: number): Promise<ChatMessage | null>;
  remove(room: string, id: number): Promise<boolean>;
  /** `on`: add `nick`'s `emoji`; otherwise take it back. */
  react(
    room: string,
    id: number,
    emoji: string,
    nick: string,
    on: boolean,
  ): Promise<ReactResult | null>;
  countAfter(room: string, after: number): Promise<number>;
  search(rooms: string[], query: string, limit: number): Promise<ChatMessage[]>;
  getRecord(kind: RecordKind, key: string): Promise<string | null>;
  putRecord(kind: RecordKind, key: string, value: string | null): Promise<void>;
  /** Messages kept, all rooms together (for metrics). */
  size(): number;
  /** Whether writes currently succeed (for /healthz and metrics). */
  health(): StoreHealth;
  close(): Promise<void>;
}
