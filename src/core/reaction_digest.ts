/**
 * Reactions in bursts: doors that show no reaction one by one (nc lines, IRC
 * without tags) get one `reactions` event per message after a quiet spell,
 * with the counts as they then stand, instead of a line per click.
 *
 * @module
 */

import type { TimerHandle, Timers } from "./clock.ts";
import type { HistoryStore } from "./history.ts";
import type { ServerEvent } from "./events.ts";

/** How long reactions to a room's messages gather before they are summed up. */
export const DIGEST_MS = 5000;

/** The most characters of a message's text the digest quotes. */
const QUOTE_CHARS = 40;

/** Per room, the messages reacted to since the last digest. */
export class ReactionDigests {
  readonly #pending = new Map<string, { ids: Set<number>; timer: TimerHandle }>();

  constructor(
    private readonly store: HistoryStore,
    private readonly timers: Timers,
    /** Tells the room's members here. */
    private readonly tell: (room: string, event: ServerEvent) => void,
    private readonly onError: (err: unknown) => void,
    private readonly delayMs = DIGEST_MS,
  ) {}

  /** Someone reacted to message `id` of `room` (here or on another process). */
  touch(room: string, id: number): void {
    const pending = this.#pending.get(room);
    if (pending !== undefined) {
      pending.ids.add(id);
      return;
    }
    const timer = this.timers.setTimeout(() => this.#flush(room), this.delayMs);
    this.#pending.set(room, { ids: new Set([id]), timer });
  }

  /** Stops the timers (shutdown). */
  stop(): void {
    for (const { timer } of this.#pending.values()) this.timers.clearTimeout(timer);
    this.#pending.clear();
  }

  async #flush(room: string): Promise<void> {
    const pending = this.#pending.get(room);
    this.#pending.delete(room);
    for (const id of pending?.ids ?? []) {
      try {
        const message = await this.store.get(room, id);
        if (message === null) continue; // deleted meanwhile
        const chars = [...message.text];
        const text = chars.length > QUOTE_CHARS
          ? chars.slice(0, QUOTE_CHARS).join("") + "..."
          : message.text;
        this.tell(room, {
          type: "reactions",
          room,
          id,
          nick: message.nick,
          text,
          reactions: message.reactions ?? {},
        });
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
