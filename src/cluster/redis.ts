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
 *   one while half of the current one is left.
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
 * @module
 */

import { Redis } from "ioredis";
import type { ClusterLink, LinkPeer } from "../core/cluster.ts";
import { nickKey } from "../core/names.ts";
import type { ServerEvent } from "../core/types.ts";
import { logger } from "../log.ts";
import { ErrorLog } from "./errors.ts";
import { CLAIM, LEAVE, RELEASE, SWEEP } from "./redis_scripts.ts";

const HEARTBEAT_MS = 3000;
const ALIVE_TTL_MS = 10_000;
const SWEEP_MS = 5000;
const GUEST_BLOCK = 100;

/** The operations whose failures are counted (see {@link RedisCluster.errorCounts}). */
export const CLUSTER_OPS = [
  "connection",
  "publish",
  "watch",
  "unwatch",
  "joined",
  "left",
  "releaseNick",
  "nextGuest",
  "heartbeat",
  "sweep",
  "reannounce",
  "receive",
  "close",
] as const;

/** A published event: who sent it, and (for nick changes) the rooms it concerns. */
interface Envelope {
  o: string;
  e: ServerEvent;
  r?: string[];
}

/** Events for the operator: link state and sweeps (logged by main.ts). */
export interface ClusterEvents {
  onLinkChange?(up: boolean): void;
  onSweep?(process: string, removed: number): void;
}

/** {@link ClusterLink} over Redis. See the module doc. */
export class RedisCluster implements ClusterLink {
  readonly id = crypto.randomUUID().slice(0, 8);
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #prefix: string;
  readonly #events: ClusterEvents;
  #peer: LinkPeer | null = null;
  /** Guest numbers in hand: the block in use, [next, end), and the one reserved after it. */
  #guest = { next: 0, end: 0 };
  #spareGuests: { next: number; end: number } | null = null;
  #reservingGuests = false;
  readonly #errors = new ErrorLog(logger("cluster"), "redis", CLUSTER_OPS);
  /** Fire-and-forget work in flight (presence, subscriptions, releases), for {@link settled}. */
  readonly #pending = new Set<Promise<void>>();
  #recovering = false;
  #timers: ReturnType<typeof setInterval>[] = [];
  #up = true;
  /** How every envelope this process publishes starts (`{"o":"<id>"`). */
  readonly #ownPrefix = `{"o":${JSON.stringify(this.id)}`;
  #linkHandlers: ((up: boolean) => void)[] = [];
  /** Local presence, re-announced after Redis comes back. */
  readonly #members = new Map<string, Set<string>>();
  readonly #nicks = new Map<string, string>();
  readonly #watched = new Set<string>();

  private constructor(pub: Redis, sub: Redis, prefix: string, events: ClusterEvents) {
    this.#pub = pub;
    this.#sub = sub;
    this.#prefix = prefix;
    this.#events = events;
  }

  /** Connects (failing within `timeoutMs` if Redis cannot be reached) and starts heartbeats. */
  static async connect(
    url: string,
    events: ClusterEvents = {},
    prefix = "chat:",
    timeoutMs = 3000,
  ): Promise<RedisCluster> {
    const options = {
      lazyConnect: true,
      // Commands of one turn leave in one write: fan-out publishes come in bursts.
      enableAutoPipelining: true,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    };
    const pub = new Redis(url, options);
    const sub = new Redis(url, options);
    const cluster = new RedisCluster(pub, sub, prefix, events);
    let connecting = true;
    for (const r of [pub, sub]) {
      r.on("error", (err) => {
        // A failure to connect is thrown; later ones (ioredis retries) are reported.
        if (!connecting) cluster.#errors.report("connection", err);
      });
    }
    try {
      await Promise.all([pub.connect(), sub.connect()]);
      await cluster.#start();
    } catch (err) {
      pub.disconnect();
      sub.disconnect();
      throw err;
    }
    connecting = false;
    return cluster;
  }

