/**
 * The cluster seam: what the hub needs from other server processes sharing
 * rooms with it. Without a cluster (the default) the hub is the whole world;
 * with one (`--redis`), room events, presence and nicks are shared through it.
 *
 * Contract for implementations:
 * - `publish` is at-most-once and never delivers an event back to the process
 *   that published it (the hub has delivered it locally already).
 * - Room messages are numbered by the shared history store with consecutive
 *   ids per room; the hub puts them back in order and fills gaps from the
 *   store, so `publish` may reorder or lose them.
 * - Presence calls are fire-and-forget; queries reflect every process.
 *
 * @module
 */

import type { ServerEvent } from "./types.ts";

/** An event from another process for the local members of `room`. */
export type RemoteHandler = (room: string, event: ServerEvent, rooms?: string[]) => void;

/** What the hub uses of a cluster. */
export interface ClusterLink {
  /** Sends a room event to the members of `room` on the other processes. */
  publish(room: string, event: ServerEvent): void;
  /**
   * A nick change, once for everyone who shares one of `rooms` with the
   * client (receivers deliver it once per member, whatever rooms they share).
   */
  publishNick(event: ServerEvent, rooms: string[]): void;
  /** Takes `nick` cluster-wide; false if another client has it. */
  claimNick(nick: string): Promise<boolean>;
  releaseNick(nick: string): void;
  /** A guest number no other process hands out. */
  nextGuest(): number;
  /** The last message id given in `room` so far (0 for none). */
  lastId(room: string): Promise<number>;
  /** This process has (no longer has) members in `room`: receive (stop receiving) its events. */
  watch(room: string): void;
  unwatch(room: string): void;
  /** Presence: a local client is now (no longer) a member of `room`. */
  joined(room: string, nick: string): void;
  left(room: string, nick: string): void;
  /** Members of a room on every process, sorted. */
  who(room: string): Promise<string[]>;
  /** Rooms with members on any process, and their member counts. */
  rooms(): Promise<{ room: string; members: number }[]>;
  /** The nick as its owner spells it, if any process has it. */
  findNick(nick: string): Promise<string | null>;
  /** Delivers a DM to `nick` on whichever process has it; false if none does. */
  sendDirect(nick: string, event: ServerEvent): Promise<boolean>;
  /** Called by the cluster for events from other processes. */
  onRemote(handler: RemoteHandler): void;
  /** Called by the cluster for a DM from another process to a local nick. */
  onDirect(handler: (nick: string, event: ServerEvent) => void): void;
}
