/**
 * What makes a room belong to someone: its operators, bans, topic and lock.
 * Kept in the store as one small JSON record per room, loaded when the room
 * gets its first member here and saved on every change.
 *
 * Operators are kept by nick. A guest nick (`guest-7`) is an operator only
 * while it is connected: guest numbers start again after a restart, so
 * keeping them would hand the room to a stranger. An operator whose nick is
 * not registered keeps the room only as long as nobody else takes the nick;
 * `/register` protects it.
 *
 * @module
 */

import { isGuestNick, nickKey } from "./names.ts";

/** A ban: the nick (its key), and the address it had when banned, if known. */
export interface Ban {
  nick: string;
  address?: string;
}

/** The persisted form. */
interface RulesRecord {
  ops?: string[];
  bans?: Ban[];
  topic?: { text: string; by: string; ts: number };
  lock?: string;
  voices?: string[];
  flags?: Partial<RoomFlags>;
}

/** A room's switches, off by default (IRC's `+s`, `+i`, and `-t`). */
export interface RoomFlags {
  /** Not listed to those outside it (`+s`). */
  secret: boolean;
  /** Joined only by invitation, or by its operators (`+i`). */
  inviteOnly: boolean;
  /** Any member sets the topic, not only operators (`-t`). */
  topicOpen: boolean;
  /** Anyone may send messages to it without joining (`-n`). */
  outsiders: boolean;
}

/** One room's settings. */
export class RoomRules {
  /** Operators' nick keys. */
  readonly ops = new Set<string>();
  bans: Ban[] = [];
  topic: { text: string; by: string; ts: number } | null = null;
  /** The room password's hash (see passwords.ts); `null` when the room is open. */
  lock: string | null = null;
  /** Members with a voice (IRC's `+v`), by nick key: shown, and kept with the room. */
  readonly voices = new Set<string>();
  flags: RoomFlags = { secret: false, inviteOnly: false, topicOpen: false, outsiders: false };

  /** Reads a stored record; a damaged one counts as none (the room stays usable). */
  static parse(text: string | null): RoomRules {
    const rules = new RoomRules();
    if (text === null) return rules;
    let record: RulesRecord;
    try {
      record = JSON.parse(text);
    } catch {
      return rules;
    }
    if (typeof record !== "object" || record === null) return rules;
    const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
    for (const op of list(record.ops)) if (typeof op === "string") rules.ops.add(op);
    rules.bans = list(record.bans).filter((b): b is Ban =>
      typeof (b as Ban)?.nick === "string" &&
      ((b as Ban).address === undefined || typeof (b as Ban).address === "string")
    );
    if (typeof record.topic?.text === "string") rules.topic = record.topic;
    if (typeof record.lock === "string") rules.lock = record.lock;
    for (const voice of list(record.voices)) if (typeof voice === "string") rules.voices.add(voice);
    for (const flag of ["secret", "inviteOnly", "topicOpen", "outsiders"] as const) {
      if (record.flags?.[flag] === true) rules.flags[flag] = true;
    }
    return rules;
  }

  /** The record to store, or `null` when there is nothing worth keeping. */
  serialize(): string | null {
    const ops = [...this.ops].filter((key) => !isGuestNick(key));
    const record: RulesRecord = {};
    if (ops.length > 0) record.ops = ops;
    if (this.bans.length > 0) record.bans = this.bans;
    if (this.topic !== null) record.topic = this.topic;
    if (this.lock !== null) record.lock = this.lock;
    const voices = [...this.voices].filter((key) => !isGuestNick(key));
    if (voices.length > 0) record.voices = voices;
    const flags = Object.entries(this.flags).filter(([, on]) => on);
    if (flags.length > 0) record.flags = Object.fromEntries(flags);
    return Object.keys(record).length === 0 ? null : JSON.stringify(record);
  }

  isOp(nick: string): boolean {
    return this.ops.has(nickKey(nick));
  }

  /** Whether `nick`, or `address` ("" to leave addresses out), is banned. */
  isBanned(nick: string, address: string): boolean {
    const key = nickKey(nick);
    return this.bans.some((b) => b.nick === key || (address !== "" && b.address === address));
  }

  ban(nick: string, address?: string): void {
    this.unban(nick);
    this.bans.push(
      address === undefined ? { nick: nickKey(nick) } : { nick: nickKey(nick), address },
    );
  }

  /** Lifts the bans on `nick` (and on the address it was banned with); false if there were none. */
  unban(nick: string): boolean {
    const before = this.bans.length;
    this.bans = this.bans.filter((b) => b.nick !== nickKey(nick));
    return this.bans.length < before;
  }

  /** An operator (or a voiced member) changed nick: the room stays theirs. */
  renameOp(old: string, nick: string): boolean {
    let changed = false;
    for (const set of [this.ops, this.voices]) {
      if (!set.delete(nickKey(old))) continue;
      set.add(nickKey(nick));
      changed = true;
    }
    return changed;
  }

  hasVoice(nick: string): boolean {
    return this.voices.has(nickKey(nick));
  }
}