  /** Also tells `handler` when the link to Redis goes down or comes back. */
  onLinkChange(handler: (up: boolean) => void): void {
    this.#linkHandlers.push(handler);
  }

  /** False while the link to Redis is down (local clients still chat among themselves). */
  get up(): boolean {
    return this.#up;
  }

  /** Failures so far, per operation (every one of {@link CLUSTER_OPS}, 0 included). */
  errorCounts(): Record<string, number> {
    return this.#errors.counts();
  }

  /**
   * Resolves once the fire-and-forget calls made so far (watch, unwatch,
   * joined, left, releaseNick, the reservation of guest numbers) are done,
   * well or not: what a test awaits before it looks from another process.
   */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  async #start(): Promise<void> {
    this.#sub.on(
      "messageBuffer",
      (channel: Buffer, payload: Buffer) => this.#receive(channel.toString(), payload.toString()),
    );
    await this.#sub.subscribe(this.#key("proc", this.id));
    await this.#reserveGuests();
    await this.#heartbeat();
    this.#timers.push(setInterval(() => this.#tick(), HEARTBEAT_MS));
    this.#timers.push(setInterval(() => {
      this.#sweep().catch((err) => this.#errors.report("sweep", err));
    }, SWEEP_MS));
    this.#pub.on("close", () => this.#setUp(false));
    this.#pub.on("ready", () => this.#recover());
  }

  #tick(): void {
    this.#heartbeat().catch((err) => this.#errors.report("heartbeat", err));
    // A reannounce that failed is tried again while the connection is up.
    this.#recover();
  }

  /** After Redis comes back: announces this process again, then says the link is up. */
  #recover(): void {
    if (this.#up || this.#recovering || this.#pub.status !== "ready") return;
    this.#recovering = true;
    this.#reannounce().then(
      () => this.#setUp(true),
      (err) => this.#errors.report("reannounce", err),
    ).finally(() => this.#recovering = false);
  }

  attach(peer: LinkPeer): void {
    this.#peer = peer;
  }

  publish(room: string, event: ServerEvent): void {
    this.#send(this.#key("room", room), { o: this.id, e: event });
  }

  publishNick(event: ServerEvent, rooms: string[]): void {
    for (const room of rooms) {
      this.#send(this.#key("room", room), { o: this.id, e: event, r: rooms });
    }
  }

  async claimNick(nick: string): Promise<boolean> {
    const ok = Number(await this.#claim(nick)) === 1;
    if (ok) this.#nicks.set(nickKey(nick), nick);
    return ok;
  }

  releaseNick(nick: string): void {
    this.#nicks.delete(nickKey(nick));
    this.#background(
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
    const payload: Envelope = { o: this.id, e: event, r: [nick] };
    return (await this.#pub.publish(this.#key("proc", owner), JSON.stringify(payload))) > 0;
  }

  nextGuest(): number {
    if (this.#guest.next >= this.#guest.end && this.#spareGuests !== null) {
      this.#guest = this.#spareGuests;
      this.#spareGuests = null;
    }
    const left = this.#guest.end - this.#guest.next;
    if (this.#spareGuests === null && !this.#reservingGuests && left <= GUEST_BLOCK / 2) {
      this.#reservingGuests = true;
      this.#background(
        "nextGuest",
        this.#reserveGuests().finally(() => this.#reservingGuests = false),
      );
    }
    if (this.#guest.next >= this.#guest.end) {
      // More guests in one burst than numbers in hand (or Redis is away): the
      // numbers past the block may be another process's. Said, and counted.
      this.#errors.report(
        "nextGuest",
        new Error(`no reserved guest number left: ${this.#guest.next} may be handed out twice`),
      );
      this.#guest.end = this.#guest.next + 1;
    }
    return this.#guest.next++;
  }

  watch(room: string): void {
    this.#watched.add(room);
    this.#background("watch", this.#sub.subscribe(this.#key("room", room)));
  }

  unwatch(room: string): void {
    this.#watched.delete(room);
    this.#background("unwatch", this.#sub.unsubscribe(this.#key("room", room)));
  }

  joined(room: string, nick: string): void {
    let members = this.#members.get(room);
    if (members === undefined) this.#members.set(room, members = new Set());
    members.add(nick);
    this.#background(
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
    this.#background(
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
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await this.settled();
    try {
      await SWEEP.run(
        this.#pub,
        3,
        this.#key("rooms"),
        this.#key("nicks"),
        this.#key("procs"),
        this.id,
        this.#key("members", ""),
      );
      await this.#pub.del(this.#key("alive", this.id));
    } catch (err) {
      // Redis is gone: the others' sweep cleans up after the expiry.
      this.#errors.report("close", err);
    }
    for (const r of [this.#sub, this.#pub]) {
      try {
        await r.quit();
      } catch {
        r.disconnect();
      }
    }
  }

  #receive(channel: string, payload: string): void {
    // Our own events come back too: skip them before parsing.
    if (payload.startsWith(this.#ownPrefix)) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload);
    } catch (err) {
      this.#errors.report("receive", new Error(`not JSON on ${channel}`, { cause: err }));
      return;
    }
    if (envelope.o === this.id) return; // our own: delivered locally already
    if (channel === this.#key("proc", this.id)) {
      if (envelope.r?.[0] !== undefined) this.#peer?.direct(envelope.r[0], envelope.e);
      return;
    }
    const room = channel.slice(this.#key("room", "").length);
    this.#peer?.remote(room, envelope.e, envelope.r);
  }

  #send(channel: string, envelope: Envelope): void {
    if (!this.#up) {
      // At-most-once: nothing is queued while the link is down, but the loss is counted.
      return this.#errors.report("publish", new Error("link to Redis down: event not sent"));
    }
    this.#pub.publish(channel, JSON.stringify(envelope)).catch((err) =>
      this.#errors.report("publish", err)
    );
  }

  /** Reserves the block of guest numbers to use after the current one. */
  async #reserveGuests(): Promise<void> {
    const end = await this.#pub.incrby(this.#key("guest"), GUEST_BLOCK);
    // The reserved block is [end - GUEST_BLOCK + 1, end]; numbers start at 1.
    this.#spareGuests = { next: end - GUEST_BLOCK + 1, end: end + 1 };
  }

  /** Runs work nobody awaits: a failure is counted and logged, {@link settled} waits for it. */
  #background(op: (typeof CLUSTER_OPS)[number], work: Promise<unknown>): void {
    const done: Promise<void> = work.then(() => {}, (err) => this.#errors.report(op, err))
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
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
      if (proc === this.id || (await this.#pub.exists(this.#key("alive", proc))) === 1) continue;
      // One process sweeps a given dead one.
      const lock = await this.#pub.set(this.#key("sweep", proc), this.id, "PX", SWEEP_MS, "NX");
      if (lock !== "OK") continue;
      const removed = (await SWEEP.run(
        this.#pub,
        3,
        this.#key("rooms"),
        this.#key("nicks"),
        this.#key("procs"),
        proc,
        this.#key("members", ""),
      )) as string[];
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

  /** After Redis comes back: presence, nicks and subscriptions as they are here. */
  async #reannounce(): Promise<void> {
    await this.#heartbeat();
    for (const nick of this.#nicks.values()) await this.#claim(nick);
    for (const [room, members] of this.#members) {
      for (const nick of members) {
        await this.#pub.hset(this.#key("members", room), nick, this.id);
      }
      await this.#pub.sadd(this.#key("rooms"), room);
    }
  }

  #setUp(up: boolean): void {
    if (this.#up === up) return;
    this.#up = up;
    this.#events.onLinkChange?.(up);
    for (const handler of this.#linkHandlers) handler(up);
  }

  #owner(nick: string): string {
    return `${this.id} ${nick}`;
  }

  #key(...parts: string[]): string {
    return this.#prefix + parts.join(":");
  }
}
