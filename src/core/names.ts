/**
 * Nick and room name rules, in one place for every transport.
 *
 * @module
 */

const NICK = /^[A-Za-z0-9_-]{1,32}$/;
const ROOM = /^[a-z0-9_-]{1,64}$/;

/** The room every client starts in. */
export const LOBBY = "lobby";

/** Returns the nick if it is 1 to 32 of `A-Z a-z 0-9 _ -`, else `null`. */
export function validNick(name: string): string | null {
  return NICK.test(name) ? name : null;
}

/** Nicks are unique ignoring case; this is the key they are unique under. */
export function nickKey(nick: string): string {
  return nick.toLowerCase();
}

/**
 * Normalizes a room name (a leading `#` is ignored, case folds to lower) and
 * returns it if it is then 1 to 64 of `a-z 0-9 _ -`, else `null`.
 */
export function normalizeRoom(name: string): string | null {
  const folded = (name.startsWith("#") ? name.slice(1) : name).toLowerCase();
  return ROOM.test(folded) ? folded : null;
}

/** Nicks the server hands out (`guest-7`): never registered, never kept as operators. */
export function isGuestNick(nick: string): boolean {
  return /^guest-[0-9]+$/i.test(nick);
}
