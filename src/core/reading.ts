/**
 * Read markers: where a client has read up to in a room or a DM
 * conversation. A logged-in nick's markers are kept in the store (one record
 * per nick, so every connection and door of it, and every process, shares
 * them, across restarts); a guest's live with its connection. Markers only
 * move forward. They give the `unread` counts of `joined` and `rooms`.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { conversation, loggedIn } from "./direct.ts";
import { KeyedQueue } from "./keyed_queue.ts";
import { nickKey, normalizeRoom, validNick } from "./names.ts";
import { errorText, sendError } from "./replies.ts";
import type { ReadMarker, Session } from "./session.ts";
import type { Command, Ref } from "./types.ts";
import type { ServerEvent } from "./events.ts";

/** The most markers one nick keeps (rooms and DM partners together). */
export const MAX_MARKERS = 1000;

const NONE: ReadMarker = { id: 0, ts: 0 };

/** Read-modify-writes of one nick's markers, one after the other. */
export class ReadMarkers {
  readonly #queue = new KeyedQueue();

  /** The marker of `target` (a room, or a DM conversation key). */
  async get(ctx: Context, session: Session, target: string): Promise<ReadMarker> {
    if (!loggedIn(session)) return session.guestMarker(target) ?? NONE;
    return (await this.#load(ctx, session.nick)).get(target) ?? NONE;
  }

  /**
   * Moves the marker of `target` to `marker` if that is further; resolves
   * with the marker as it stands after, and whether it moved.
   */
  advance(
    ctx: Context,
    session: Session,
    target: string,
    marker: ReadMarker,
  ): Promise<{ marker: ReadMarker; moved: boolean }> {
    if (!loggedIn(session)) {
      const old = session.guestMarker(target) ?? NONE;
      if (!further(marker, old)) return Promise.resolve({ marker: old, moved: false });
      session.setGuestMarker(target, marker);
      return Promise.resolve({ marker, moved: true });
    }
    const key = nickKey(session.nick);
    const run = async () => {
      const markers = await this.#load(ctx, session.nick);
      const old = markers.get(target) ?? NONE;
      if (!further(marker, old)) return { marker: old, moved: false };
      if (!markers.has(target) && markers.size >= MAX_MARKERS) {
        throw new RangeError(`at most ${MAX_MARKERS} read markers per nick`);
      }
      markers.set(target, marker);
      const record: Record<string, [number, number]> = {};
      for (const [t, m] of markers) record[t] = [m.id, m.ts];
      await ctx.store.putRecord("read", key, JSON.stringify(record));
      return { marker, moved: true };
    };
    return this.#queue.run(key, run);
  }

  async #load(ctx: Context, nick: string): Promise<Map<string, ReadMarker>> {
    const markers = new Map<string, ReadMarker>();
    const record = await ctx.store.getRecord("read", nickKey(nick));
    if (record === null) return markers;
    try {
      for (
        const [target, [id, ts]] of Object.entries(
          JSON.parse(record) as Record<string, [number, number]>,
        )
      ) {
        markers.set(target, { id: Number(id), ts: Number(ts) });
      }
    } catch (err) {
      ctx.onError(new Error(`read markers of ${nick} unreadable`, { cause: err }));
    }
    return markers;
  }
}

/** Whether `a` is past `b`: a later message, or the same one at a later time. */
function further(a: ReadMarker, b: ReadMarker): boolean {
  return a.id > b.id || (a.id === b.id && a.ts > b.ts);
}

/** Where the client has read up to in `room`, and how many kept messages are above it. */
export async function unreadIn(
  ctx: Context,
  session: Session,
  room: string,
): Promise<{ marker: ReadMarker; unread: number }> {
  const marker = await ctx.markers.get(ctx, session, room);
  return { marker, unread: await ctx.store.countAfter(room, marker.id) };
}

/**
 * The client (whose door shows everything) leaves `room` having seen up to
 * `id`: that is read. Only a logged-in nick keeps it (a guest's go with it).
 */
export function leftHaving(ctx: Context, session: Session, room: string, id: number): void {
  if (id < 1 || !loggedIn(session)) return;
  ctx.markers.advance(ctx, session, room, { id, ts: ctx.now() }).catch(ctx.onError);
}

/** `read`: moves the marker (by id or time), or with neither says where it is. */
export function read(
  ctx: Context,
  session: Session,
  command: Extract<Command, { type: "read" }>,
): Promise<unknown> | void {
  const { ref } = command;
  const target = targetOf(session, command, ref);
  if (target === null) return;
  const { id, ts } = command;
  if (id !== undefined && (!Number.isSafeInteger(id) || id < 0)) {
    return sendError(session, "bad_request", `invalid message id: ${id}`, ref);
  }
  if (ts !== undefined && !Number.isFinite(ts)) {
    return sendError(session, "bad_request", "invalid time", ref);
  }
  const reply = (marker: ReadMarker, to: Session[]) => {
    const event: ServerEvent = { type: "read", id: marker.id, ...target.where };
    if (marker.ts > 0) event.ts = marker.ts;
    for (const s of to) s.port.send(s === session ? { ...event, ref } : event);
  };
  const work = async () => {
    if (id === undefined && ts === undefined) {
      return reply(await ctx.markers.get(ctx, session, target.key), [session]);
    }
    let marker: ReadMarker;
    if (id !== undefined) {
      if (id > await ctx.store.lastId(target.key)) {
        return sendError(session, "no_such_message", `no message ${id} yet`, ref);
      }
      marker = { id, ts: (await ctx.store.get(target.key, id))?.ts ?? ctx.now() };
    } else {
      marker = { id: await ctx.store.idAtTime(target.key, ts!), ts: ts! };
    }
    const { marker: now, moved } = await ctx.markers.advance(ctx, session, target.key, marker);
    // Behind the marker changes nothing: the client is told where it stands.
    reply(now, moved ? sameNick(ctx, session) : [session]);
  };
  return work().catch((err) =>
    sendError(
      session,
      err instanceof RangeError ? "bad_request" : "store_failed",
      `read marker not moved: ${errorText(err)}`,
      ref,
    )
  );
}

/** The connections that share the client's markers: every one of its logged-in nick here. */
function sameNick(ctx: Context, session: Session): Session[] {
  // A guest's marker is its connection's alone.
  if (!loggedIn(session)) return [session];
  return [session, ...ctx.registry.connectionsOf(session.nick).filter((s) => s !== session)];
}

/** The marker's key (a room, or a DM conversation) and how the reply names it. */
function targetOf(
  session: Session,
  command: Extract<Command, { type: "read" }>,
  ref?: Ref,
): { key: string; where: { room: string } | { with: string } } | null {
  if (command.with !== undefined) {
    const nick = validNick(command.with.trim());
    if (nick === null) {
      sendError(session, "invalid_nick", `invalid nick: ${command.with}`, ref);
      return null;
    }
    return { key: conversation(session.nick, nick), where: { with: nick } };
  }
  const asked = command.room?.trim() ?? "";
  const room = asked === "" ? session.current?.name ?? null : normalizeRoom(asked);
  if (room === null) {
    if (asked === "") sendError(session, "no_current_room", "you are not in a room", ref);
    else sendError(session, "invalid_room", `invalid room name: ${asked}`, ref);
    return null;
  }
  return { key: room, where: { room } };
}
