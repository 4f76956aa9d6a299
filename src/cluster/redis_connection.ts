/**
 * The connections under the Redis link (`RedisCluster`, `redis.ts`): one for
 * commands and publishing, one subscribed (a subscribed connection can do
 * nothing else). What is about the connection rather than the chat lives
 * here: connecting, whether the link is up (and telling who listens), the way
 * back once Redis returns, the pub/sub channels (`room:<room>` and
 * `proc:<id>`: events published, subscribed to and received, this process's
 * own echo skipped; the events of one turn to one channel cross in one
 * envelope), the timers, and work nobody awaits, whose failures are counted
 * per operation and logged with their cause.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { Redis } from "ioredis";
import type { ServerEvent } from "../core/events.ts";
import { logger } from "../log.ts";
import { ErrorLog } from "./errors.ts";

/** The operations whose failures are counted (see {@link RedisConnection.errorCounts}). */
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

/** One of {@link CLUSTER_OPS}. */
export type ClusterOp = (typeof CLUSTER_OPS)[number];

/** One published event and, for a nick change, the rooms it concerns. */
export interface Published {
  e: ServerEvent;
  r?: string[];
}

/** What crosses a channel: who sent it (`o`, first, so that a process skips its own unparsed), and
 * the events it published there in one turn, in order. */
interface Envelope {
  o: string;
  b: Published[];
}

/** Events in one envelope, at most: a burst leaves in several, none too big for one read. */
const MAX_BATCH = 64;

/** What the link above a {@link RedisConnection} does for it. */
export interface ConnectionHooks {
  /** An event another process published in `room` (`rooms`: those a nick change concerns). */
  room(room: string, event: ServerEvent, rooms?: string[]): void;
  /** A direct message another process sent to `nick`, a client of this one. */
  direct(nick: string, event: ServerEvent): void;
  /** Tells Redis again what this process holds, once Redis is back; the link is up once it succeeds. */
  reannounce(): Promise<void>;
}

/** The two connections of one link to Redis, and the link's state. */
export class RedisConnection {
  /** Commands and publishing. */
  readonly pub: Redis;
  /** Subscriptions, and nothing else. */
  readonly sub: Redis;
  readonly #errors = new ErrorLog(logger("cluster"), "redis", CLUSTER_OPS);
  /** Fire-and-forget work in flight (presence, subscriptions, releases), for {@link settled}. */
  readonly #pending = new Set<Promise<void>>();
  readonly #id: string;
  readonly #prefix: string;
  /** How every envelope this process publishes starts (`{"o":"<id>"`). */
  readonly #ownPrefix: string;
  readonly #hooks: ConnectionHooks;
  #connecting = true;
  #recovering = false;
  #timers: ReturnType<typeof setInterval>[] = [];
  #up = true;
  #linkHandlers: ((up: boolean) => void)[] = [];
  /** Events published this turn, as runs of one channel each, in the order they were published. */
  #outbox: { channel: string; events: Published[] }[] = [];

