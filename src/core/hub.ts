/**
 * The chat itself: sessions, nicks, rooms, membership, the current room,
 * history and fan-out. It knows no sockets, no codecs and no Deno APIs:
 * transports hand it {@link Command}s and receive {@link ServerEvent}s through
 * a {@link ClientPort}, so TCP and WebSocket clients share everything here.
 *
 * @module
 */

import { type HistoryStore, StoreWriteError } from "./history.ts";
import { AttemptLimiter, type AttemptLimits } from "./attempts.ts";
import type { ClusterLink } from "./cluster.ts";
import { FloodGate, type FloodLimits } from "./flood.ts";
import { isGuestNick, LOBBY, nickKey, normalizeRoom, validNick } from "./names.ts";
import { hashPassword, samePassword, verifyPassword } from "./passwords.ts";
import { RoomRules } from "./room_rules.ts";
import { stripControls } from "./sanitize.ts";
import type { Stats } from "./stats.ts";
import type {
  ChatMessage,
  ClientPort,
  Command,
  ErrorCode,
  LeaveReason,
  ModerationAction,
  Ref,
  ServerEvent,
} from "./types.ts";
import { WHO_MAX, WHO_PAGE_SIZE } from "./types.ts";

/** Hub settings; defaults live in `config.ts`. */
export interface HubOptions {
  /** Messages replayed to a member when it joins a room (0: none). */
  historyOnJoin: number;
  /** Default and largest `/history` sizes. */
  historyDefault: number;
  historyMax: number;
  /** Name shown in the welcome notice. */
  serverName: string;
  /** The longest request a client may send, in UTF-8 bytes (`--max-line-bytes`): in the welcome. */
  maxLineBytes?: number;
  /**
   * Above this many members a room is quiet: joins, leaves and nick changes
   * are not announced one by one to every member (a storm of O(members²)
   * lines) but counted, and summarized every `summaryIntervalMs`.
   */
  quietRoomSize: number;
  summaryIntervalMs: number;
  /** Clock, injectable for tests. */
  now?: () => number;
  /** A handler failed unexpectedly (a bug, not bad input): log it. */
  onError?: (err: unknown) => void;
  /** Other processes sharing rooms, nicks and presence (`--redis`); none by default. */
  cluster?: ClusterLink;
  /** Per-client flood control; none (`--no-limits`) when absent. */
  flood?: FloodLimits;
  /** The server password clients must `pass` first; none when absent. */
  password?: string;
  /** The password that makes a client a server operator (`admin`); none when absent. */
  adminPassword?: string;
  /** Failed password attempts per address; unlimited (`--no-limits`) when absent. */
  attempts?: AttemptLimits;
  /** Bans by address apply to loopback addresses too (`--limit-loopback`). */
  banLoopback?: boolean;
}

/**
 * What a waiting line counts toward `--flood-max-waiting` beyond its own
 * bytes: roughly the memory a queued request takes.
 */
export const WAITING_LINE_COST = 64;

/** Wrong server passwords a connection may send before it is closed. */
const MAX_PASS_FAILURES = 3;
/** Longest topic, in characters. */
const MAX_TOPIC = 300;

/** One connected client as the hub sees it. */
export class Session {
  /** Rooms in the order they were joined. */
  readonly rooms = new Map<string, Room>();
  current: Room | null = null;
  closed = false;
  /**
   * Rooms whose join replay is still being read from history: live messages
   * for them wait here so the member sees history, then live, in order.
   */
  replaying: Map<string, ChatMessage[]> | null = null;
  /** Commands waiting for this client's earlier ones to finish (see {@link Hub.handle}). */
  readonly backlog: Queued[] = [];
  /** Flood control: the client's buckets, the input waiting for them, and whether it was told. */
  gate: FloodGate | null = null;
  waitingBytes = 0;
  toldSlowDown = false;
  floodTimer: ReturnType<typeof setTimeout> | null = null;
  /** False until the client sent the server password (when there is one). */
  authorized = true;
  passFailures = 0;
  /** A server operator (`admin`): moderates every room, sees `stats`. */
  admin = false;
  /** Messages of this client still being stored. */
  appending = 0;
  /** Other commands of this client still waiting for the store (join replay, history). */
  blocking = 0;
  // Created on demand: an idle connection should cost as little as possible.
  #idle: (() => void)[] | null = null;
  #left: Promise<void> | null = null;
  #markLeft: (() => void) | null = null;
  #hasLeft = false;

