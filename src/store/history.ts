/**
 * The history seam: where room messages are kept and numbered.
 *
 * Contract (every implementation runs the same contract test):
 * - `append` assigns the message its `id` (increasing within the room, never
 *   reused) and keeps `ts`; appends resolve in the order they were called, so
 *   the hub can fan out in resolution order and keep the room's order.
 * - `recent` returns the last `limit` messages of a room, oldest first.
 * - `after` returns the messages with an id larger than `after`, oldest first,
 *   at most `limit`, with no gap while they are still kept.
 * - at most `historySize` messages are kept per room; older ones go.
 *
 * @module
 */

import type { ChatMessage } from "../core/types.ts";

/** A message before the store has numbered it. */
export type NewMessage = Omit<ChatMessage, "id">;

/** Where room messages live. */
export interface HistoryStore {
  append(message: NewMessage): Promise<ChatMessage>;
  recent(room: string, limit: number): Promise<ChatMessage[]>;
  after(room: string, after: number, limit: number): Promise<ChatMessage[]>;
  /** Messages kept, all rooms together (for metrics). */
  size(): number;
  close(): Promise<void>;
}
