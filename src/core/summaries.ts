/**
 * Quiet rooms: above `quietRoomSize` members, joins, leaves and nick changes
 * are not announced one by one to every member (a storm of O(members²)
 * lines) but counted, and each room's members get one summary line every
 * `summaryIntervalMs` instead.
 *
 * @module
 */

import type { TimerHandle, Timers } from "./clock.ts";
import type { Room } from "./room.ts";
import type { ServerEvent } from "./events.ts";

/** Joins and leaves of one room since its last summary. */
interface Counts {
  joined: number;
  left: number;
}

/** The quiet rooms' counts and the timer that summarizes them. */
export class QuietRooms {
  readonly #counts = new Map<Room, Counts>();
  /** Members above which a room is quiet; a reload may change it. */
  size: number;
  readonly #intervalMs: number;
  readonly #timers: Timers;
  readonly #tell: (room: Room, event: ServerEvent) => void;
  #timer: TimerHandle | null = null;

  /** `tell` sends a summary to a room's members (here and elsewhere). */
  constructor(
    size: number,
    intervalMs: number,
    timers: Timers,
    tell: (room: Room, event: ServerEvent) => void,
  ) {
    this.size = size;
    this.#intervalMs = intervalMs;
    this.#timers = timers;
    this.#tell = tell;
  }

  /** Whether `room` is too big to announce each join and leave. */
  isQuiet(room: Room): boolean {
    return room.size > this.size;
  }

  joined(room: Room): void {
    this.#count(room).joined++;
  }

  left(room: Room): void {
    this.#count(room).left++;
  }

  /** Stops the timer (shutdown). */
  stop(): void {
    if (this.#timer !== null) this.#timers.clearInterval(this.#timer);
    this.#timer = null;
  }

  #count(room: Room): Counts {
    let counts = this.#counts.get(room);
    if (counts === undefined) this.#counts.set(room, counts = { joined: 0, left: 0 });
    this.#timer ??= this.#timers.setInterval(() => this.#summarize(), this.#intervalMs);
    return counts;
  }

  /** One line per quiet room instead of one per join or leave per member. */
  #summarize(): void {
    const seconds = Math.round(this.#intervalMs / 1000);
    for (const [room, { joined, left }] of this.#counts) {
      this.#tell(room, { type: "summary", room: room.name, joined, left, seconds });
    }
    if (this.#counts.size === 0) this.stop();
    this.#counts.clear();
  }
}
