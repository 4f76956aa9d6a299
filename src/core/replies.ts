/**
 * What handlers share to answer: errors to the client, the room a command is
 * about, and telling a room's members (here, then on the other processes).
 *
 * @module
 */

import { Broadcast } from "./broadcast.ts";
import type { Context } from "./context.ts";
import { normalizeRoom } from "./names.ts";
import type { Room } from "./room.ts";
import type { Session } from "./session.ts";
import type { Ref } from "./types.ts";
import type { ErrorCode, ServerEvent } from "./events.ts";

/** Tells the client its request failed (unless it is gone). */
export function sendError(session: Session, code: ErrorCode, message: string, ref?: Ref): void {
  if (!session.closed) session.port.send({ type: "error", code, message, ref });
}

/** An error's message, for the client. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** How a room a command is about must relate to the client. */
export type RoomNeed =
  /** The room must exist here. */
  | "exists"
  /** The client must be in it. */
  | "member"
  /** The client must be in it, unless it is a server operator. */
  | "reader"
  /** The client must be one of its operators (or a server operator, member or not). */
  | "operator";

/**
 * The room a command is about: the named one, or else the current room; the
 * client is told why not and `null` returned when it does not meet `need`.
 */
export function roomFor(
  ctx: Context,
  session: Session,
  name: string | undefined,
  need: RoomNeed,
  ref?: Ref,
): Room | null {
  const member = need === "member" || (need !== "exists" && !session.admin);
  const room = resolve(ctx, session, name, member, ref);
  if (room === null || need !== "operator") return room;
  if (!session.admin && !room.rules.isOp(session.nick)) {
    sendError(session, "not_operator", `you are not an operator of ${room.name}`, ref);
    return null;
  }
  return room;
}

function resolve(
  ctx: Context,
  session: Session,
  name: string | undefined,
  member: boolean,
  ref: Ref | undefined,
): Room | null {
  if (name === undefined || name.trim() === "") {
    if (session.current === null) {
      sendError(session, "no_current_room", "you are not in a room (try /join <room>)", ref);
    }
    return session.current;
  }
  const normalized = normalizeRoom(name.trim());
  const room = normalized === null ? undefined : ctx.registry.room(normalized);
  if (member) {
    if (room === undefined || !session.rooms.has(room.name)) {
      sendError(session, "not_in_room", `you are not in room ${name.trim()}`, ref);
      return null;
    }
    return room;
  }
  if (room === undefined) {
    sendError(session, "no_such_room", `no such room: ${name.trim()}`, ref);
    return null;
  }
  return room;
}

/** Who hears a room event, and whether the other processes do. */
export interface Audience {
  /** A member left out (the one who joined hears its own reply instead). */
  except?: Session;
  /** The client whose request caused it: its copy carries `ref`, member or not. */
  actor?: Session;
  ref?: Ref;
  /** Also sent to the room's members on the other processes (default true). */
  publish?: boolean;
}

/**
 * Tells a room's members here (one encoding per door for all of them), then
 * the other processes. The actor, if any, gets its own copy with its `ref`,
 * even when it is not a member (a server operator moderating from outside).
 */
export function tellRoom(ctx: Context, room: Room, event: ServerEvent, to: Audience = {}): void {
  const shared = new Broadcast(event);
  const actor = to.actor;
  for (const member of room.members) {
    if (member === to.except) continue;
    member.port.send(member === actor ? { ...event, ref: to.ref } as ServerEvent : shared);
  }
  if (actor !== undefined && !room.has(actor)) {
    actor.port.send({ ...event, ref: to.ref } as ServerEvent);
  }
  if (to.publish !== false) ctx.link.publish(room.name, event);
}
