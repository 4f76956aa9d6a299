/**
 * A room as this process holds it: its members here, in join order, and its
 * rules (operators, bans, topic, lock).
 *
 * @module
 */

import type { RoomRules } from "./room_rules.ts";
import type { Session } from "./session.ts";

/** A room with members on this process. */
export class Room {
  readonly #members = new Set<Session>();
  #rules: RoomRules;
  #entering = 0;
  #reloading: Promise<void> | null = null;
  /** Nick keys invited into an invite-only room, until they join (kept here only). */
  #invited: Set<string> | null = null;

  /** `createdAt`: when it got its first member here (ms). */
  constructor(readonly name: string, rules: RoomRules, readonly createdAt = 0) {
    this.#rules = rules;
  }

  /** The members on this process, in the order they joined. */
  get members(): ReadonlySet<Session> {
    return this.#members;
  }

  get size(): number {
    return this.#members.size;
  }

  has(session: Session): boolean {
    return this.#members.has(session);
  }

  add(session: Session): void {
    this.#members.add(session);
  }

  delete(session: Session): void {
    this.#members.delete(session);
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