  /** Resolves once the client has left its rooms (after its last requests took effect). */
  get left(): Promise<void> {
    if (this.#hasLeft) return Promise.resolve();
    this.#left ??= new Promise((resolve) => (this.#markLeft = resolve));
    return this.#left;
  }

  constructor(
    readonly id: number,
    public nick: string,
    readonly port: ClientPort,
    /** The peer's IP address ("" when unknown): for attempt limits and bans. */
    readonly address = "",
  ) {}

  /** True while commands are queued behind unfinished ones. */
  get busy(): boolean {
    return this.backlog.length > 0;
  }

  /** Resolves once the backlog is empty (transports wait here before reading on). */
  drained(): Promise<void> {
    if (this.backlog.length === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#idle ??= []).push(resolve));
  }

  /** @internal Resolves {@link left}. */
  markLeft(): void {
    this.#hasLeft = true;
    this.#markLeft?.();
  }

  /** @internal Wakes whoever waits in {@link drained}. */
  notifyDrained(): void {
    if (this.backlog.length > 0) return;
    const waiters = this.#idle;
    if (waiters === null) return;
    this.#idle = null;
    for (const resolve of waiters) resolve();
  }
}

/** A queued request, or the client's departure queued behind its requests. */
type Queued =
  | Command
  | { type: "gone"; message?: string }
  | { type: "reply"; event: ServerEvent };

/** A room with its members, in join order. */
export class Room {
  readonly members = new Set<Session>();
  /** Joins waiting for a room password check: the room stays while they do. */
  entering = 0;
  /** Joins and leaves not announced one by one (quiet room), since the last summary. */
  joinedQuietly = 0;
  leftQuietly = 0;
  /** Rules changed on another process being read again: joins wait for them. */
  reloading: Promise<void> | null = null;
  constructor(readonly name: string, public rules: RoomRules) {}
}

/**
 * Handles one command. Work that waits for the store returns a promise that
 * never rejects (handlers report their own failures to the client).
 */
type Handler<T extends Command["type"]> = (
  session: Session,
  command: Extract<Command, { type: T }>,
) => Promise<unknown> | void;

/** The transport-agnostic chat core. */
export class Hub {
  readonly #rooms = new Map<string, Room>();
  readonly #nicks = new Map<string, Session>();
  readonly #sessions = new Set<Session>();
  readonly #store: HistoryStore;
  readonly #stats: Stats;
  readonly #options: HubOptions;
  readonly #now: () => number;
  #nextId = 1;
  #nextGuest = 1;
  readonly #cluster: ClusterLink | null;
  readonly #attempts: AttemptLimiter | null;
  readonly #startedAt: number;
  /** Counters at the previous `stats` request, for rates. */
  #statsSample: { at: number; messagesIn: number; eventsOut: number };

  constructor(store: HistoryStore, stats: Stats, options: HubOptions) {
    this.#store = store;
    this.#stats = stats;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
    this.#statsSample = { at: this.#startedAt, messagesIn: 0, eventsOut: 0 };
    this.#attempts = options.attempts === undefined
      ? null
      : new AttemptLimiter(options.attempts, this.#monotonic);
    this.#cluster = options.cluster ?? null;
    this.#cluster?.attach({
      remote: (room, event, rooms) => this.#remote(room, event, rooms),
      direct: (nick, event) => this.#nicks.get(nickKey(nick))?.port.send(event),
      localMembers: (room) => [...(this.#rooms.get(room)?.members ?? [])].map((m) => m.nick),
      localRooms: () =>
        [...this.#rooms.values()].map((r) => ({ room: r.name, members: r.members.size })),
    });
  }

  /** Rooms that currently have members. */
  get roomCount(): number {
    return this.#rooms.size;
  }

  /** Sessions currently connected. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Registers a new client from `address`: a guest nick, a welcome, and the
   * lobby (after the server password, when there is one).
   */
  connect(port: ClientPort, address = ""): Session {
    const session = new Session(this.#nextId++, this.#guestNick(), port, address);
    const flood = this.#options.flood;
    if (flood !== undefined) session.gate = new FloodGate(flood, this.#monotonic);
    session.authorized = this.#options.password === undefined;
    this.#sessions.add(session);
    this.#nicks.set(nickKey(session.nick), session);
    port.send({
      type: "welcome",
      nick: session.nick,
      room: LOBBY,
      server: this.#options.serverName,
      ...(this.#options.maxLineBytes === undefined
        ? {}
        : { maxLineBytes: this.#options.maxLineBytes }),
      ...(session.authorized ? {} : { password: true }),
    });
    if (session.authorized) this.#run(session, { type: "join", room: LOBBY });
    return session;
  }

  /**
   * Handles one request. Never throws for bad input: it replies with an error.
   *
   * Each client's requests take effect in the order sent. Messages may be
   * stored concurrently (the store numbers and resolves them in order), but any
   * other request waits until the client's earlier work is done, so a client
   * that says a line and then leaves the room still sees its line first.
   */
  handle(session: Session, command: Command, bytes = 0): void {
    if (session.closed) return;
    if (session.backlog.length > 0 || !this.#canRun(session, command)) {
      return this.#wait(session, command, bytes);
    }
    const wait = session.gate?.admit(bytes) ?? 0;
    if (wait > 0) {
      this.#wait(session, command, bytes);
      return this.#slowDown(session, wait);
    }
    this.#run(session, command);
  }

  /** Queues a request behind the client's earlier ones (or its flood budget). */
  #wait(session: Session, command: Command, bytes: number): void {
    session.backlog.push(command);
    if (session.gate === null) return;
    // A waiting line holds memory beyond its text: a flood of short lines must reach the bound too.
    const cost = bytes + WAITING_LINE_COST;
    this.#costs.set(command, cost);
    session.waitingBytes += cost;
    if (session.waitingBytes > this.#options.flood!.maxWaitingBytes) {
      // Slowed, it still sends: its waiting input passed the bound.
      session.port.send({ type: "error", code: "excess_flood", message: "excess flood" });
      this.#leaveAll(session, "excess flood");
      session.port.close();
    }
  }

  /** A client over its budget is told once, and its requests resume as the budget refills. */
  #slowDown(session: Session, waitMs: number): void {
    if (session.closed) return;
    if (!session.toldSlowDown) {
      session.toldSlowDown = true;
      session.port.send({ type: "error", code: "slow_down", message: "slow down" });
    }
    session.floodTimer ??= setTimeout(() => {
      session.floodTimer = null;
      this.#runBacklog(session);
    }, waitMs);
  }

  /** What each request waiting for the flood budget counts (its bytes plus {@link WAITING_LINE_COST}). */
  readonly #costs = new WeakMap<Queued, number>();
  readonly #monotonic = () => performance.now();

  /**
   * The client is gone: once its earlier requests are done it leaves its rooms
   * with a quit notice (with `message` as the reason, if given).
   */
  disconnect(session: Session, message?: string): void {
    if (session.closed) return;
    const gone: Queued = { type: "gone", message };
    if (session.backlog.length > 0 || !this.#canRun(session, gone)) {
      session.backlog.push(gone);
      return;
    }
    this.#leaveAll(session, message);
  }

  /**
   * Sends this client an event in order with the replies to its earlier
   * requests (for errors found outside the hub, such as unparsable lines).
   */
  reply(session: Session, event: ServerEvent): void {
    if (session.closed) return;
    const reply: Queued = { type: "reply", event };
    if (session.backlog.length > 0 || !this.#canRun(session, reply)) {
      session.backlog.push(reply);
      return;
    }
    session.port.send(event);
  }

  #canRun(session: Session, command: Queued): boolean {
    if (session.blocking > 0) return false;
    return command.type === "say" || command.type === "me" || session.appending === 0;
  }

  #run(session: Session, command: Queued): void {
    if (command.type === "gone") return this.#leaveAll(session, command.message);
    if (session.closed) return;
    if (command.type === "reply") return session.port.send(command.event);
    if (!session.authorized && !BEFORE_PASSWORD.has(command.type)) {
      return this.#error(session, "password_required", "password required", command.ref);
    }
    // The table is typed per command; the cast is the one place we dispatch.
    const pending = (this.#handlers[command.type] as Handler<typeof command.type>)(
      session,
      command,
    );
    if (pending === undefined) return;
    const appending = command.type === "say" || command.type === "me";
    if (appending) session.appending++;
    else session.blocking++;
    const finish = () => {
      if (appending) session.appending--;
      else session.blocking--;
      this.#runBacklog(session);
    };
    pending.then(finish, (err) => {
      finish();
      this.#options.onError?.(err);
    });
  }

  #runBacklog(session: Session): void {
    const backlog = session.backlog;
    while (backlog.length > 0 && this.#canRun(session, backlog[0])) {
      const next = backlog[0];
      const cost = this.#costs.get(next);
      if (cost !== undefined && session.gate !== null) {
        const wait = session.gate.admit(cost - WAITING_LINE_COST);
        if (wait > 0) return this.#slowDown(session, wait);
        session.waitingBytes -= cost;
        this.#costs.delete(next);
      }
      this.#run(session, backlog.shift()!);
    }
    if (backlog.length === 0) session.toldSlowDown = false;
    session.notifyDrained();
  }

  #leaveAll(session: Session, message?: string): void {
    if (session.closed) return;
    session.closed = true;
    session.backlog.length = 0;
    if (session.floodTimer !== null) clearTimeout(session.floodTimer);
    session.floodTimer = null;
    session.notifyDrained();
    this.#sessions.delete(session);
    this.#nicks.delete(nickKey(session.nick));
    this.#cluster?.releaseNick(session.nick);
    const cleaned = message === undefined ? "" : stripControls(message).trim();
    const reason: LeaveReason = { kind: "quit", message: cleaned === "" ? undefined : cleaned };
    const guest = isGuestNick(session.nick);
    for (const room of [...session.rooms.values()]) {
      if (guest) room.rules.ops.delete(nickKey(session.nick)); // guests are operators while connected
      this.#part(session, room, reason, true);
    }
    session.replaying = null;
    session.markLeft();
  }

  /** Tells every connected client something (a notice line, a `notice` JSON event). */
  announce(text: string): void {
    const event: ServerEvent = { type: "notice", text };
    for (const session of this.#sessions) session.port.send(event);
  }

  /**
   * Tells every client the server is going away and stops the hub's timers.
   * Closing the connections (after their queues drain) is the transports' job.
   */
  shutdown(): void {
    this.#stopSummaries();
    for (const timer of this.#gapTimers.values()) clearTimeout(timer);
    this.#gapTimers.clear();
    const event: ServerEvent = { type: "shutdown" };
    for (const session of this.#sessions) session.port.send(event);
  }

  readonly #handlers: { [T in Command["type"]]: Handler<T> } = {
    say: (s, c) => this.#say(s, c.room, c.text, "say", c.ref),
    me: (s, c) => this.#say(s, c.room, c.text, "action", c.ref),
    msg: (s, c) => this.#directMessage(s, c.to, c.text, c.ref),
    nick: (s, c) => this.#changeNick(s, c.nick, c.password, c.ref),
    join: (s, c) => {
      const name = normalizeRoom(c.room.trim());
      if (name === null) {
        return this.#error(
          s,
          "invalid_room",
          `invalid room name: ${c.room} (1 to 64 of a-z 0-9 _ -)`,
          c.ref,
        );
      }
      return this.#join(s, name, c.password, c.ref);
    },
    leave: (s, c) => this.#leave(s, c.room, c.ref),
    rooms: (s, c) => {
      if (this.#cluster !== null) {
        return Promise.resolve(this.#cluster.rooms()).then(
          (rooms) => s.port.send({ type: "rooms", rooms, ref: c.ref }),
          (err) => this.#error(s, "cluster_failed", `rooms unavailable: ${errorText(err)}`, c.ref),
        );
      }
      const rooms = [...this.#rooms.values()]
        .map((r) => ({ room: r.name, members: r.members.size }))
        .sort((a, b) => (a.room < b.room ? -1 : a.room > b.room ? 1 : 0));
      s.port.send({ type: "rooms", rooms, ref: c.ref });
    },
    who: (s, c) => {
      if (this.#cluster !== null) return this.#whoEverywhere(s, c);
      const room = this.#roomFor(s, c.room, c.ref, false);
      if (room === null) return;
      s.port.send(whoPage(room.name, room.members, (m) => m.nick, c));
    },
    history: (s, c) => this.#history(s, c),
    help: (s, c) => s.port.send({ type: "help", ref: c.ref }),
    quit: (s, c) => {
      s.port.send({ type: "bye", ref: c.ref });
      this.#leaveAll(s, c.reason);
      s.port.close();
    },
    pass: (s, c) => this.#pass(s, c.password, c.ref),
    register: (s, c) => this.#register(s, c.password, c.ref),
    admin: (s, c) => this.#admin(s, c.password, c.ref),
    stats: (s, c) => this.#statsFor(s, c.ref),
    kick: (s, c) => this.#kick(s, c.room, c.nick, "kick", c.reason, c.ref),
    ban: (s, c) => this.#kick(s, c.room, c.nick, "ban", undefined, c.ref),
    unban: (s, c) => {
      const room = this.#moderated(s, c.room, c.ref);
      if (room === null) return;
      const nick = c.nick.trim();
      if (!room.rules.unban(nick)) {
        return this.#error(s, "bad_request", `${nick} is not banned from ${room.name}`, c.ref);
      }
      return this.#changeRules(s, room, "unban", nick, c.ref);
    },
    op: (s, c) => this.#setOp(s, c.room, c.nick.trim(), true, c.ref),
    deop: (s, c) => this.#setOp(s, c.room, c.nick.trim(), false, c.ref),
    topic: (s, c) => this.#topic(s, c.room, c.text, c.ref),
    lock: (s, c) => {
      const room = this.#moderated(s, c.room, c.ref);
      if (room === null) return;
      if (room.name === LOBBY) {
        return this.#error(s, "bad_request", "the lobby cannot be locked", c.ref);
      }
      return hashPassword(c.password).then((hash) => {
        room.rules.lock = hash;
        return this.#changeRules(s, room, "lock", undefined, c.ref);
      });
    },
    unlock: (s, c) => {
      const room = this.#moderated(s, c.room, c.ref);
      if (room === null) return;
      if (room.rules.lock === null) {
        return this.#error(s, "bad_request", `${room.name} is not locked`, c.ref);
      }
      room.rules.lock = null;
      return this.#changeRules(s, room, "unlock", undefined, c.ref);
    },
  };

  #say(
    session: Session,
    roomName: string | undefined,
    text: string,
    kind: ChatMessage["kind"],
    ref?: Ref,
  ): Promise<unknown> | void {
    text = stripControls(text);
    if (text.trim() === "") {
      return this.#error(session, "empty_message", "empty message", ref);
    }
    const room = this.#roomFor(session, roomName, ref, true);
    if (room === null) return;
    this.#stats.messagesIn++;
    return this.#store.append({ room: room.name, nick: session.nick, text, ts: this.#now(), kind })
      .then(
        (message) => this.#deliver(message, session, ref),
        (err) => {
          // The chat goes on without history: deliver, and tell the sender.
          if (err instanceof StoreWriteError) this.#deliver(err.numbered, session, ref);
          this.#error(
            session,
            "store_failed",
            `message not kept in history: ${errorText(err)}`,
            ref,
          );
        },
      );
  }

  /**
   * Fans a stored message out to the room's members as they are now. Everyone
   * gets the same event object (encoded once); a sender that gave a `ref`
   * gets its own copy carrying it, as the acknowledgement of its request.
   */
  #deliver(message: ChatMessage, sender?: Session, ref?: Ref): void {
    if (this.#cluster !== null && message.id > 0) {
      this.#cluster.publish(message.room, { type: "message", message });
      return this.#sequence(message, sender, ref);
    }
    this.#fanOut(message, sender, ref);
  }

  /** The local part of a delivery. */
  #fanOut(message: ChatMessage, sender?: Session, ref?: Ref): void {
    const room = this.#rooms.get(message.room);
    if (room === undefined) return;
    const event: ServerEvent = { type: "message", message };
    const own: ServerEvent = ref === undefined ? event : { type: "message", message, ref };
    for (const member of room.members) {
      if (member.replaying !== null) {
        const held = member.replaying.get(room.name);
        if (held !== undefined) {
          held.push(message);
          continue;
        }
      }
      member.port.send(member === sender ? own : event);
    }
  }

  #directMessage(
    session: Session,
    to: string,
    text: string,
    ref?: Ref,
  ): Promise<unknown> | void {
    text = stripControls(text);
    const target = this.#nicks.get(nickKey(to.trim()));
    if (target === undefined && this.#cluster !== null && text.trim() !== "") {
      return this.#remoteDirect(session, to.trim(), text, ref);
    }
    if (target === undefined) {
      return this.#error(session, "no_such_nick", `no such nick: ${to}`, ref);
    }
    if (text.trim() === "") {
      return this.#error(session, "empty_message", "empty message", ref);
    }
    this.#stats.messagesIn++;
    const event: ServerEvent = {
      type: "dm",
      from: session.nick,
      to: target.nick,
      text,
      ts: this.#now(),
    };
    session.port.send(ref === undefined ? event : { ...event, ref });
    if (target !== session) target.port.send(event);
  }

