/**
 * Who and what this process holds: its sessions, the nicks they hold and the
 * rooms with members here.
 *
 * @module
 */

import { nickKey } from "./names.ts";
import type { Room } from "./room.ts";
import type { Session } from "./session.ts";

/**
 * The sessions, nicks and rooms of this process. A logged-in nick may be
 * held by several sessions at once (one person's phone, laptop and IRC
 * client): {@link byNick} gives the first, {@link connectionsOf} all.
 */
export class Registry {
  readonly #sessions = new Set<Session>();
  readonly #nicks = new Map<string, Session>();
  /** For nicks held by more than one session: all of them, the first first. */
  readonly #shared = new Map<string, Session[]>();
  readonly #rooms = new Map<string, Room>();
  #peak = 0;

  get sessions(): ReadonlySet<Session> {
    return this.#sessions;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** The most sessions connected here at once since the start. */
  get peakSessions(): number {
    return this.#peak;
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  /** Rooms with members here (or about to have one). */
  get rooms(): Iterable<Room> {
    return this.#rooms.values();
  }

  /** A new session, holding its (guest) nick. */
  add(session: Session): void {
    this.#sessions.add(session);
    this.#peak = Math.max(this.#peak, this.#sessions.size);
    this.#nicks.set(nickKey(session.nick), session);
  }

  /** A session gone; returns whether its nick is free now (no other session holds it). */
  remove(session: Session): boolean {
    this.#sessions.delete(session);
    return this.#release(session, nickKey(session.nick));
  }

  /** The local session holding `nick` (any case), if any: the first of several. */
  byNick(nick: string): Session | undefined {
    return this.#nicks.get(nickKey(nick));
  }

  /** Every local session holding `nick`, the first first. */
  connectionsOf(nick: string): readonly Session[] {
    const key = nickKey(nick);
    const shared = this.#shared.get(key);
    if (shared !== undefined) return shared;
    const one = this.#nicks.get(key);
    return one === undefined ? [] : [one];
  }

  /** `session` (already renamed) gave up `old`: alone, or joining those that hold its new nick. */
  renamed(session: Session, old: string): void {
    this.#release(session, nickKey(old));
    const key = nickKey(session.nick);
    const holder = this.#nicks.get(key);
    if (holder === undefined || holder === session) {
      this.#nicks.set(key, session);
      return;
    }
    const shared = this.#shared.get(key) ?? [holder];
    shared.push(session);
    this.#shared.set(key, shared);
  }

  /** `session` lets go of the nick `key`; true when nobody here holds it any more. */
  #release(session: Session, key: string): boolean {
    const shared = this.#shared.get(key);
    if (shared !== undefined) {
      const rest = shared.filter((s) => s !== session);
      if (rest.length === shared.length) return false;
      if (rest.length === 1) this.#shared.delete(key);
      else this.#shared.set(key, rest);
      this.#nicks.set(key, rest[0]);
      return false;
    }
    if (this.#nicks.get(key) !== session) return false;
    this.#nicks.delete(key);
    return true;
  }

  room(name: string): Room | undefined {
    return this.#rooms.get(name);
  }

  addRoom(room: Room): void {
    this.#rooms.set(room.name, room);
  }

  /** Forgets `room`, if it is still the one held under its name. */
  removeRoom(room: Room): boolean {
    if (this.#rooms.get(room.name) !== room) return false;
    this.#rooms.delete(room.name);
    return true;
  }
}
