/**
 * The Redis store's group commit: the appends a turn makes wait for the end
 * of the turn and go to Redis in one script call per room (at most
 * {@link MAX_GROUP}), as the SQLite store commits a turn's messages in one
 * transaction; a fan-out's burst costs one command, not one per line. They
 * settle once every call of the turn has answered, in the order they were
 * made. The store sends them first whenever it runs another command
 * ({@link AppendQueue.commit}), so Redis runs everything in call order.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { ChatMessage } from "../core/types.ts";
import type { NewMessage } from "../core/history.ts";
import { StoreWriteError } from "../core/history.ts";

/** Appends in one script call, at most: a burst bigger than this takes several. */
export const MAX_GROUP = 100;

/**
 * Appends one room's messages in one call: each one numbered, or the error
 * that kept it from being (never rejects).
 */
export type AppendGroup = (
  room: string,
  messages: NewMessage[],
) => Promise<(ChatMessage | StoreWriteError)[]>;

/** An append waiting for the end of the turn. */
interface Queued {
  message: NewMessage;
  resolve(message: ChatMessage): void;
  reject(err: StoreWriteError): void;
  /** What its call gave, once it answered. */
  outcome?: ChatMessage | StoreWriteError;
}

/** Appends waiting for the end of the turn, sent by {@link AppendGroup}. See the module doc. */
export class AppendQueue {
  readonly #send: AppendGroup;
  /** In the order they were made. */
  #queued: Queued[] = [];

  constructor(send: AppendGroup) {
    this.#send = send;
  }

  /** Numbers `message` with the others of this turn. */
  add(message: NewMessage): Promise<ChatMessage> {
    return new Promise((resolve, reject) => {
      if (this.#queued.length === 0) setImmediate(() => this.commit());
      this.#queued.push({ message, resolve, reject });
    });
  }

  /** Sends what waits now (nothing if nothing does). */
  commit(): void {
    if (this.#queued.length === 0) return;
    const queued = this.#queued;
    this.#queued = [];
    const rooms = new Map<string, Queued[]>();
    for (const append of queued) {
      const group = rooms.get(append.message.room);
      if (group === undefined) rooms.set(append.message.room, [append]);
      else group.push(append);
    }
    const calls: Promise<void>[] = [];
    for (const [room, appends] of rooms) {
      for (let at = 0; at < appends.length; at += MAX_GROUP) {
        const group = appends.slice(at, at + MAX_GROUP);
        calls.push(
          this.#send(room, group.map((a) => a.message)).then((done) =>
            group.forEach((append, i) => append.outcome = done[i])
          ),
        );
      }
    }
    Promise.all(calls).then(() => {
      for (const append of queued) {
        const outcome = append.outcome!;
        if (outcome instanceof StoreWriteError) append.reject(outcome);
        else append.resolve(outcome);
      }
    });
  }
}