  #changeNick(
    session: Session,
    requested: string,
    password: string | undefined,
    ref?: Ref,
  ): Promise<unknown> | void {
    const nick = validNick(requested.trim());
    if (nick === null) {
      return this.#error(
        session,
        "invalid_nick",
        `invalid nick: ${requested} (1 to 32 of A-Z a-z 0-9 _ -)`,
        ref,
      );
    }
    const key = nickKey(nick);
    const holder = this.#nicks.get(key);
    if (holder !== undefined && holder !== session) {
      return this.#error(session, "nick_taken", `nick taken: ${nick}`, ref);
    }
    if (nick === session.nick) {
      session.port.send({ type: "nick", old: nick, nick, ref });
      return;
    }
    // The holder of a nick may change its case; any other claim checks the registration.
    if (key === nickKey(session.nick)) return this.#rename(session, nick, ref);
    return this.#store.getRecord("nick", key).then(async (record) => {
      if (record !== null) {
        if (password === undefined) {
          return this.#error(
            session,
            "nick_registered",
            `nick ${nick} is registered (/nick ${nick} <password>)`,
            ref,
          );
        }
        if (!(await this.#checkPassword(session, password, registeredHash(record), ref))) return;
      }
      if (session.closed) return;
      if (this.#nicks.has(key)) {
        return this.#error(session, "nick_taken", `nick taken: ${nick}`, ref);
      }
      return this.#claimNick(session, nick, ref);
    }, (err) => this.#error(session, "store_failed", `nick unavailable: ${errorText(err)}`, ref));
  }

  /** Takes a free nick: claimed cluster-wide first, when there is a cluster. */
  #claimNick(session: Session, nick: string, ref?: Ref): Promise<unknown> | void {
    const key = nickKey(nick);
    if (this.#cluster !== null) {
      // Taken anywhere in the cluster? Claimed first, then renamed here.
      return Promise.resolve(this.#cluster.claimNick(nick)).then(
        (ok) => {
          if (!ok) return this.#error(session, "nick_taken", `nick taken: ${nick}`, ref);
          if (session.closed || this.#nicks.has(key)) return this.#cluster!.releaseNick(nick);
          this.#rename(session, nick, ref);
        },
        (err) => this.#error(session, "cluster_failed", `nick unavailable: ${errorText(err)}`, ref),
      );
    }
    this.#rename(session, nick, ref);
  }

  #rename(session: Session, nick: string, ref?: Ref): void {
    const key = nickKey(nick);
    const old = session.nick;
    this.#nicks.delete(nickKey(old));
    this.#nicks.set(key, session);
    session.nick = nick;
    // Operators stay operators under their new nick.
    for (const room of session.rooms.values()) {
      if (room.rules.renameOp(old, nick)) void this.#saveRules(room);
    }
    // Everyone who shares a (not quiet) room with the client hears it once;
    // so does the client, with its request's ref.
    session.port.send({ type: "nick", old, nick, ref });
    const event: ServerEvent = { type: "nick", old, nick };
    if (this.#cluster !== null) {
      if (nickKey(old) !== key) this.#cluster.releaseNick(old);
      const shared = [...session.rooms.values()].filter((r) => !this.#isQuiet(r)).map((r) =>
        r.name
      );
      for (const room of session.rooms.keys()) {
        this.#cluster.left(room, old);
        this.#cluster.joined(room, nick);
      }
      this.#cluster.publishNick(event, shared);
    }
    const told = new Set<Session>([session]);
    for (const room of session.rooms.values()) {
      if (this.#isQuiet(room)) continue;
      for (const member of room.members) {
        if (told.has(member)) continue;
        told.add(member);
        member.port.send(event);
      }
    }
  }

  #join(
    session: Session,
    name: string,
    password?: string,
    ref?: Ref,
  ): Promise<unknown> | void {
    const already = session.rooms.get(name);
    if (already !== undefined) {
      session.current = already;
      session.port.send({ type: "current", room: name, ref });
      return;
    }
    const room = this.#rooms.get(name);
    if (room?.reloading) {
      // A ban or lock set elsewhere must hold for a join that comes right after it.
      return room.reloading.then(() => this.#join(session, name, password, ref));
    }
    if (room !== undefined) return this.#enter(session, room, password, ref);
    // A room new to this process: its rules come from the store first.
    return this.#store.getRecord("room", name).then((record) => {
      if (session.closed) return;
      let room = this.#rooms.get(name);
      if (room === undefined) {
        room = new Room(name, RoomRules.parse(record));
        this.#rooms.set(name, room);
        if (this.#cluster !== null) this.#startSequence(name);
      }
      return this.#enter(session, room, password, ref);
    }, (err) => this.#error(session, "store_failed", `room unavailable: ${errorText(err)}`, ref));
  }

  /** Lets the client in, unless the room's bans or lock keep it out. */
  #enter(session: Session, room: Room, password?: string, ref?: Ref): Promise<unknown> | void {
    const rules = room.rules;
    if (!session.admin) {
      if (rules.isBanned(session.nick, session.address, this.#options.banLoopback ?? false)) {
        this.#error(session, "banned", `you are banned from ${room.name}`, ref);
        return this.#dropIfEmpty(room);
      }
      if (rules.lock !== null && !rules.isOp(session.nick)) {
        if (password === undefined) {
          this.#error(
            session,
            "room_locked",
            `${room.name} is locked (/join ${room.name} <password>)`,
            ref,
          );
          return this.#dropIfEmpty(room);
        }
        room.entering++;
        return this.#checkPassword(session, password, rules.lock, ref).then((ok) => {
          room.entering--;
          if (ok && !session.closed && this.#rooms.get(room.name) === room) {
            return this.#admit(session, room, ref);
          }
          this.#dropIfEmpty(room);
        });
      }
    }
    return this.#admit(session, room, ref);
  }

  #admit(session: Session, room: Room, ref?: Ref): Promise<unknown> | void {
    const name = room.name;
    const first = room.members.size === 0;
    room.members.add(session);
    session.rooms.set(name, room);
    session.current = room;
    this.#cluster?.joined(name, session.nick);
    session.port.send({ type: "joined", room: name, nick: session.nick, ref });
    const topic = room.rules.topic;
    if (topic !== null) {
      session.port.send({ type: "topic", room: name, topic: topic.text, by: topic.by });
    }
    if (first && room.rules.ops.size === 0 && name !== LOBBY) {
      // The first member of a room nobody owns is its operator.
      room.rules.ops.add(nickKey(session.nick));
      if (!isGuestNick(session.nick)) void this.#saveRules(room);
      session.port.send({ type: "notice", text: `you are an operator of ${name}` });
    }
    if (this.#isQuiet(room)) {
      room.joinedQuietly++;
      this.#scheduleSummary(room);
    } else {
      const event: ServerEvent = { type: "joined", room: name, nick: session.nick };
      for (const member of room.members) if (member !== session) member.port.send(event);
      this.#cluster?.publish(name, event);
    }
    return this.#replay(session, name);
  }

  /** Sends a joining member the room's recent messages, then what arrived meanwhile. */
  #replay(session: Session, room: string): Promise<unknown> | void {
    const limit = this.#options.historyOnJoin;
    if (limit <= 0) return;
    const held: ChatMessage[] = [];
    (session.replaying ??= new Map()).set(room, held);
    const finish = (messages: ChatMessage[]) => {
      if (session.replaying?.get(room) !== held) return; // left (or rejoined) meanwhile
      session.replaying.delete(room);
      if (session.replaying.size === 0) session.replaying = null;
      // Messages said after the join arrive live, so the replay stops before
      // the first of them: no gap and no duplicate, whenever the store read.
      const firstLive = held.length > 0 ? held[0].id : Infinity;
      const before = messages.filter((m) => m.id < firstLive);
      if (before.length > 0) session.port.send({ type: "history", room, messages: before });
      for (const message of held) session.port.send({ type: "message", message });
    };
    return this.#store.recent(room, limit).then(finish, (err) => {
      finish([]);
      this.#error(session, "store_failed", `history unavailable: ${errorText(err)}`);
    });
  }

  #leave(session: Session, roomName: string | undefined, ref?: Ref): void {
    const room = this.#roomFor(session, roomName, ref, true);
    if (room === null) return;
    this.#part(session, room, { kind: "part" }, false, ref);
    this.#pickCurrent(session, ref);
  }

  /** After leaving its current room, plain lines go to the most recently joined room left. */
  #pickCurrent(session: Session, ref?: Ref): void {
    if (session.current !== null) return;
    const rooms = [...session.rooms.values()];
    session.current = rooms.length > 0 ? rooms[rooms.length - 1] : null;
    session.port.send({ type: "current", room: session.current?.name ?? null, ref });
  }

  #part(session: Session, room: Room, reason: LeaveReason, quitting: boolean, ref?: Ref): void {
    if (!quitting) {
      session.port.send({ type: "left", room: room.name, nick: session.nick, reason, ref });
    }
    const quiet = this.#isQuiet(room);
    this.#detach(session, room);
    if (quiet) {
      room.leftQuietly++;
      this.#scheduleSummary(room);
    } else {
      const event: ServerEvent = { type: "left", room: room.name, nick: session.nick, reason };
      for (const member of room.members) member.port.send(event);
      this.#cluster?.publish(room.name, event);
    }
    this.#dropIfEmpty(room);
  }

  /** Takes a member out of a room, telling nobody. */
  #detach(session: Session, room: Room): void {
    room.members.delete(session);
    session.rooms.delete(room.name);
    session.replaying?.delete(room.name);
    if (session.current === room) session.current = null;
    this.#cluster?.left(room.name, session.nick);
  }

  /** A room without members (and nobody about to enter) is forgotten here; its rules are stored. */
  #dropIfEmpty(room: Room): void {
    if (room.members.size > 0 || room.entering > 0 || this.#rooms.get(room.name) !== room) return;
    this.#rooms.delete(room.name);
    if (this.#cluster !== null) {
      this.#cluster.unwatch(room.name);
      this.#forgetSequence(room.name);
    }
  }

  #isQuiet(room: Room): boolean {
    return room.members.size > this.#options.quietRoomSize;
  }

  /** Rooms with joins or leaves to summarize at the next tick. */
  readonly #unsummarized = new Set<Room>();
  #summaryTimer: ReturnType<typeof setInterval> | null = null;

  #scheduleSummary(room: Room): void {
    this.#unsummarized.add(room);
    this.#summaryTimer ??= setInterval(() => this.#summarize(), this.#options.summaryIntervalMs);
  }

  /** One line per quiet room instead of one per join or leave per member. */
  #summarize(): void {
    const seconds = Math.round(this.#options.summaryIntervalMs / 1000);
    for (const room of this.#unsummarized) {
      const event: ServerEvent = {
        type: "summary",
        room: room.name,
        joined: room.joinedQuietly,
        left: room.leftQuietly,
        seconds,
      };
      room.joinedQuietly = 0;
      room.leftQuietly = 0;
      for (const member of room.members) member.port.send(event);
      this.#cluster?.publish(room.name, event);
    }
    if (this.#unsummarized.size === 0) this.#stopSummaries();
    this.#unsummarized.clear();
  }

  #stopSummaries(): void {
    if (this.#summaryTimer !== null) clearInterval(this.#summaryTimer);
    this.#summaryTimer = null;
  }

  #history(
    session: Session,
    command: Extract<Command, { type: "history" }>,
  ): Promise<unknown> | void {
    // Any room's history may be read, member or not: a client that reconnects
    // fills its gap before (or without) joining again.
    let name: string | null;
    if (command.room === undefined || command.room.trim() === "") {
      name = session.current?.name ?? null;
      if (name === null) {
        return this.#error(
          session,
          "no_current_room",
          "you are not in a room (try /join <room>)",
          command.ref,
        );
      }
    } else {
      name = normalizeRoom(command.room.trim());
      if (name === null) {
        return this.#error(
          session,
          "invalid_room",
          `invalid room name: ${command.room}`,
          command.ref,
        );
      }
    }
    const room = name;
    const limit = Math.min(command.limit ?? this.#options.historyDefault, this.#options.historyMax);
    const read = command.after === undefined
      ? this.#store.recent(room, limit)
      : this.#store.after(room, command.after, limit);
    return read.then(
      (messages) => {
        if (!session.closed) {
          session.port.send({ type: "history", room, messages, ref: command.ref });
        }
      },
      (err) =>
        this.#error(session, "store_failed", `history unavailable: ${errorText(err)}`, command.ref),
    );
  }

  /**
   * The room a command is about: the named one (which must exist; with
   * `member`, the client must be in it), or else the current room.
   */
  #roomFor(session: Session, name: string | undefined, ref: Ref | undefined, member: boolean) {
    if (name === undefined || name.trim() === "") {
      if (session.current === null) {
        this.#error(session, "no_current_room", "you are not in a room (try /join <room>)", ref);
      }
      return session.current;
    }
    const normalized = normalizeRoom(name.trim());
    const room = normalized === null ? undefined : this.#rooms.get(normalized);
    if (member) {
      if (room === undefined || !session.rooms.has(room.name)) {
        this.#error(session, "not_in_room", `you are not in room ${name.trim()}`, ref);
        return null;
      }
      return room;
    }
    if (room === undefined) {
      this.#error(session, "no_such_room", `no such room: ${name.trim()}`, ref);
      return null;
    }
    return room;
  }

  #error(session: Session, code: ErrorCode, message: string, ref?: Ref): void {
    if (!session.closed) session.port.send({ type: "error", code, message, ref });
  }

  #guestNick(): string {
    for (;;) {
      // In a cluster the numbers come from a range no other process hands out.
      const n = this.#cluster?.nextGuest() ?? this.#nextGuest++;
      const nick = `guest-${n}`;
      if (this.#nicks.has(nickKey(nick))) continue;
      if (this.#cluster !== null) {
        void Promise.resolve(this.#cluster.claimNick(nick)).catch(() => {});
      }
      return nick;
    }
  }

  // --- passwords, operators, moderation -----------------------------------------------------------

  /**
   * Checks a password against a stored hash, under the per-address attempt
   * limit: false (the client told why) when it is wrong or may not be tried now.
   */
  async #checkPassword(
    session: Session,
    password: string,
    check: string | ((password: string) => Promise<boolean>),
    ref?: Ref,
  ): Promise<boolean> {
    const wait = this.#attempts?.waitMs(session.address) ?? 0;
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      this.#error(
        session,
        "too_many_attempts",
        `too many failed attempts, try again in ${seconds} s`,
        ref,
      );
      return false;
    }
    const ok = typeof check === "string"
      ? await verifyPassword(password, check)
      : await check(password);
    if (!ok) {
      this.#attempts?.failed(session.address);
      this.#error(session, "wrong_password", "wrong password", ref);
    }
    return ok;
  }

  #pass(session: Session, password: string, ref?: Ref): Promise<unknown> | void {
    const expected = this.#options.password;
    if (expected === undefined || session.authorized) {
      session.port.send({ type: "notice", text: "no password needed", ref });
      return;
    }
    return this.#checkPassword(session, password, (p) => samePassword(p, expected), ref)
      .then((ok) => {
        if (session.closed) return;
        if (ok) {
          session.authorized = true;
          session.port.send({ type: "notice", text: "password accepted", ref });
          return this.#join(session, LOBBY);
        }
        if (++session.passFailures >= MAX_PASS_FAILURES) {
          this.#leaveAll(session, "wrong password");
          session.port.close();
        }
      });
  }

  #register(session: Session, password: string, ref?: Ref): Promise<unknown> | void {
    const nick = session.nick;
    if (isGuestNick(nick)) {
      return this.#error(
        session,
        "bad_request",
        "choose a nick first (/nick <name>), then /register <password>",
        ref,
      );
    }
    // Holding the nick proves the right to it: it was free, or claimed with its password.
    return hashPassword(password)
      .then((hash) =>
        this.#store.putRecord("nick", nickKey(nick), JSON.stringify({ hash, ts: this.#now() }))
      )
      .then(
        () =>
          session.port.send({
            type: "notice",
            text: `nick ${nick} is registered: claim it with /nick ${nick} <password>`,
            ref,
          }),
        (err) => this.#error(session, "store_failed", `not registered: ${errorText(err)}`, ref),
      );
  }

  #admin(session: Session, password: string, ref?: Ref): Promise<unknown> | void {
    const expected = this.#options.adminPassword;
    if (expected === undefined) {
      return this.#error(session, "not_operator", "this server has no server operators", ref);
    }
    return this.#checkPassword(session, password, (p) => samePassword(p, expected), ref)
      .then((ok) => {
        if (!ok || session.closed) return;
        session.admin = true;
        session.port.send({ type: "notice", text: "you are now a server operator", ref });
      });
  }

  #statsFor(session: Session, ref?: Ref): void {
    if (!session.admin) {
      return this.#error(
        session,
        "not_operator",
        "you are not a server operator (/admin <password>)",
        ref,
      );
    }
    const now = this.#now();
    const { messagesIn, eventsOut } = this.#stats;
    const last = this.#statsSample;
    const seconds = Math.max((now - last.at) / 1000, 0.001);
    this.#statsSample = { at: now, messagesIn, eventsOut };
    session.port.send({
      type: "stats",
      connections: Object.fromEntries(this.#stats.connections),
      sessions: this.#sessions.size,
      rooms: this.#rooms.size,
      messagesIn,
      eventsOut,
      messagesPerSecond: (messagesIn - last.messagesIn) / seconds,
      eventsPerSecond: (eventsOut - last.eventsOut) / seconds,
      seconds: Math.round(seconds),
      uptimeSeconds: Math.round((now - this.#startedAt) / 1000),
      history: this.#store.size(),
      ref,
    });
  }

  /** The room an operator command is about, if the client may moderate it. */
  #moderated(session: Session, name: string | undefined, ref?: Ref): Room | null {
    const room = this.#roomFor(session, name, ref, !session.admin);
    if (room === null) return null;
    if (!session.admin && !room.rules.isOp(session.nick)) {
      this.#error(session, "not_operator", `you are not an operator of ${room.name}`, ref);
      return null;
    }
    return room;
  }

  /** The member of `room` with this nick on this process, if any. */
  #memberOf(room: Room, nick: string): Session | undefined {
    const member = this.#nicks.get(nickKey(nick));
    return member !== undefined && room.members.has(member) ? member : undefined;
  }

  /** Whether `nick` is in `room` anywhere (on another process, in a cluster). */
  async #inRoom(room: Room, nick: string): Promise<boolean> {
    if (this.#memberOf(room, nick) !== undefined) return true;
    if (this.#cluster === null) return false;
    const members = await this.#cluster.who(room.name);
    return members.some((m) => nickKey(m) === nickKey(nick));
  }

  /** `kick` removes a member; `ban` also keeps the nick (and its address) out. */
  #kick(
    session: Session,
    roomName: string | undefined,
    requested: string,
    kind: "kick" | "ban",
    message: string | undefined,
    ref?: Ref,
  ): Promise<unknown> | void {
    const room = this.#moderated(session, roomName, ref);
    if (room === null) return;
    const nick = requested.trim();
    const target = this.#memberOf(room, nick);
    if (target?.admin) {
      return this.#error(session, "not_operator", `${target.nick} is a server operator`, ref);
    }
    const cleaned = message === undefined ? "" : stripControls(message).trim();
    return this.#inRoom(room, nick).then(
      (present) => {
        if (kind === "kick" && !present) {
          return this.#error(session, "no_such_nick", `${nick} is not in ${room.name}`, ref);
        }
        if (kind === "ban") {
          if (validNick(nick) === null) {
            return this.#error(session, "invalid_nick", `invalid nick: ${nick}`, ref);
          }
          room.rules.ban(nick, target?.address || undefined);
          room.rules.ops.delete(nickKey(nick));
          if (!present) return this.#changeRules(session, room, "ban", nick, ref);
        }
        const name = target?.nick ?? nick;
        const reason: LeaveReason = {
          kind,
          by: session.nick,
          message: cleaned === "" ? undefined : cleaned,
        };
        const save = kind === "ban" ? this.#saveRules(room) : Promise.resolve(null);
        return save.then((failure) => {
          if (failure !== null) this.#error(session, "store_failed", failure, ref);
          // Everyone sees it, the member removed included, even in a quiet room.
          const event: ServerEvent = { type: "left", room: room.name, nick: name, reason };
          for (const member of room.members) {
            member.port.send(member === session ? { ...event, ref } : event);
          }
          if (!room.members.has(session)) session.port.send({ ...event, ref });
          this.#cluster?.publish(room.name, event);
          if (target !== undefined && room.members.has(target)) this.#remove(target, room);
        });
      },
      (err) =>
        this.#error(session, "cluster_failed", `members unavailable: ${errorText(err)}`, ref),
    );
  }

  /** A member removed by an operator (who has told the room). */
  #remove(target: Session, room: Room): void {
    this.#detach(target, room);
    this.#pickCurrent(target);
    this.#dropIfEmpty(room);
  }

  #setOp(
    session: Session,
    roomName: string | undefined,
    nick: string,
    op: boolean,
    ref?: Ref,
  ): Promise<unknown> | void {
    const room = this.#moderated(session, roomName, ref);
    if (room === null) return;
    if (room.rules.isOp(nick) === op) {
      const already = op ? "already an operator" : "not an operator";
      return this.#error(session, "bad_request", `${nick} is ${already} of ${room.name}`, ref);
    }
    if (!op) {
      room.rules.ops.delete(nickKey(nick));
      return this.#changeRules(session, room, "deop", nick, ref);
    }
    return this.#inRoom(room, nick).then(
      (present) => {
        if (!present) {
          return this.#error(session, "no_such_nick", `${nick} is not in ${room.name}`, ref);
        }
        const name = this.#memberOf(room, nick)?.nick ?? nick; // as the member spells it
        room.rules.ops.add(nickKey(name));
        return this.#changeRules(session, room, "op", name, ref);
      },
      (err) =>
        this.#error(session, "cluster_failed", `members unavailable: ${errorText(err)}`, ref),
    );
  }

  #topic(
    session: Session,
    roomName: string | undefined,
    text: string | undefined,
    ref?: Ref,
  ): Promise<unknown> | void {
    if (text === undefined) {
      const room = this.#roomFor(session, roomName, ref, !session.admin);
      if (room === null) return;
      const topic = room.rules.topic;
      session.port.send({
        type: "topic",
        room: room.name,
        topic: topic?.text ?? null,
        ...(topic === null ? {} : { by: topic.by }),
        ref,
      });
      return;
    }
    const room = this.#moderated(session, roomName, ref);
    if (room === null) return;
    const cleaned = stripControls(text).trim();
    if ([...cleaned].length > MAX_TOPIC) {
      return this.#error(
        session,
        "bad_request",
        `topic too long (max ${MAX_TOPIC} characters)`,
        ref,
      );
    }
    room.rules.topic = cleaned === "" ? null : { text: cleaned, by: session.nick, ts: this.#now() };
    const event: ServerEvent = {
      type: "topic",
      room: room.name,
      topic: room.rules.topic?.text ?? null,
      by: session.nick,
      changed: true,
    };
    return this.#announceRules(session, room, event, ref);
  }

  /** Saves a room's changed rules and tells its members (everywhere) what changed. */
  #changeRules(
    session: Session,
    room: Room,
    action: ModerationAction,
    nick: string | undefined,
    ref?: Ref,
  ): Promise<unknown> {
    const event: ServerEvent = { type: "moderation", room: room.name, action, by: session.nick };
    if (nick !== undefined) event.nick = nick;
    return this.#announceRules(session, room, event, ref);
  }

  #announceRules(session: Session, room: Room, event: ServerEvent, ref?: Ref): Promise<unknown> {
    return this.#saveRules(room).then((failure) => {
      if (failure !== null) this.#error(session, "store_failed", failure, ref);
      const own = { ...event, ref } as ServerEvent;
      for (const member of room.members) member.port.send(member === session ? own : event);
      if (!room.members.has(session)) session.port.send(own);
      // Published once stored: the other processes read the rules again on hearing it.
      this.#cluster?.publish(room.name, event);
    });
  }

  /** Stores a room's rules; resolves to why that failed, or `null`. */
  #saveRules(room: Room): Promise<string | null> {
    return this.#store.putRecord("room", room.name, room.rules.serialize()).then(
      () => null,
      (err) => `room settings not kept: ${errorText(err)}`,
    );
  }

  /** Another process changed a room's rules: read them again, keeping this process's guest operators. */
  #reloadRules(name: string): Promise<void> {
    const reloading = this.#store.getRecord("room", name).then((record) => {
      const room = this.#rooms.get(name);
      if (room === undefined) return;
      const rules = RoomRules.parse(record);
      for (const op of room.rules.ops) if (isGuestNick(op)) rules.ops.add(op);
      room.rules = rules;
    }, (err) => this.#options.onError?.(err)).finally(() => {
      const room = this.#rooms.get(name);
      if (room?.reloading === reloading) room.reloading = null;
    });
    const room = this.#rooms.get(name);
    if (room !== undefined) room.reloading = reloading;
    return reloading;
  }

  // --- cluster ------------------------------------------------------------------------------------

  /** Events from other processes for this process's members of `room`. */
  #remote(room: string, event: ServerEvent, rooms?: string[]): void {
    if (event.type === "message") return this.#sequence(event.message);
    const local = this.#rooms.get(room);
    if (local === undefined) return;
    if (event.type === "left" && (event.reason.kind === "kick" || event.reason.kind === "ban")) {
      return this.#removedRemotely(local, event.nick, event.reason.kind === "ban", event);
    }
    if (event.type === "moderation" || event.type === "topic") void this.#reloadRules(room);
    if (event.type === "nick" && rooms !== undefined) {
      // Once per member: only through the first of the renamer's rooms the member is in.
      const earlier = rooms.slice(0, rooms.indexOf(room));
      for (const member of local.members) {
        if (!earlier.some((r) => member.rooms.has(r))) member.port.send(event);
      }
      return;
    }
    for (const member of local.members) member.port.send(event);
  }

  /**
   * An operator on another process kicked or banned `nick` from `room`: the
   * members here are told, and if the member is here, it is removed (and,
   * for a ban, its address is added to the stored ban).
   */
  #removedRemotely(room: Room, nick: string, ban: boolean, event: ServerEvent): void {
    for (const member of room.members) member.port.send(event);
    const target = this.#memberOf(room, nick);
    if (target !== undefined) this.#remove(target, room);
    void this.#reloadRules(room.name).then(async () => {
      if (!ban || target === undefined || target.address === "") return;
      const rules = RoomRules.parse(await this.#store.getRecord("room", room.name));
      rules.ban(nick, target.address);
      await this.#store.putRecord("room", room.name, rules.serialize());
      this.#rooms.get(room.name)?.rules.ban(nick, target.address);
    }).catch((err) => this.#options.onError?.(err));
  }

  /** Next message id expected per room, and messages that came early. */
  readonly #nextIds = new Map<string, number>();
  readonly #early = new Map<string, Map<number, [ChatMessage, Session?, Ref?]>>();
  readonly #gapTimers = new Map<string, ReturnType<typeof setTimeout>>();

  /**
   * Puts a room's messages back in id order (ids are consecutive per room):
   * pub/sub across processes may reorder or lose them. A gap that does not
   * fill within {@link GAP_WAIT_MS} is read from the shared history; what is
   * not there either is skipped.
   */
  #sequence(message: ChatMessage, sender?: Session, ref?: Ref): void {
    const room = message.room;
    if (this.#starting.has(room)) return this.#hold(message, sender, ref);
    const next = this.#nextIds.get(room);
    if (next !== undefined && message.id < next) return; // delivered already
    if (next !== undefined && message.id > next) {
      this.#hold(message, sender, ref);
      if (!this.#gapTimers.has(room)) {
        this.#gapTimers.set(room, setTimeout(() => this.#fillGap(room), GAP_WAIT_MS));
      }
      return;
    }
    this.#fanOut(message, sender, ref);
    this.#nextIds.set(room, message.id + 1);
    const early = this.#early.get(room);
    const following = early?.get(message.id + 1);
    if (following !== undefined) {
      early!.delete(message.id + 1);
      this.#sequence(...following);
    } else if (early !== undefined && early.size === 0) {
      this.#early.delete(room);
      clearTimeout(this.#gapTimers.get(room));
      this.#gapTimers.delete(room);
    }
  }

  /** Rooms whose first local member just joined: their numbering is being read. */
  readonly #starting = new Set<string>();

  /**
   * Subscribes to a room that just got its first local member and reads where
   * its numbering stands, holding the messages that arrive meanwhile: every
   * message numbered after that point is delivered, in order, and none before.
   */
  #startSequence(room: string): void {
    const cluster = this.#cluster!;
    this.#starting.add(room);
    cluster.watch(room);
    this.#store.lastId(room).then((last) => {
      if (!this.#starting.delete(room)) return; // the room emptied meanwhile
      this.#nextIds.set(room, last + 1);
      const early = this.#early.get(room);
      if (early === undefined) return;
      this.#early.delete(room);
      for (const id of [...early.keys()].sort((a, b) => a - b)) {
        if (id > last) this.#sequence(...early.get(id)!);
      }
    }, () => {
      // Without the numbering, the first message seen sets it.
      this.#starting.delete(room);
    });
  }

  #hold(message: ChatMessage, sender?: Session, ref?: Ref): void {
    let early = this.#early.get(message.room);
    if (early === undefined) this.#early.set(message.room, early = new Map());
    early.set(message.id, [message, sender, ref]);
  }

  #fillGap(room: string): void {
    this.#gapTimers.delete(room);
    const next = this.#nextIds.get(room);
    const early = this.#early.get(room);
    if (next === undefined || early === undefined || early.size === 0) return;
    const first = Math.min(...early.keys());
    this.#store.after(room, next - 1, first - next).then((missing) => {
      for (const m of missing) this.#sequence(m);
    }, () => {}).finally(() => {
      // Whatever is still missing is gone: go on from the first message held.
      const stuck = this.#early.get(room);
      if (stuck === undefined || stuck.size === 0) return;
      const lowest = Math.min(...stuck.keys());
      const [message, sender, ref] = stuck.get(lowest)!;
      stuck.delete(lowest);
      this.#nextIds.set(room, lowest);
      this.#sequence(message, sender, ref);
    });
  }

  /**
   * After the cluster link comes back: reads what each room missed from the
   * shared history, then accepts the numbering as it is now (a Redis that
   * lost its data numbers from 1 again).
   */
  async resync(): Promise<void> {
    for (const room of [...this.#nextIds.keys()]) {
      const next = this.#nextIds.get(room)!;
      const missing = await this.#store.after(room, next - 1, 1000).catch(() => []);
      for (const message of missing) this.#sequence(message);
      if (missing.length === 0) this.#forgetSequence(room);
    }
  }

  #forgetSequence(room: string): void {
    this.#starting.delete(room);
    this.#nextIds.delete(room);
    this.#early.delete(room);
    clearTimeout(this.#gapTimers.get(room));
    this.#gapTimers.delete(room);
  }

  #whoEverywhere(
    session: Session,
    command: Extract<Command, { type: "who" }>,
  ): Promise<unknown> | void {
    const { room: name, ref } = command;
    const room = name === undefined || name.trim() === ""
      ? session.current?.name ?? null
      : normalizeRoom(name.trim());
    if (room === null) {
      const message = name === undefined || name.trim() === ""
        ? "you are not in a room (try /join <room>)"
        : `no such room: ${name.trim()}`;
      const code = name === undefined || name.trim() === "" ? "no_current_room" : "no_such_room";
      return this.#error(session, code, message, ref);
    }
    return Promise.resolve(this.#cluster!.who(room)).then(
      (members) => {
        if (members.length === 0) {
          return this.#error(session, "no_such_room", `no such room: ${room}`, ref);
        }
        session.port.send(whoPage(room, members, (m) => m, command));
      },
      (err) => this.#error(session, "cluster_failed", `who unavailable: ${errorText(err)}`, ref),
    );
  }

  #remoteDirect(session: Session, to: string, text: string, ref?: Ref): Promise<unknown> {
    const cluster = this.#cluster!;
    return Promise.resolve(cluster.findNick(to)).then(async (nick) => {
      if (nick === null) return this.#error(session, "no_such_nick", `no such nick: ${to}`, ref);
      this.#stats.messagesIn++;
      const event: ServerEvent = {
        type: "dm",
        from: session.nick,
        to: nick,
        text,
        ts: this.#now(),
      };
      if (!(await cluster.sendDirect(nick, event))) {
        return this.#error(session, "no_such_nick", `no such nick: ${to}`, ref);
      }
      session.port.send(ref === undefined ? event : { ...event, ref });
    }).catch((err) =>
      this.#error(session, "cluster_failed", `message not sent: ${errorText(err)}`, ref)
    );
  }
}

