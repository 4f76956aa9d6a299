/**
 * A room as this process holds it: its members here, in join order, and its
 * rules (operators, bans, topic, lock).
 *
 * @module
 */

import { nickKey } from "./names.ts";
import type { RoomRules } from "./room_rules.ts";
import type { Session } from "./session.ts";

/**
 * A room with members on this process. A member is a nick: one nick with
 * several connections in the room is one member, each of its sessions hears
 * the room.
 */
export class Room {
  readonly #members = new Set<Session>();
  /** Sessions per member nick (key), for nicks with more than one here (made when one has). */
  #connections: Map<string, number> | null = null;
  #rules: RoomRules;
  #entering = 0;
  #reloading: Promise<void> | null = null;
  /** Nick keys invited into an invite-only room, until they join (kept here only). */
  #invited: Set<string> | null = null;

  /** `createdAt`: when it got its first member here (ms). */
  constructor(readonly name: string, rules: RoomRules, readonly createdAt = 0) {
    this.#rules = rules;
  }

  /** The sessions in the room on this process (all connections of every member), in join order. */
  get members(): ReadonlySet<Session> {
    return this.#members;
  }

  /** Members here: nicks, however many connections each has in the room. */
  get size(): number {
    let extra = 0;
    for (const n of this.#connections?.values() ?? []) extra += n - 1;
    return this.#members.size - extra;
  }

  /** The member nicks here, once each, in join order. */
  get nicks(): string[] {
    const nicks = [...this.#members].map((m) => m.nick);
    return this.#connections === null ? nicks : [...new Set(nicks)];
  }

  has(session: Session): boolean {
    return this.#members.has(session);
  }

  /** Whether one of `sessions` (a nick's connections) other than `except` is in the room. */
  hasAny(sessions: readonly Session[], except?: Session): boolean {
    return sessions.some((s) => s !== except && this.#members.has(s));
  }

  /**
   * Adds a session; true when its nick was not a member yet. `siblings`: the
   * sessions holding its nick (checked instead of every member: a big room
   * stays cheap to join).
   */
  add(session: Session, siblings: readonly Session[] = []): boolean {
    const first = !this.hasAny(siblings, session);
    this.#members.add(session);
    if (!first) this.#count(nickKey(session.nick), +1);
    return first;
  }

  /** Takes a session out; true when it was its nick's last one here. */
  delete(session: Session): boolean {
    if (!this.#members.delete(session)) return false;
    const key = nickKey(session.nick);
    if (!this.#connections?.has(key)) return true;
    this.#count(key, -1);
    return false;
  }

  /**
   * `session`, a member, now holds a nick another member session may hold:
   * true when it joins that member (the room has one member fewer).
   */
  renamed(session: Session, oldNick: string, siblings: readonly Session[]): boolean {
    const oldKey = nickKey(oldNick);
    if (this.#connections?.has(oldKey)) this.#count(oldKey, -1);
    if (!this.hasAny(siblings, session)) return false;
    this.#count(nickKey(session.nick), +1);
    return true;
  }

  #count(key: string, change: number): void {
    // Absent: one connection. Kept only while a nick has two or more here.
    const n = (this.#connections?.get(key) ?? 1) + change;
    if (n > 1) (this.#connections ??= new Map()).set(key, n);
    else if (this.#connections?.delete(key) && this.#connections.size === 0) {
      this.#connections = null;
    }
  }

  get rules(): RoomRules {
    return this.#rules;
  }

  /** Rules read again from the store (changed by another process). */
  replaceRules(rules: RoomRules): void {
    this.#rules = rules;
  }

  /** A join is checking the room's password: the room stays while it does. */
  entering(): void {
    this.#entering++;
  }

  entered(): void {
    this.#entering--;
  }

  /** No members and nobody about to enter: the room can be forgotten here. */
  get empty(): boolean {
    return this.#members.size === 0 && this.#entering === 0;
  }

  invite(key: string): void {
    (this.#invited ??= new Set()).add(key);
  }

  /** Whether `key` was invited; an invitation is used up by the join. */
  takeInvitation(key: string): boolean {
    return this.#invited?.delete(key) ?? false;
  }

  /** Rules being read again after a change on another process: joins wait for them. */
  get reloading(): Promise<void> | null {
    return this.#reloading;
  }

  set reloading(reload: Promise<void> | null) {
    this.#reloading = reload;
  }
}
