/**
 * Cluster mode on Redis (`--redis redis://host:port`): several server
 * processes share rooms, nicks, presence and history.
 *
 * Keys (prefix `chat:`):
 * - `room:<room>` pub/sub channel, one per room: a process subscribes while
 *   it has members there, so it only receives the traffic of its own rooms
 *   (sharding by hash would make every process decode every room's events).
 * - `proc:<id>` pub/sub channel of one process: DMs for its clients.
 * - `nicks` hash: lower-cased nick -> `<process id> <nick>`, claimed with
 *   HSETNX, so a nick is unique across processes.
 * - `members:<room>` hash: nick -> process id; `rooms` set of rooms with members.
 * - `alive:<id>` key with a 10 s expiry, renewed every 3 s; `procs` set of
 *   processes. Every process sweeps every 5 s: a process whose key expired
 *   crashed, and its members leave their rooms (with a quit notice) and its
 *   nicks are freed, within 15 s of the crash.
 * - `guest` counter: each process reserves blocks of guest numbers, the next
 *   one while half of the current one is left, bigger when guests come fast.
 *
 * Pub/sub is at-most-once: an event published while a subscriber's link is
 * down never reaches it. Room messages are numbered with consecutive ids by
 * the Redis history store, so the hub re-orders them and reads gaps back from
 * the shared history; joins, leaves and nick changes lost that way are not
 * replayed (`/who` asks Redis and is always current).
 *
 * Nothing fails silently: a failed publish, presence write, heartbeat, sweep
 * or reconnect is counted per operation ({@link RedisCluster.errorCounts},
 * `chat_cluster_errors_total` in `/metrics`) and logged with its cause, at
 * most once per operation every 10 s.
 *
 * This file holds the link's operations on those keys; its two connections,
 * the pub/sub channels, the link's state and the way back after Redis returns
 * are `redis_connection.ts`.
 *
 * @module
 */

import type { Redis } from "ioredis";
import type { ClusterLink, LinkPeer } from "../core/cluster.ts";
import { nickKey } from "../core/names.ts";
import type { ServerEvent } from "../core/events.ts";
import { RedisConnection } from "./redis_connection.ts";
import { CLAIM, LEAVE, RELEASE, SWEEP } from "./redis_scripts.ts";
import { loadScripts } from "./lua.ts";

const HEARTBEAT_MS = 3000;
const ALIVE_TTL_MS = 10_000;
const SWEEP_MS = 5000;
/** Guest numbers reserved at a time, at least: more than a burst of connections takes in the
 * time Redis takes to answer the next reservation. */
const GUEST_BLOCK = 1000;
/** At most: a storm of guests reserves about a second of them at a time, up to this. */
const MAX_GUEST_BLOCK = 16_384;

/**
 * The guest numbers to reserve next: about a second of them at the rate of `handed` in the last
 * `ms`: {@link GUEST_BLOCK} doubled until it holds that many, at most {@link MAX_GUEST_BLOCK}.
 */
export function guestBlockSize(handed: number, ms: number): number {
  const perSecond = handed * 1000 / Math.max(ms, 1);
  let size = GUEST_BLOCK;
  while (size < perSecond && size < MAX_GUEST_BLOCK) size *= 2;
  return Math.min(size, MAX_GUEST_BLOCK);
}

/** Events for the operator: link state and sweeps (logged by main.ts). */
export interface ClusterEvents {
  onLinkChange?(up: boolean): void;
  onSweep?(process: string, removed: number): void;
}

/** {@link ClusterLink} over Redis. See the module doc. */
export class RedisCluster implements ClusterLink {
  readonly id = crypto.randomUUID().slice(0, 8);
  readonly #redis: RedisConnection;
  /** The connection for commands (the other one is subscribed). */
  readonly #pub: Redis;
  readonly #prefix: string;
  readonly #events: ClusterEvents;
  #peer: LinkPeer | null = null;
  /** Guest numbers in hand: the block in use, [next, end), and the one reserved after it. */
  #guest = { next: 0, end: 0 };
  #spareGuests: { next: number; end: number } | null = null;
  #reservingGuests = false;
  /** The size of the last block reserved, and the guests handed out since it was asked for. */
  #guestBlock = GUEST_BLOCK;
  #guestRate = { count: 0, since: performance.now() };
  /** Local presence, re-announced after Redis comes back. */
  readonly #members = new Map<string, Set<string>>();
  readonly #nicks = new Map<string, string>();
  readonly #watched = new Set<string>();

