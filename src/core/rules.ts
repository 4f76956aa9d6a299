/**
 * A room's rules (operators, bans, topic, lock) kept in the store: saved on
 * every change and announced to the room, here and on the other processes,
 * which read them again on hearing it.
 *
 * @module
 */

import { audit, type AuditAction } from "./audit.ts";
import type { Context } from "./context.ts";
import { isGuestNick } from "./names.ts";
import { errorText, sendError, tellRoom } from "./replies.ts";
import type { Room } from "./room.ts";
import { RoomRules } from "./room_rules.ts";
import type { Session } from "./session.ts";
import type { ModerationAction, Ref } from "./types.ts";
import type { ServerEvent } from "./events.ts";

/** The rule changes that are audited (all of them, as of now). */
const AUDITED: ReadonlySet<string> = new Set<AuditAction>([
  "ban",
  "unban",
  "op",
  "deop",
  "voice",
  "devoice",
  "lock",
  "unlock",
]);

/** Stores a room's rules; resolves to why that failed, or `null`. */
export function saveRules(ctx: Context, room: Room): Promise<string | null> {
  return ctx.store.putRecord("room", room.name, room.rules.serialize()).then(
    () => null,
    (err) => `room settings not kept: ${errorText(err)}`,
  );
}

/** Saves a room's changed rules and tells its members (everywhere) what changed. */
export function changeRules(
  ctx: Context,
  session: Session,
  room: Room,
  action: ModerationAction,
  nick: string | undefined,
  ref?: Ref,
): Promise<unknown> {
  const event: ServerEvent = { type: "moderation", room: room.name, action, by: session.nick };
  if (nick !== undefined) event.nick = nick;
  if (AUDITED.has(action)) {
    audit(ctx, session, action as AuditAction, { room: room.name, target: nick });
  }
  return announceRules(ctx, session, room, event, ref);
}

/** Saves the rules, then tells the room; published once stored, so others read the new rules. */
export function announceRules(
  ctx: Context,
  session: Session,
  room: Room,
  event: ServerEvent,
  ref?: Ref,
): Promise<unknown> {
  return saveRules(ctx, room).then((failure) => {
    if (failure !== null) sendError(session, "store_failed", failure, ref);
    tellRoom(ctx, room, event, { actor: session, ref });
  });
}

/**
 * Another process changed a room's rules: read them again, keeping this
 * process's guest operators. Joins wait for the new rules (a ban or lock set
 * elsewhere must hold for a join that comes right after it).
 */
export function reloadRules(ctx: Context, name: string): Promise<void> {
  const reloading = ctx.store.getRecord("room", name).then((record) => {
    const room = ctx.registry.room(name);
    if (room === undefined) return;
    const rules = RoomRules.parse(record);
    for (const op of room.rules.ops) if (isGuestNick(op)) rules.ops.add(op);
    room.replaceRules(rules);
  }, ctx.onError).finally(() => {
    const room = ctx.registry.room(name);
    if (room?.reloading === reloading) room.reloading = null;
  });
  const room = ctx.registry.room(name);
  if (room !== undefined) room.reloading = reloading;
  return reloading;
}
