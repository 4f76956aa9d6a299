/**
 * Who and what this process holds: its sessions, the nicks they hold and the
 * rooms with members here.
 *
 * @module
 */

import { nickKey } from "./names.ts";
import type { Room } from "./room.ts";
import type { Session } from "./session.ts";

/** The sessions, nicks and rooms of this process. */
export class Registry {
  readonly #sessions = new Set<Session>();
  readonly #nicks = new Map<string, Session>();
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

  /** A session gone: its nick is free. */
  remove(session: Session): void {
    this.#sessions.delete(session);
    if (this.#nicks.get(nickKey(session.nick)) === session) {
      this.#nicks.delete(nickKey(session.nick));
    }
  }

  /** The local session holding `nick` (any case), if any. */
  byNick(nick: string): Session | undefined {
    return this.#nicks.get(nickKey(nick));
  }

  /** `session` (already renamed) gave up `old`. */
  renamed(session: Session, old: string): void {
    this.#nicks.delete(nickKey(old));
    this.#nicks.set(nickKey(session.nick), session);
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