  private constructor(url: string, prefix: string, events: ClusterEvents, timeoutMs: number) {
    this.#redis = new RedisConnection(url, timeoutMs, this.id, prefix, {
      room: (room, event, rooms) => this.#peer?.remote(room, event, rooms),
      direct: (nick, event) => this.#peer?.direct(nick, event),
      reannounce: () => this.#reannounce(),
    });
    this.#pub = this.#redis.pub;
    this.#prefix = prefix;
    this.#events = events;
    // The operator's handler first, then those added by onLinkChange.
    this.#redis.onLinkChange((up) => this.#events.onLinkChange?.(up));
  }

  /** Connects (failing within `timeoutMs` if Redis cannot be reached) and starts heartbeats. */
  static async connect(
    url: string,
    events: ClusterEvents = {},
    prefix = "chat:",
    timeoutMs = 3000,
  ): Promise<RedisCluster> {
    const cluster = new RedisCluster(url, prefix, events, timeoutMs);
    await cluster.#redis.connect(() => cluster.#start());
    return cluster;
  }

  /** Also tells `handler` when the link to Redis goes down or comes back. */
  onLinkChange(handler: (up: boolean) => void): void {
    this.#redis.onLinkChange(handler);
  }

  /** False while the link to Redis is down (local clients still chat among themselves). */
  get up(): boolean {
    return this.#redis.up;
  }

  /** Failures so far, per operation (every one of `CLUSTER_OPS`, 0 included). */
  errorCounts(): Record<string, number> {
    return this.#redis.errorCounts();
  }

  /**
   * Resolves once the fire-and-forget calls made so far (watch, unwatch,
   * joined, left, releaseNick, the reservation of guest numbers) are done,
   * well or not: what a test awaits before it looks from another process.
   */
  settled(): Promise<void> {
    return this.#redis.settled();
  }

  async #start(): Promise<void> {
    const redis = this.#redis;
    await loadScripts(this.#pub);
    await this.#reserveGuests();
    await this.#heartbeat();
    redis.every(HEARTBEAT_MS, () => this.#tick());
    redis.every(SWEEP_MS, () => {
      this.#sweep().catch((err) => redis.report("sweep", err));
    });
    redis.watchLink();
  }

  #tick(): void {
    this.#heartbeat().catch((err) => this.#redis.report("heartbeat", err));
    // A reannounce that failed is tried again while the connection is up.
    this.#redis.recover();
  }

  attach(peer: LinkPeer): void {
    this.#peer = peer;
  }

  publish(room: string, event: ServerEvent): void {
    this.#redis.publish(room, { e: event });
  }

  publishNick(event: ServerEvent, rooms: string[]): void {
    for (const room of rooms) {
      this.#redis.publish(room, { e: event, r: rooms });
    }
  }

  async claimNick(nick: string): Promise<boolean> {
    const ok = Number(await this.#claim(nick)) === 1;
    if (ok) this.#nicks.set(nickKey(nick), nick);
    return ok;
  }

  releaseNick(nick: string): void {
    this.#nicks.delete(nickKey(nick));
    this.#redis.background(
      "releaseNick",
      RELEASE.run(this.#pub, 1, this.#key("nicks"), nickKey(nick), this.#owner("")),
    );
  }

  async findNick(nick: string): Promise<string | null> {
    const value = await this.#pub.hget(this.#key("nicks"), nickKey(nick));
    return value === null ? null : value.slice(value.indexOf(" ") + 1);
  }

  async sendDirect(nick: string, event: ServerEvent): Promise<boolean> {
    const value = await this.#pub.hget(this.#key("nicks"), nickKey(nick));
    if (value === null) return false;
    const owner = value.slice(0, value.indexOf(" "));
    return await this.#redis.sendTo(owner, { e: event, r: [nick] });
  }

  nextGuest(): number {
    if (this.#guest.next >= this.#guest.end && this.#spareGuests !== null) {
      this.#guest = this.#spareGuests;
      this.#spareGuests = null;
    }
    const left = this.#guest.end - this.#guest.next;
    if (this.#spareGuests === null && !this.#reservingGuests && left <= this.#guestBlock / 2) {
      this.#reservingGuests = true;
      this.#redis.background(
        "nextGuest",
        this.#reserveGuests(this.#nextBlockSize()).finally(() => this.#reservingGuests = false),
      );
    }
    if (this.#guest.next >= this.#guest.end) {
      // More guests in one burst than numbers in hand (or Redis is away): the
      // numbers past the block may be another process's. Said, and counted.
      this.#redis.report(
        "nextGuest",
        new Error(`no reserved guest number left: ${this.#guest.next} may be handed out twice`),
      );
      this.#guest.end = this.#guest.next + 1;
    }
    this.#guestRate.count++;
    return this.#guest.next++;
  }

  /** About a second of guests at the rate since the last reservation (a storm reserves more). */
  #nextBlockSize(): number {
    const now = performance.now();
    const size = guestBlockSize(this.#guestRate.count, now - this.#guestRate.since);
    this.#guestRate = { count: 0, since: now };
    return this.#guestBlock = size;
  }

  watch(room: string): void {
    this.#watched.add(room);
    this.#redis.watch(room);
  }

  unwatch(room: string): void {
    this.#watched.delete(room);
    this.#redis.unwatch(room);
  }

  joined(room: string, nick: string): void {
    let members = this.#members.get(room);
    if (members === undefined) this.#members.set(room, members = new Set());
    members.add(nick);
    this.#redis.background(
      "joined",
      this.#pub.multi()
        .hset(this.#key("members", room), nick, this.id)
        .sadd(this.#key("rooms"), room)
        .exec(),
    );
  }

  left(room: string, nick: string): void {
    const members = this.#members.get(room);
    members?.delete(nick);
    if (members?.size === 0) this.#members.delete(room);
    this.#redis.background(
      "left",
      LEAVE.run(this.#pub, 2, this.#key("members", room), this.#key("rooms"), nick, room),
    );
  }

  async who(room: string): Promise<string[]> {
    const members = await this.#pub.hkeys(this.#key("members", room));
    return members.sort((a, b) => nickKey(a) < nickKey(b) ? -1 : nickKey(a) > nickKey(b) ? 1 : 0);
  }

  async rooms(): Promise<{ room: string; members: number }[]> {
    const rooms = (await this.#pub.smembers(this.#key("rooms"))).sort();
    if (rooms.length === 0) return [];
    const pipeline = this.#pub.pipeline();
    for (const room of rooms) pipeline.hlen(this.#key("members", room));
    const counts = (await pipeline.exec()) ?? [];
    return rooms
      .map((room, i) => ({ room, members: Number(counts[i]?.[1] ?? 0) }))
      .filter((r) => r.members > 0);
  }

  /** Stops heartbeats, removes this process's presence, closes the connections. */
  async close(): Promise<void> {
    this.#redis.stopTimers();
    await this.settled();
    try {
      await this.#sweepOut(this.id);
      await this.#pub.del(this.#key("alive", this.id));
    } catch (err) {
      // Redis is gone: the others' sweep cleans up after the expiry.
      this.#redis.report("close", err);
    }
    await this.#redis.quit();
  }

  /** Reserves the block of `size` guest numbers to use after the current one. */
  async #reserveGuests(size = GUEST_BLOCK): Promise<void> {
    const end = await this.#pub.incrby(this.#key("guest"), size);
    // The reserved block is [end - size + 1, end]; numbers start at 1.
    this.#spareGuests = { next: end - size + 1, end: end + 1 };
  }

  #claim(nick: string): Promise<unknown> {
    return CLAIM.run(
      this.#pub,
      1,
      this.#key("nicks"),
      nickKey(nick),
      this.#owner(nick),
      this.#owner(""),
    );
  }

  async #heartbeat(): Promise<void> {
    await this.#pub.multi()
      .set(this.#key("alive", this.id), "1", "PX", ALIVE_TTL_MS)
      .sadd(this.#key("procs"), this.id)
      .exec();
  }

  /** Frees the members and nicks of processes whose heartbeat expired. */
  async #sweep(): Promise<void> {
    const procs = await this.#pub.smembers(this.#key("procs"));
    for (const proc of procs) {
      if (proc === this.id || (await this.#pub.exists(this.#key("alive", proc))) === 1) {
        continue;
      }
      // One process sweeps a given dead one.
      const lock = await this.#pub.set(
        this.#key("sweep", proc),
        this.id,
        "PX",
        SWEEP_MS,
        "NX",
      );
      if (lock !== "OK") continue;
      const removed = await this.#sweepOut(proc);
      for (let i = 0; i + 1 < removed.length; i += 2) {
        const event: ServerEvent = {
          type: "left",
          room: removed[i],
          nick: removed[i + 1],
          reason: { kind: "quit", message: "server lost" },
        };
        // To everyone, this process included (publish skips its own envelopes).
        this.#peer?.remote(removed[i], event);
        this.publish(removed[i], event);
      }
      this.#events.onSweep?.(proc, removed.length / 2);
    }
  }

  /** Removes `proc`'s members and nicks, and `proc` from `procs`; returns the `[room, nick]` pairs removed. */
  async #sweepOut(proc: string): Promise<string[]> {
    return (await SWEEP.run(
      this.#pub,
      3,
      this.#key("rooms"),
      this.#key("nicks"),
      this.#key("procs"),
      proc,
      this.#key("members", ""),
    )) as string[];
  }

  /** After Redis comes back: the scripts, presence, nicks and subscriptions as they are here. */
  async #reannounce(): Promise<void> {
    await loadScripts(this.#pub);
    await this.#heartbeat();
    for (const nick of this.#nicks.values()) await this.#claim(nick);
    for (const [room, members] of this.#members) {
      for (const nick of members) {
        await this.#pub.hset(this.#key("members", room), nick, this.id);
      }
      await this.#pub.sadd(this.#key("rooms"), room);
    }
  }

  #owner(nick: string): string {
    return `${this.id} ${nick}`;
  }

  #key(...parts: string[]): string {
    return this.#prefix + parts.join(":");
  }
}
