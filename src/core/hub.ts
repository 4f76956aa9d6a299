/**
 * The chat core's front door. Transports hand it {@link Command}s and receive
 * {@link ServerEvent}s through a {@link ClientPort}, so every door (TCP,
 * WebSocket, and whatever comes next) shares everything here. The hub keeps
 * the registry of sessions, nicks and rooms and dispatches each request, in
 * order and within the client's flood budget, to the command table
 * (`commands.ts`); the handlers live in files named for what they do.
 *
 * It knows no sockets, no codecs and no Deno APIs, and never asks whether it
 * is clustered: the link to other processes (in memory for one) is given.
 *
 * @module
 */

import { AttemptLimiter } from "./attempts.ts";
import { audit } from "./audit.ts";
import { Broadcast } from "./broadcast.ts";
import { fanOut } from "./chat.ts";
import { systemTimers } from "./clock.ts";
import { dispatch, isConcurrent } from "./commands.ts";
import type { Context, HubOptions } from "./context.ts";
import { FloodGate } from "./flood.ts";
import type { HistoryStore } from "./history.ts";
import { leaveAll } from "./leaving.ts";
import { LOBBY } from "./names.ts";
import { guestNick } from "./nicks.ts";
import { ReactionDigests } from "./reaction_digest.ts";
import { ReadMarkers } from "./reading.ts";
import { KeptRooms } from "./staying.ts";
import { TokenLists } from "./tokens.ts";
import { Registry } from "./registry.ts";
import { linkPeer } from "./remote.ts";
import { tellRoom } from "./replies.ts";
import { type Queued, type QueueRunner, RequestQueue } from "./request_queue.ts";
import { RoomSequencer } from "./sequencer.ts";
import { type ConnectOptions, Session } from "./session.ts";
import type { Stats } from "./stats.ts";
import { QuietRooms } from "./summaries.ts";
import type { ClientPort, Command } from "./types.ts";
import type { ServerEvent } from "./events.ts";

export type { HubOptions } from "./context.ts";
export { type ConnectOptions, Session } from "./session.ts";
export { Room } from "./room.ts";

/** The quit message of a client cut off for not reading its output. */
const TOO_SLOW = "too slow";
/** The transport-agnostic chat core. */
export class Hub implements QueueRunner<Session> {
  readonly #ctx: Context;
  #nextId = 1;

  constructor(store: HistoryStore, stats: Stats, options: HubOptions) {
    const timers = options.timers ?? systemTimers;
    const now = options.now ?? Date.now;
    const onError = options.onError ?? (() => {});
    const exempt = options.exempt ?? (() => false);
    const monotonic = () => timers.monotonic();
    const ctx: Context = {
      registry: new Registry(),
      store,
      link: options.link,
      stats,
      options,
      timers,
      attempts: options.attempts === undefined
        ? null
        : new AttemptLimiter(options.attempts, monotonic),
      quiet: new QuietRooms(
        options.quietRoomSize,
        options.summaryIntervalMs,
        timers,
        (room, event) => tellRoom(ctx, room, event),
      ),
      sequencer: new RoomSequencer(store, timers, (m, s, r) => fanOut(ctx, m, s, r), onError),
      markers: new ReadMarkers(),
      kept: new KeptRooms(),
      tokens: new TokenLists(),
      digests: new ReactionDigests(store, timers, (name, event) => {
        const room = ctx.registry.room(name);
        if (room !== undefined) tellRoom(ctx, room, event, { publish: false });
      }, onError),
      exempt,
      now,
      startedAt: now(),
      onError,
    };
    this.#ctx = ctx;
    options.link.attach(linkPeer(ctx));
  }

  /**
   * Applies settings a reload changed. New sessions get the new flood
   * budget; connected ones keep theirs. Everything else applies at once.
   */
  reconfigure(
    changes: Partial<
      Pick<
        HubOptions,
        "historyOnJoin" | "maxLineBytes" | "quietRoomSize" | "flood" | "password" | "adminPassword"
      >
    >,
    failuresPerMinute?: number,
  ): void {
    const ctx = this.#ctx;
    Object.assign(ctx.options, changes);
    ctx.quiet.size = ctx.options.quietRoomSize;
    if (ctx.attempts !== null && failuresPerMinute !== undefined) {
      ctx.attempts.limits = { ...ctx.attempts.limits, failuresPerMinute };
    }
  }

  /** Rooms that currently have members here. */
  get roomCount(): number {
    return this.#ctx.registry.roomCount;
  }

  /** Whether `room` has members on this process. */
  hasRoom(room: string): boolean {
    return this.#ctx.registry.room(room) !== undefined;
  }

