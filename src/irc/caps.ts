/**
 * The IRCv3 capabilities the door offers, and a client's set of them.
 * Each one offered is honoured (irctest counts a NAKed claimed cap as a
 * failure).
 *
 * @module
 */

/** Capabilities offered, with their values (`CAP LS 302` shows them). */
export const OFFERED: ReadonlyMap<string, string> = new Map([
  ["account-tag", ""],
  ["away-notify", ""],
  ["batch", ""],
  ["cap-notify", ""],
  ["draft/chathistory", ""],
  ["draft/message-redaction", ""],
  ["draft/read-marker", ""],
  ["echo-message", ""],
  ["labeled-response", ""],
  ["message-tags", ""],
  ["multi-prefix", ""],
  ["sasl", "PLAIN"],
  ["server-time", ""],
  ["userhost-in-names", ""],
]);

/** Caps that change how shared lines are encoded: one encoding per combination. */
const ENCODING = [
  "message-tags",
  "server-time",
  "account-tag",
  "draft/message-redaction",
] as const;

/** A client's negotiated capabilities. */
export class CapSet {
  /** Made by the first request: most idle clients never negotiate, or negotiated once. */
  #caps: Set<string> | null = null;
  /** Counts changes, so that what depends on the caps can be kept until they change. */
  version = 0;

  has(cap: string): boolean {
    return this.#caps?.has(cap) ?? false;
  }

  /**
   * Applies a `CAP REQ` list (`cap` adds, `-cap` removes), all or nothing:
   * false (and nothing changed) if any is not offered.
   */
  request(list: string[]): boolean {
    for (const item of list) {
      const name = item.startsWith("-") ? item.slice(1) : item;
      if (!OFFERED.has(name)) return false;
    }
    const caps = this.#caps ??= new Set();
    for (const item of list) {
      if (item.startsWith("-")) caps.delete(item.slice(1));
      else caps.add(item);
    }
    this.version++;
    return true;
  }

  /** The caps enabled, for `CAP LIST`. */
  list(): string[] {
    return [...this.#caps ?? []].sort();
  }

  /** A small number naming the combination of caps that shapes shared lines. */
  get profile(): number {
    let bits = 0;
    for (let i = 0; i < ENCODING.length; i++) if (this.has(ENCODING[i])) bits |= 1 << i;
    return bits;
  }
}

/** `CAP LS` lines' content: every offered cap, with its value for 302 clients. */
export function capList(version302: boolean): string[] {
  return [...OFFERED].map(([name, value]) =>
    version302 && value !== "" ? `${name}=${value}` : name
  );
}
