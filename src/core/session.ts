/**
 * One connected client as the core sees it: its nick, its rooms and current
 * room, what it may do, and its queue of requests. Fields are private; the
 * handlers change a session through the methods below.
 *
 * @module
 */

import type { RequestQueue } from "./request_queue.ts";
import type { Room } from "./room.ts";
import type { ChatMessage, ClientPort } from "./types.ts";

/** The shortest time between two typing notices of one client to one room or nick. */
export const TYPING_INTERVAL_MS = 3000;

/** How a client connects. */
export interface ConnectOptions {
  /** Put it in the lobby once it may chat (default true; IRC clients join what they ask for). */
  lobby?: boolean;
  /** What an IRC client gave as its user name and real name. */
  ident?: { user: string; realname: string };
  /**
   * Its door shows every message (nc, IRC): when it leaves a room, what the
   * room had said by then counts as read.
   */
  readsAll?: boolean;
}

/** Where a client has read up to in a room or a DM conversation. */
export interface ReadMarker {
  /** The last message read (0: none). */
  id: number;
  /** Its time (ms), or the time the client gave (IRC `MARKREAD` names times). */
  ts: number;
}

/**
 * What most sessions never set (an operator, an away message, an account,
 * typing, a guest's read markers...): one object, made when one of them is,
 * so that an idle client's session carries a field for all of them.
 */
class Rare {
  passFailures = 0;
  admin = false;
  away: string | null = null;
  registered = false;
  account: string | null = null;
  /** The hash of the resume token it resumed with or was last issued (what `logout` revokes). */
  tokenHash: string | null = null;
  /** When it last said it was typing, per room or nick (ms), and what. */
  typing: Map<string, { at: number; state: string }> | null = null;
  /** A guest's read markers, which live as long as its connection. */
  markers: Map<string, ReadMarker> | null = null;
  left: Promise<void> | null = null;
  markLeft: (() => void) | null = null;
}

/** A connected client. */
export class Session {
  #nick: string;
  /** Rooms in the order they were joined. */
  readonly #rooms = new Map<string, Room>();
  #current: Room | null = null;
  #closed = false;
  #authorized: boolean;
  #rare: Rare | null = null;
  /**
   * Rooms whose join replay is still being read from history: live messages
   * for them wait here so the member sees history, then live, in order.
   */
  #replays: Map<string, ChatMessage[]> | null = null;
  readonly #requests: RequestQueue<Session>;
  #hasLeft = false;
  #nickSince = 0;

  constructor(
    readonly id: number,
    nick: string,
    readonly port: ClientPort,
    /** The peer's IP address ("" when unknown): for attempt limits and bans. */
    readonly address: string,
    /** False until the client sends the server password (when there is one). */
    authorized: boolean,
    requests: (session: Session) => RequestQueue<Session>,
    readonly options: ConnectOptions = {},
  ) {
    this.#nick = nick;
    this.#authorized = authorized;
    this.#requests = requests(this);
  }

  get nick(): string {
    return this.#nick;
  }