/** What a client may ask before it has sent the server password. */
const BEFORE_PASSWORD = new Set<Command["type"]>(["pass", "help", "quit"]);

/** How long a gap in a room's message ids may stay open before it is read from history. */
const GAP_WAIT_MS = 200;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One page of a room's members: `who` on a room of thousands lists a page
 * (with `total` and `offset`) instead of a line of a hundred kilobytes.
 */
function whoPage<T>(
  room: string,
  all: Iterable<T>,
  nick: (member: T) => string,
  command: Extract<Command, { type: "who" }>,
): ServerEvent {
  const limit = Math.min(command.limit ?? WHO_PAGE_SIZE, WHO_MAX);
  const offset = command.offset ?? 0;
  const members: string[] = [];
  let total = 0;
  for (const member of all) {
    if (total >= offset && members.length < limit) members.push(nick(member));
    total++;
  }
  const paged = offset > 0 || members.length < total;
  return paged
    ? { type: "who", room, members, total, offset, ref: command.ref }
    : { type: "who", room, members, ref: command.ref };
}

/** The password hash in a registered nick's record (`{"hash": ..., "ts": ...}`). */
function registeredHash(record: string): string {
  try {
    const hash = JSON.parse(record)?.hash;
    return typeof hash === "string" ? hash : "";
  } catch {
    return ""; // a damaged record matches no password
  }
}
