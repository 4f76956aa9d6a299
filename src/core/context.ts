/**
 * What every command handler works with: the process's registry, the store,
 * the link to other processes, the counters and the settings. Handlers are
 * functions of `(context, session, command)`; the hub builds the context once.
 *
 * @module
 */

import type { AttemptLimiter, AttemptLimits } from "./attempts.ts";
import type { AuditSink } from "./audit.ts";
import type { Timers } from "./clock.ts";
import type { ClusterLink } from "./cluster.ts";
import type { FloodLimits } from "./flood.ts";
import type { HistoryStore } from "./history.ts";
import type { ReactionDigests } from "./reaction_digest.ts";
import type { ReadMarkers } from "./reading.ts";
import type { KeptRooms } from "./staying.ts";
import type { Registry } from "./registry.ts";
import type { RoomSequencer } from "./sequencer.ts";
import type { Stats } from "./stats.ts";
import type { QuietRooms } from "./summaries.ts";
import type { TokenLists } from "./tokens.ts";

/** Hub settings; defaults live in `config.ts`. */
export interface HubOptions {
  /** Messages replayed to a member when it joins a room (0: none). */
  historyOnJoin: number;
  /** Default and largest `/history` sizes. */
  historyDefault: number;
  historyMax: number;
  /** Name shown in the welcome notice. */
  serverName: string;
  /** The longest line or frame the server takes, in UTF-8 bytes (told in the welcome). */
  maxLineBytes?: number;
  /**
   * Above this many members a room is quiet: joins, leaves and nick changes
   * are not announced one by one to every member (a storm of O(members²)
   * lines) but counted, and summarized every `summaryIntervalMs`.
   */
  quietRoomSize: number;
  summaryIntervalMs: number;
  /** The other processes sharing rooms, nicks and presence (in memory for one process). */
  link: ClusterLink;
  /** Wall clock for message timestamps, injectable for tests. */
  now?: () => number;
  /** Monotonic time and timers, injectable for tests. */
  timers?: Timers;
  /** A handler failed unexpectedly (a bug, not bad input): log it. */
  onError?: (err: unknown) => void;
  /** Where audit records go (see audit.ts); none when absent. */
  audit?: AuditSink;
  /** Per-client flood control; none (`--no-limits`) when absent. */
  flood?: FloodLimits;
  /** The server password clients must `pass` first; none when absent. */
  password?: string;
  /** The password that makes a client a server operator (`admin`); none when absent. */
  adminPassword?: string;
  /** Failed password attempts per address; unlimited (`--no-limits`) when absent. */
  attempts?: AttemptLimits;
  /**
   * Addresses that bans by address leave alone (the server exempts loopback
   * unless `--limit-loopback`); none by default.
   */
  exempt?: (address: string) => boolean;
  /**
   * `rehash`: re-reads the config file and applies it, resolving to what
   * changed (or rejecting with why not); absent when the host cannot reload.
   */
  rehash?: () => Promise<string>;
}

/** What handlers work with. */
export interface Context {
  readonly registry: Registry;
  readonly store: HistoryStore;
  readonly link: ClusterLink;
  readonly stats: Stats;
  readonly options: HubOptions;
  readonly timers: Timers;
  /** Failed password attempts per address; `null` when unlimited. */
  readonly attempts: AttemptLimiter | null;
  readonly quiet: QuietRooms;
  readonly sequencer: RoomSequencer;
  /** Read markers (logged-in nicks' in the store, one change at a time). */
  readonly markers: ReadMarkers;
  /** The rooms logged-in nicks are kept in across connections. */
  readonly kept: KeptRooms;
  /** Each nick's resume tokens (one change at a time). */
  readonly tokens: TokenLists;
  /** Reactions summed up for the doors that do not show them one by one. */
  readonly digests: ReactionDigests;
  /** Addresses that bans by address leave alone. */
  exempt(address: string): boolean;
  /** Wall-clock milliseconds, for timestamps. */
  now(): number;
  /** When the hub started (wall clock). */
  readonly startedAt: number;
  /** Something failed that no client can be told about: log it. */
  onError(err: unknown): void;
}