  /** Rooms in the order they were joined. */
  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
  }

  /** Where plain lines go. */
  get current(): Room | null {
    return this.#current;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get authorized(): boolean {
    return this.#authorized;
  }

  /** A server operator (`admin`): moderates every room, sees `stats`. */
  get admin(): boolean {
    return this.#rare?.admin ?? false;
  }

  /** Its away message; `null` while it is here. */
  get away(): string | null {
    return this.#rare?.away ?? null;
  }

  /** Whether it holds a registered nick (claimed with its password, or registered by it). */
  get registered(): boolean {
    return this.#rare?.registered ?? false;
  }

  /** The registered nick it proved it owns (SASL, or claiming it), if any. */
  get account(): string | null {
    return this.#rare?.account ?? null;
  }

  /** Logged in as `account` (a registered nick whose password it gave). */
  setAccount(account: string): void {
    this.#extra().account = account;
  }

  /** The hash of its resume token (resumed with, or last issued), if any. */
  get tokenHash(): string | null {
    return this.#rare?.tokenHash ?? null;
  }

  setTokenHash(hash: string | null): void {
    if (hash !== null || this.#rare !== null) this.#extra().tokenHash = hash;
  }

  /** What an IRC client gave with `USER` after it connected (SASL may come first). */
  identify(ident: { user: string; realname: string }): void {
    this.options.ident ??= ident;
  }

  setAway(text: string | null): void {
    if (text !== null || this.#rare !== null) this.#extra().away = text;
  }

  /** Its nick is (no longer) a registered one it proved the right to. */
  setRegistered(registered: boolean): void {
    if (registered || this.#rare !== null) this.#extra().registered = registered;
  }

  /** Its requests, in order and within its flood budget. */
  get requests(): RequestQueue<Session> {
    return this.#requests;
  }

  /** True while requests wait behind unfinished ones. */
  get busy(): boolean {
    return this.#requests.pending > 0;
  }

  /** Resolves once nothing waits (transports wait here before reading on). */
  drained(): Promise<void> {
    return this.#requests.drained();
  }

  /** Resolves once the client has left its rooms (after its last requests took effect). */
  get left(): Promise<void> {
    if (this.#hasLeft) return Promise.resolve();
    const rare = this.#extra();
    rare.left ??= new Promise((resolve) => (rare.markLeft = resolve));
    return rare.left;
  }

  /** `at`: when it took the nick (ms), which bounds what a guest may edit. */
  rename(nick: string, at = 0): void {
    this.#nick = nick;
    this.#nickSince = at;
  }

  /** When it took its nick (ms): a guest edits only what it said since. */
  get nickSince(): number {
    return this.#nickSince;
  }

  /**
   * Whether a typing notice to `target` in `state` may go out at `now`:
   * one per 3 s, except that ending it (`done`) always may once.
   */
  mayType(target: string, state: string, now: number): boolean {
    const last = this.#rare?.typing?.get(target);
    const allowed = last === undefined || now - last.at >= TYPING_INTERVAL_MS ||
      (state === "done" && last.state !== "done");
    if (allowed) (this.#extra().typing ??= new Map()).set(target, { at: now, state });
    return allowed;
  }

  /** A guest's read marker for `target` (a room, or a DM conversation key). */
  guestMarker(target: string): ReadMarker | undefined {
    return this.#rare?.markers?.get(target);
  }

  setGuestMarker(target: string, marker: ReadMarker): void {
    (this.#extra().markers ??= new Map()).set(target, marker);
  }

  /** Now a member of `room`, which becomes current. */
  enter(room: Room): void {
    this.#rooms.set(room.name, room);
    this.#current = room;
  }

  /** No longer a member of `room` (no current room if it was the current one). */
  exit(room: Room): void {
    this.#rooms.delete(room.name);
    this.#replays?.delete(room.name);
    if (this.#current === room) this.#current = null;
  }

  setCurrent(room: Room | null): void {
    this.#current = room;
  }

  authorize(): void {
    this.#authorized = true;
  }

  /** Counts a wrong server password; returns how many so far. */
  passFailed(): number {
    return ++this.#extra().passFailures;
  }

  makeAdmin(): void {
    this.#extra().admin = true;
  }

  /** Starts holding live messages of `room` while its replay is read; returns the hold. */
  holdLive(room: string): ChatMessage[] {
    const held: ChatMessage[] = [];
    (this.#replays ??= new Map()).set(room, held);
    return held;
  }

  /** The live messages held for `room`'s replay, if one is being read. */
  heldFor(room: string): ChatMessage[] | undefined {
    return this.#replays?.get(room);
  }

  /** Ends `room`'s replay; false if it was dropped meanwhile (left or rejoined). */
  endHold(room: string, held: ChatMessage[]): boolean {
    if (this.#replays?.get(room) !== held) return false;
    this.#replays.delete(room);
    if (this.#replays.size === 0) this.#replays = null;
    return true;
  }

  /** Closed for the core: its waiting requests are dropped. False if it already was. */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#requests.stop();
    return true;
  }

  /** It has left its rooms: resolves {@link left}. */
  markLeft(): void {
    this.#replays = null;
    this.#hasLeft = true;
    this.#rare?.markLeft?.();
  }

  #extra(): Rare {
    return this.#rare ??= new Rare();
  }
}
