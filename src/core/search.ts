/**
 * `search`: the kept messages holding every word of a query, newest first,
 * in the rooms the client may read: the one it names (unless locked and the
 * client is outside it), or every room it is in. The store does the
 * matching (SQLite: FTS5 with trigrams, so any script works); every
 * character of the query is text.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { SearchUnavailable } from "./history.ts";
import { normalizeRoom } from "./names.ts";
import { errorText, sendError } from "./replies.ts";
import type { Session } from "./session.ts";
import type { Command } from "./types.ts";

/** Results one search returns unless it asks for fewer. */
export const SEARCH_DEFAULT = 20;
/** The most results one search returns. */
export const SEARCH_MAX = 100;
/** The longest query, in characters. */
export const MAX_QUERY_CHARS = 200;

export function search(
  ctx: Context,
  session: Session,
  command: Extract<Command, { type: "search" }>,
): Promise<unknown> | void {
  const { ref } = command;
  const query = command.text.trim();
  if (query === "") return sendError(session, "bad_request", "search for what? (no words)", ref);
  if ([...query].length > MAX_QUERY_CHARS) {
    return sendError(
      session,
      "bad_request",
      `search too long (max ${MAX_QUERY_CHARS} characters)`,
      ref,
    );
  }
  const limit = Math.max(1, Math.min(Math.floor(command.limit ?? SEARCH_DEFAULT), SEARCH_MAX));
  let rooms: string[];
  const asked = command.room?.trim() ?? "";
  if (asked !== "") {
    const room = normalizeRoom(asked);
    if (room === null) {
      return sendError(session, "invalid_room", `invalid room name: ${asked}`, ref);
    }
    // A locked room's history is its members' (as with joining it).
    const rules = ctx.registry.room(room)?.rules;
    if (!session.rooms.has(room) && !session.admin && (rules?.lock ?? null) !== null) {
      return sendError(session, "not_in_room", `${room} is locked: join it to search it`, ref);
    }
    rooms = [room];
  } else {
    rooms = [...session.rooms.keys()];
    if (rooms.length === 0) {
      return sendError(session, "no_current_room", "you are in no room to search", ref);
    }
  }
  return ctx.store.search(rooms, query, limit).then(
    (results) => session.port.send({ type: "search", results, ref }),
    (err) =>
      err instanceof SearchUnavailable
        ? sendError(session, "search_unavailable", errorText(err), ref)
        : sendError(session, "store_failed", `search failed: ${errorText(err)}`, ref),
  );
}
