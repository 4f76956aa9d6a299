/**
 * How a client leaves a room (`leave`), all of them (`quit`, a closed
 * connection), or is removed (a kick): the client hears it first, then the
 * room (or the room counts it, when quiet); a room left with nobody is
 * forgotten here.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { isGuestNick, nickKey } from "./names.ts";
import { leftHaving } from "./reading.ts";
import { tellRoom } from "./replies.ts";
import type { Room } from "./room.ts";
import { stripControls } from "./sanitize.ts";
import type { Session } from "./session.ts";
import type { Command, Ref } from "./types.ts";
import type { LeaveReason } from "./events.ts";

/** `leave` (the table has checked the client is in the room). */
export function leave(
  ctx: Context,
  session: Session,
  command: Extract<Command, { type: "leave" }>,
  room: Room,
): void {
  const message = command.reason === undefined ? "" : stripControls(command.reason).trim();
  const reason: LeaveReason = message === "" ? { kind: "part" } : { kind: "part", message };
  part(ctx, session, room, reason, false, command.ref);
  ctx.kept.note(ctx, session, room.name, false);
  pickCurrent(session, command.ref);
}

/** `quit`: says bye, leaves every room with the reason, closes. */
export function quit(
  ctx: Context,
  session: Session,
  command: Extract<Command, { type: "quit" }>,
): void {
  session.port.send({ type: "bye", ref: command.ref });
  leaveAll(ctx, session, command.reason);
  session.port.close();
}

/**
 * The client is gone: it leaves every room with a quit notice (with
 * `message` as the reason, if given) and its nick is free.
 */
export function leaveAll(ctx: Context, session: Session, message?: string): void {
  if (!session.close()) return;
  const cleaned = message === undefined ? "" : stripControls(message).trim();
  const reason: LeaveReason = { kind: "quit", message: cleaned === "" ? undefined : cleaned };
  const guest = isGuestNick(session.nick);
  for (const room of [...session.rooms.values()]) {
    if (guest) room.rules.ops.delete(nickKey(session.nick)); // guests are operators while connected
    part(ctx, session, room, reason, true);
  }
  // Still registered while its rooms hear it leave: doors may look it up (its IRC user name).
  if (ctx.registry.remove(session)) ctx.link.releaseNick(session.nick);
  session.markLeft();
}

/** After leaving its current room, plain lines go to the most recently joined room left. */
export function pickCurrent(session: Session, ref?: Ref): void {
  if (session.current !== null) return;
  const rooms = [...session.rooms.values()];
  const current = rooms.length > 0 ? rooms[rooms.length - 1] : null;
  session.setCurrent(current);
  session.port.send({ type: "current", room: current?.name ?? null, ref });
}

/** Leaves one room: the client is told (unless quitting), then the room. */
function part(
  ctx: Context,
  session: Session,
  room: Room,
  reason: LeaveReason,
  quitting: boolean,
  ref?: Ref,
): void {
  if (!quitting) {
    session.port.send({ type: "left", room: room.name, nick: session.nick, reason, ref });
  }
  const quiet = ctx.quiet.isQuiet(room);
  if (!detach(ctx, session, room)) {
    // Another connection of the nick stays: the room has not lost a member.
  } else if (quiet) {
    ctx.quiet.left(room);
  } else {
    tellRoom(ctx, room, { type: "left", room: room.name, nick: session.nick, reason });
  }
  dropIfEmpty(ctx, room);
}

/** A member removed by an operator (who has told the room): each of its connections here. */
export function removeNick(ctx: Context, nick: string, room: Room): void {
  const [first] = ctx.registry.connectionsOf(nick);
  if (first !== undefined) ctx.kept.note(ctx, first, room.name, false);
  for (const target of ctx.registry.connectionsOf(nick)) {
    if (!room.has(target)) continue;
    detach(ctx, target, room);
    pickCurrent(target);
  }
  dropIfEmpty(ctx, room);
}

/** Takes a session out of a room, telling nobody; true when it was its nick's last one there. */
function detach(ctx: Context, session: Session, room: Room): boolean {
  if (session.options.readsAll) {
    leftHaving(ctx, session, room.name, ctx.sequencer.lastDelivered(room.name));
  }
  const last = room.delete(session);
  session.exit(room);
  if (last) ctx.link.left(room.name, session.nick);
  return last;
}

/** A room without members (and nobody about to enter) is forgotten here; its rules are stored. */
export function dropIfEmpty(ctx: Context, room: Room): void {
  if (!room.empty || !ctx.registry.removeRoom(room)) return;
  ctx.link.unwatch(room.name);
  ctx.sequencer.forget(room.name);
}
