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
  bans?: readonly Ban[];
  topic?: { text: string; by: string; ts: number };
  lock?: string;
  voices?: string[];
  flags?: Partial<RoomFlags>;
}

/** A room's switches, off by default (IRC's `+s`, `+i`, `-t`, `-n` and `+m`). */
export interface RoomFlags {
  /** Not listed to those outside it (`+s`). */
  secret: boolean;
  /** Joined only by invitation, or by its operators (`+i`). */
  inviteOnly: boolean;
  /** Any member sets the topic, not only operators (`-t`). */
  topicOpen: boolean;
  /** Anyone may send messages to it without joining (`-n`). */
  outsiders: boolean;
  /** Only its operators and voiced members speak (`+m`). */
  moderated: boolean;
}

/** Every switch, in the order they are listed. */
export const ROOM_FLAGS: readonly (keyof RoomFlags)[] = Object.freeze([
  "secret",
  "inviteOnly",
  "topicOpen",
  "outsiders",
  "moderated",
]);

/** Every switch off: the flags of a room that never changed one (frozen, shared). */
const NO_FLAGS: Readonly<RoomFlags> = Object.freeze({
  secret: false,
  inviteOnly: false,
  topicOpen: false,
  outsiders: false,
  moderated: false,
});
/** No bans, shared by every room without one (frozen). */
const NO_BANS: readonly Ban[] = Object.freeze([]);
const NO_VOICES: ReadonlySet<string> = new Set();

/**
 * One room's settings. What most rooms never set (voices, bans, switches)
 * is shared until it is: each room here is held for as long as it has a
 * member, idle ones included.
 */
export class RoomRules {
  /** Operators' nick keys. */
  readonly ops = new Set<string>();
  bans: readonly Ban[] = NO_BANS;
  topic: { text: string; by: string; ts: number } | null = null;
  /** The room password's hash (see passwords.ts); `null` when the room is open. */
  lock: string | null = null;
  #voices: Set<string> | null = null;
  #flags: Readonly<RoomFlags> = NO_FLAGS;

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
    const bans = list(record.bans).filter((b): b is Ban =>
      typeof (b as Ban)?.nick === "string" &&
      ((b as Ban).address === undefined || typeof (b as Ban).address === "string")
    );
    if (bans.length > 0) rules.bans = bans;
    if (typeof record.topic?.text === "string") rules.topic = record.topic;
    if (typeof record.lock === "string") rules.lock = record.lock;
    for (const voice of list(record.voices)) if (typeof voice === "string") rules.addVoice(voice);
    for (const flag of ROOM_FLAGS) {
      if (record.flags?.[flag] === true) rules.setFlag(flag, true);
    }
    return rules;
  }

  /** Members with a voice (IRC's `+v`), by nick key: shown, and kept with the room. */
  get voices(): ReadonlySet<string> {
    return this.#voices ?? NO_VOICES;
  }

  addVoice(key: string): void {
    (this.#voices ??= new Set()).add(key);
  }

  /** False if `key` had no voice. */
  removeVoice(key: string): boolean {
    return this.#voices?.delete(key) ?? false;
  }

  /** The room's switches. */
  get flags(): Readonly<RoomFlags> {
    return this.#flags;
  }

  setFlag(flag: keyof RoomFlags, on: boolean): void {
    this.#flags = { ...this.#flags, [flag]: on };
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

  /** Whether `nick` may speak here: anyone, or in a moderated room its operators and voices. */
  maySpeak(nick: string): boolean {
    if (!this.#flags.moderated) return true;
    const key = nickKey(nick);
    return this.ops.has(key) || this.voices.has(key);
  }

  /** Whether `nick`, or `address` ("" to leave addresses out), is banned. */
  isBanned(nick: string, address: string): boolean {
    const key = nickKey(nick);
    return this.bans.some((b) => b.nick === key || (address !== "" && b.address === address));
  }

  ban(nick: string, address?: string): void {
    this.unban(nick);
    this.bans = [
      ...this.bans,
      address === undefined ? { nick: nickKey(nick) } : { nick: nickKey(nick), address },
    ];
  }

  /** Lifts the bans on `nick` (and on the address it was banned with); false if there were none. */
  unban(nick: string): boolean {
    const kept = this.bans.filter((b) => b.nick !== nickKey(nick));
    if (kept.length === this.bans.length) return false;
    this.bans = kept.length === 0 ? NO_BANS : kept;
    return true;
  }

  /** An operator (or a voiced member) changed nick: the room stays theirs. */
  renameOp(old: string, nick: string): boolean {
    let changed = false;
    if (this.ops.delete(nickKey(old))) {
      this.ops.add(nickKey(nick));
      changed = true;
    }
    if (this.removeVoice(nickKey(old))) {
      this.addVoice(nickKey(nick));
      changed = true;
    }
    return changed;
  }

  hasVoice(nick: string): boolean {
    return this.voices.has(nickKey(nick));
  }
}
