/**
 * The cluster seam: what the core needs from the other server processes that
 * share its rooms. There is always a link: the in-memory one (the default, a
 * single process) answers from this process's own state, at once; the Redis
 * one (`--redis`) shares rooms, presence and nicks with other processes. The
 * core never asks which one it has.
 *
 * Contract for implementations (`src/cluster/contract.ts` runs it on each):
 * - `publish` is at-most-once and never delivers an event back to the process
 *   that published it (the core has delivered it locally already).
 * - Room messages are numbered by the shared history store with consecutive
 *   ids per room; the core puts them back in order and fills gaps from the
 *   store, so `publish` may reorder or lose them.
 * - Presence calls are fire-and-forget; queries reflect every process. A
 *   link that can answer at once (in memory) does, so a single process
 *   replies in the same turn as it always did.
 *
 * @module
 */

import type { ServerEvent } from "./events.ts";

/** A value now, or later. */
export type Awaitable<T> = T | Promise<T>;

/** Calls `then` with the value, at once when there is one. */
export function whenReady<T, R>(
  value: Awaitable<T>,
  then: (value: T) => R,
  fail: (err: unknown) => R,
): Awaitable<R> {
  return value instanceof Promise ? value.then(then, fail) : then(value);
}

/** Rooms with members, and how many. */
export interface RoomCount {
  room: string;
  members: number;
}

/** What a link needs of the process it connects: delivery, and its own view. */
export interface LinkPeer {
  /**
   * An event from another process for this process's members of `room`; for
   * a nick change, `rooms` lists the renamer's rooms (deliver once per member).
   */
  remote(room: string, event: ServerEvent, rooms?: string[]): void;
  /** A DM from another process to `nick`, a client of this process. */
  direct(nick: string, event: ServerEvent): void;
  /** This process's members of `room`, in the order they joined. */
  localMembers(room: string): string[];
  /** This process's rooms with members. */
  localRooms(): RoomCount[];
}

/** What the core uses of the other processes. */
export interface ClusterLink {
  /** Connects this process's core: called once, before anything else. */
  attach(peer: LinkPeer): void;
  /** Sends a room event to the members of `room` on the other processes. */
  publish(room: string, event: ServerEvent): void;
  /**
   * A nick change, once for everyone who shares one of `rooms` with the
   * client (receivers deliver it once per member, whatever rooms they share).
   */
  publishNick(event: ServerEvent, rooms: string[]): void;
  /** Takes `nick` for this process; false if a client of another process has it. */
  claimNick(nick: string): Awaitable<boolean>;
  releaseNick(nick: string): void;
  /** The nick as its owner spells it, if any process has it. */
  findNick(nick: string): Awaitable<string | null>;
  /** Delivers a DM to `nick` on whichever other process has it; false if none does. */
  sendDirect(nick: string, event: ServerEvent): Awaitable<boolean>;
  /** A guest number no other process hands out. */
  nextGuest(): number;
  /** This process has (no longer has) members in `room`: receive (stop receiving) its events. */
  watch(room: string): void;
  unwatch(room: string): void;
  /** Presence: a local client is now (no longer) a member of `room`. */
  joined(room: string, nick: string): void;
  left(room: string, nick: string): void;
  /**
   * Members of a room on every process. The order is the link's: in memory,
   * join order (this process's members first); in Redis, sorted by nick.
   */
  who(room: string): Awaitable<string[]>;
  /** Rooms with members on any process, sorted by name, with their member counts. */
  rooms(): Awaitable<RoomCount[]>;
}
