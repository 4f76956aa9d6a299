/**
 * What the history contract's cases share: the signature of a case, the
 * message they append, and small helpers to fill a room and compare ids.
 *
 * @module
 */

import type { ChatMessage } from "../core/types.ts";
import type { HistoryStore, NewMessage } from "../core/history.ts";

/**
 * Registers one case: `fn` runs on a new store keeping `size` messages per
 * room (1000 unless given), closed afterwards whatever happens.
 */
export type StoreTest = (
  title: string,
  fn: (store: HistoryStore) => Promise<void>,
  size?: number,
) => void;

/** The time of the messages {@link msg} makes unless told otherwise. */
export const TS = 1_700_000_000_000;

/** A message to append in store tests. */
export function msg(room: string, text: string, extra: Partial<NewMessage> = {}): NewMessage {
  return { room, nick: "alice", text, ts: TS, kind: "say", ...extra };
}

/** Appends `count` messages to `room`, in order, awaiting each. */
export async function fill(
  store: HistoryStore,
  room: string,
  count: number,
): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  for (let i = 1; i <= count; i++) out.push(await store.append(msg(room, `m${i}`)));
  return out;
}

/** The ids of `messages`, in order. */
export function ids(messages: ChatMessage[]): number[] {
  return messages.map((m) => m.id);
}

/** The integers from `from` to `to`, both included. */
export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