  /**
   * Makes both connections for the process `id`, its channels' names
   * starting with `prefix`, not connected yet (see {@link connect}, which
   * fails within `timeoutMs` when Redis cannot be reached).
   */
  constructor(
    url: string,
    timeoutMs: number,
    id: string,
    prefix: string,
    hooks: ConnectionHooks,
  ) {
    const options = {
      lazyConnect: true,
      // Commands of one turn leave in one write: fan-out publishes come in bursts.
      enableAutoPipelining: true,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    };
    this.pub = new Redis(url, options);
    this.sub = new Redis(url, options);
    this.#id = id;
    this.#prefix = prefix;
    this.#ownPrefix = `{"o":${JSON.stringify(id)}`;
    this.#hooks = hooks;
    for (const r of [this.pub, this.sub]) {
      r.on("error", (err) => {
        // A failure to connect is thrown; later ones (ioredis retries) are reported.
        if (!this.#connecting) this.report("connection", err);
      });
    }
    this.sub.on(
      "messageBuffer",
      (channel: Buffer, payload: Buffer) => this.#receive(channel.toString(), payload.toString()),
    );
  }

  /**
   * Connects both and subscribes to this process's channel, then runs
   * `start`; if any of it fails, both connections are dropped and the error
   * is thrown.
   */
  async connect(start: () => Promise<void>): Promise<void> {
    try {
      await Promise.all([this.pub.connect(), this.sub.connect()]);
      await this.sub.subscribe(this.#channel("proc", this.#id));
      await start();
    } catch (err) {
      this.pub.disconnect();
      this.sub.disconnect();
      throw err;
    }
    this.#connecting = false;
  }

  /** Also tells `handler` when the link to Redis goes down or comes back. */
  onLinkChange(handler: (up: boolean) => void): void {
    this.#linkHandlers.push(handler);
  }

  /** False while the link to Redis is down. */
  get up(): boolean {
    return this.#up;
  }

  /** Failures so far, per operation (every one of {@link CLUSTER_OPS}, 0 included). */
  errorCounts(): Record<string, number> {
    return this.#errors.counts();
  }

  /** Counts a failure of `op` and logs it with its cause (at most once per operation every 10 s). */
  report(op: ClusterOp, err: unknown): void {
    this.#errors.report(op, err);
  }

  /** Runs work nobody awaits: a failure is counted and logged, {@link settled} waits for it. */
  background(op: ClusterOp, work: Promise<unknown>): void {
    const done: Promise<void> = work.then(() => {}, (err) => this.#errors.report(op, err))
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  /** Resolves once the work given to {@link background} so far is done, well or not. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  /** Runs `tick` every `ms` until {@link stopTimers}. */
  every(ms: number, tick: () => void): void {
    this.#timers.push(setInterval(tick, ms));
  }

  /** Stops every timer {@link every} started. */
  stopTimers(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
  }

  /**
   * From now on the link goes down when the publishing connection closes, and
   * {@link recover}s when it is ready again.
   */
  watchLink(): void {
    this.pub.on("close", () => this.#setUp(false));
    this.pub.on("ready", () => this.recover());
  }

  /**
   * After Redis comes back: announces this process again, then says the link
   * is up. Does nothing while the link is up, a recovery runs, or the
   * connection is not ready.
   */
  recover(): void {
    if (this.#up || this.#recovering || this.pub.status !== "ready") return;
    this.#recovering = true;
    this.#hooks.reannounce().then(
      () => this.#setUp(true),
      (err) => this.#errors.report("reannounce", err),
    ).finally(() => this.#recovering = false);
  }

  /**
   * Publishes `event` to `room`'s subscribers at the end of this turn, unawaited; a failure is
   * counted and logged. The events a turn publishes in a row to one channel leave in one envelope:
   * a fan-out's burst costs one command here and one message in each subscriber.
   */
  publish(room: string, event: Published): void {
    if (!this.#up) {
      // At-most-once: nothing is queued while the link is down, but the loss is counted.
      return this.#errors.report("publish", new Error("link to Redis down: event not sent"));
    }
    const channel = this.#channel("room", room);
    const last = this.#outbox.at(-1);
    if (last?.channel === channel && last.events.length < MAX_BATCH) {
      last.events.push(event);
      return;
    }
    if (this.#outbox.length === 0) setImmediate(() => this.#flush());
    this.#outbox.push({ channel, events: [event] });
  }

  /** Sends what {@link publish} queued this turn. */
  #flush(): void {
    const outbox = this.#outbox;
    this.#outbox = [];
    for (const { channel, events } of outbox) {
      // Each event lost counts, as when the link was down before they were published.
      this.pub.publish(channel, this.#envelope(events)).catch((err) =>
        this.#errors.report("publish", err, events.length)
      );
    }
  }

  /** Publishes `event` to the process `proc`; false if it is not listening. */
  async sendTo(proc: string, event: Published): Promise<boolean> {
    return (await this.pub.publish(this.#channel("proc", proc), this.#envelope([event]))) > 0;
  }

  #envelope(events: Published[]): string {
    const envelope: Envelope = { o: this.#id, b: events };
    return JSON.stringify(envelope);
  }

  /** Subscribes to `room`'s channel, unawaited (see {@link settled}). */
  watch(room: string): void {
    this.background("watch", this.sub.subscribe(this.#channel("room", room)));
  }

  /** Unsubscribes from `room`'s channel, unawaited. */
  unwatch(room: string): void {
    this.background("unwatch", this.sub.unsubscribe(this.#channel("room", room)));
  }

  /** Closes both connections: politely if Redis answers, else at once. */
  async quit(): Promise<void> {
    this.#flush();
    for (const r of [this.sub, this.pub]) {
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
      if (!Array.isArray(envelope.b)) throw new Error("no events");
    } catch (err) {
      this.#errors.report("receive", new Error(`not an envelope on ${channel}`, { cause: err }));
      return;
    }
    if (envelope.o === this.#id) return; // our own: delivered locally already
    if (channel === this.#channel("proc", this.#id)) {
      for (const { e, r } of envelope.b) if (r?.[0] !== undefined) this.#hooks.direct(r[0], e);
      return;
    }
    const room = channel.slice(this.#channel("room", "").length);
    for (const { e, r } of envelope.b) this.#hooks.room(room, e, r);
  }

  #channel(kind: "room" | "proc", name: string): string {
    return `${this.#prefix}${kind}:${name}`;
  }

  #setUp(up: boolean): void {
    if (this.#up === up) return;
    this.#up = up;
    for (const handler of this.#linkHandlers) handler(up);
  }
}