  /** What the client of this process holding `nick` gave as its IRC user name, else the nick. */
  userOf(nick: string): string {
    return this.#ctx.registry.byNick(nick)?.options.ident?.user ?? nick;
  }

  /** Whether a client of this process holds `nick` (any case). */
  hasNick(nick: string): boolean {
    return this.#ctx.registry.byNick(nick) !== undefined;
  }

  /** Sessions currently connected here. */
  get sessionCount(): number {
    return this.#ctx.registry.sessionCount;
  }

  /** The most sessions connected here at once since the start. */
  get peakSessions(): number {
    return this.#ctx.registry.peakSessions;
  }

  /**
   * Registers a new client from `address`: a guest nick, a welcome, and the
   * lobby (after the server password, when there is one; not at all with
   * `lobby: false`, as IRC clients join what they ask for).
   */
  connect(port: ClientPort, address = "", options: ConnectOptions = {}): Session {
    const ctx = this.#ctx;
    const { flood, password, serverName, maxLineBytes } = ctx.options;
    const session = new Session(
      this.#nextId++,
      guestNick(ctx),
      port,
      address,
      password === undefined,
      (owner) =>
        new RequestQueue(
          owner,
          this,
          flood === undefined ? null : new FloodGate(flood, () => ctx.timers.monotonic()),
          flood?.maxWaitingBytes ?? Infinity,
          ctx.timers,
        ),
      options,
    );
    session.rename(session.nick, ctx.now()); // a guest nick is its own from now on
    ctx.registry.add(session);
    port.send({
      type: "welcome",
      nick: session.nick,
      room: LOBBY,
      server: serverName,
      ...(maxLineBytes === undefined ? {} : { maxLineBytes }),
      ...(session.authorized ? {} : { password: true }),
    });
    if (session.authorized && options.lobby !== false) {
      session.requests.submit({ type: "join", room: LOBBY });
    }
    return session;
  }

  /**
   * Handles one request of `bytes` input bytes. Never throws for bad input:
   * it replies with an error. Requests take effect in the order sent (see
   * `request_queue.ts`).
   */
  handle(session: Session, command: Command, bytes = 0): void {
    session.requests.submit(command, bytes);
  }

  /**
   * The client is gone: once its earlier requests are done it leaves its rooms
   * with a quit notice (with `message` as the reason, if given).
   */
  disconnect(session: Session, message?: string): void {
    session.requests.submit({ type: "gone", message });
  }

  /**
   * Sends this client an event in order with the replies to its earlier
   * requests (for errors found outside the hub, such as unparsable lines).
   */
  reply(session: Session, event: ServerEvent): void {
    session.requests.submit({ type: "reply", event });
  }

  /** Tells every connected client something (a notice line, a `notice` JSON event). */
  announce(text: string): void {
    this.#tellEveryone({ type: "notice", text });
  }

  /**
   * Tells every client the server is going away and stops the hub's timers.
   * Closing the connections (after their queues drain) is the transports' job.
   */
  shutdown(): void {
    this.#ctx.quiet.stop();
    this.#ctx.sequencer.stop();
    this.#ctx.digests.stop();
    this.#tellEveryone({ type: "shutdown" });
  }

  /** After the link to the other processes comes back: fills what each room missed. */
  resync(): Promise<void> {
    return this.#ctx.sequencer.resync();
  }

  #tellEveryone(event: ServerEvent): void {
    const shared = new Broadcast(event);
    for (const session of this.#ctx.registry.sessions) session.port.send(shared);
  }

  // --- QueueRunner: what a client's queue lets go ------------------------------------------------

  /** @internal */
  run(session: Session, item: Queued): Promise<unknown> | void {
    if (item.type === "gone") {
      // Every transport says "too slow" when it cuts off a client that does not read.
      if (item.message === TOO_SLOW) audit(this.#ctx, session, "too_slow");
      return leaveAll(this.#ctx, session, item.message);
    }
    if (session.closed) return;
    if (item.type === "reply") return session.port.send(item.event);
    return dispatch(this.#ctx, session, item);
  }

  /** @internal */
  concurrent(item: Queued): boolean {
    return item.type !== "gone" && item.type !== "reply" && isConcurrent(item);
  }

  /** @internal */
  slowedDown(session: Session): void {
    session.port.send({ type: "error", code: "slow_down", message: "slow down" });
  }

  /** @internal Slowed, it still sends: its waiting input passed the bound. */
  flooded(session: Session): void {
    audit(this.#ctx, session, "excess_flood");
    this.#ctx.stats.excessFlood++;
    session.port.send({ type: "error", code: "excess_flood", message: "excess flood" });
    leaveAll(this.#ctx, session, "excess flood");
    session.port.close();
  }

  /** @internal */
  failed(err: unknown): void {
    this.#ctx.onError(err);
  }
}
