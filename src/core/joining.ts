/**
 * How a client joins a room: the room's rules are read (a room new to this
 * process), bans and the lock are checked, the member is admitted and told,
 * the room hears it (or counts it, when quiet), and the recent history is
 * replayed before any live message.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { dropIfEmpty } from "./leaving.ts";
import { isGuestNick, LOBBY, nickKey, normalizeRoom } from "./names.ts";
import { checkPassword } from "./password_checks.ts";
import { errorText, sendError, tellRoom } from "./replies.ts";
import { Room } from "./room.ts";
import { RoomRules } from "./room_rules.ts";
import { saveRules } from "./rules.ts";
import { unreadIn } from "./reading.ts";
import type { ReadMarker, Session } from "./session.ts";
import type { ChatMessage, Command, Ref } from "./types.ts";
import type { ServerEvent } from "./events.ts";

/** `join`: validates the name, then joins. */
export function joinCommand(
  ctx: Context,
  session: Session,
  command: Extract<Command, { type: "join" }>,
): Promise<unknown> | void {
  const name = normalizeRoom(command.room.trim());
  if (name === null) {
    return sendError(
      session,
      "invalid_room",
      `invalid room name: ${command.room} (1 to 64 of a-z 0-9 _ -)`,
      command.ref,
    );
  }
  return join(ctx, session, name, command.password, command.ref);
}

/** Joins room `name` (valid already), or makes it current if the client is in it. */
export function join(
  ctx: Context,
  session: Session,
  name: string,
  password?: string,
  ref?: Ref,
): Promise<unknown> | void {
  const already = session.rooms.get(name);
  if (already !== undefined) {
    session.setCurrent(already);
    session.port.send({ type: "current", room: name, ref });
    return;
  }
  const room = ctx.registry.room(name);
  if (room?.reloading) {
    // A ban or lock set elsewhere must hold for a join that comes right after it.
    return room.reloading.then(() => join(ctx, session, name, password, ref));
  }
  if (room !== undefined) return enter(ctx, session, room, password, ref);
  // A room new to this process: its rules come from the store first.
  return ctx.store.getRecord("room", name).then((record) => {
    if (session.closed) return;
    let room = ctx.registry.room(name);
    if (room === undefined) {
      room = new Room(name, RoomRules.parse(record), ctx.now());
      ctx.registry.addRoom(room);
      ctx.link.watch(name);
      ctx.sequencer.start(name);
    }
    return enter(ctx, session, room, password, ref);
  }, (err) => sendError(session, "store_failed", `room unavailable: ${errorText(err)}`, ref));
}

/** Lets the client in, unless the room's bans or lock keep it out. */
function enter(
  ctx: Context,
  session: Session,
  room: Room,
  password?: string,
  ref?: Ref,
): Promise<unknown> | void {
  const rules = room.rules;
  if (!session.admin) {
    const byAddress = !ctx.exempt(session.address);
    if (rules.isBanned(session.nick, byAddress ? session.address : "")) {
      sendError(session, "banned", `you are banned from ${room.name}`, ref);
      return dropIfEmpty(ctx, room);
    }
    if (
      rules.flags.inviteOnly && !rules.isOp(session.nick) &&
      !room.takeInvitation(nickKey(session.nick))
    ) {
      sendError(session, "invite_only", `${room.name} is invite-only`, ref);
      return dropIfEmpty(ctx, room);
    }
    if (rules.lock !== null && !rules.isOp(session.nick)) {
      if (password === undefined) {
        sendError(
          session,
          "room_locked",
          `${room.name} is locked (/join ${room.name} <password>)`,
          ref,
        );
        return dropIfEmpty(ctx, room);
      }
      room.entering();
      return checkPassword(ctx, session, password, rules.lock, ref, "room_password_failed", {
        room: room.name,
      }).then((ok) => {
        room.entered();
        if (ok && !session.closed && ctx.registry.room(room.name) === room) {
          return admit(ctx, session, room, ref);
        }
        dropIfEmpty(ctx, room);
      });
    }
  }
  return admit(ctx, session, room, ref);
}

/**
 * Makes the client a member once its read marker and unread count are
 * known (the room stays meanwhile): it hears it first, then the room, then
 * the replay.
 */
function admit(ctx: Context, session: Session, room: Room, ref?: Ref): Promise<unknown> {
  room.entering();
  return unreadIn(ctx, session, room.name).catch((err) => {
    ctx.onError(err);
    return null;
  }).then((unread) => {
    room.entered();
    if (session.closed || ctx.registry.room(room.name) !== room || session.rooms.has(room.name)) {
      return dropIfEmpty(ctx, room);
    }
    return enterNow(ctx, session, room, unread, ref);
  });
}

function enterNow(
  ctx: Context,
  session: Session,
  room: Room,
  unread: { marker: ReadMarker; unread: number } | null,
  ref?: Ref,
): Promise<unknown> | void {
  const name = room.name;
  const first = room.size === 0;
  // Another connection of the nick may be in the room: then the room sees nothing.
  const newMember = room.add(session, ctx.registry.connectionsOf(session.nick));
  session.enter(room);
  ctx.kept.note(ctx, session, name, true);
  if (newMember) ctx.link.joined(name, session.nick);
  const joined: Extract<ServerEvent, { type: "joined" }> = {
    type: "joined",
    room: name,
    nick: session.nick,
    ref,
  };
  if (unread !== null) {
    joined.read = unread.marker.id;
    if (unread.marker.ts > 0) joined.readAt = unread.marker.ts;
    joined.unread = unread.unread;
  }
  session.port.send(joined);
  const topic = room.rules.topic;
  if (topic !== null) {
    session.port.send({ type: "topic", room: name, topic: topic.text, by: topic.by, at: topic.ts });
  }
  if (first && room.rules.ops.size === 0 && name !== LOBBY) {
    // The first member of a room nobody owns is its operator.
    room.rules.ops.add(nickKey(session.nick));
    if (!isGuestNick(session.nick)) void saveRules(ctx, room);
    session.port.send({ type: "notice", text: `you are an operator of ${name}`, op: name });
  }
  if (!newMember) {
    // Nothing to tell.
  } else if (ctx.quiet.isQuiet(room)) {
    ctx.quiet.joined(room);
  } else {
    tellRoom(ctx, room, { type: "joined", room: name, nick: session.nick }, { except: session });
  }
  return replay(ctx, session, name);
}

/** Sends a joining member the room's recent messages, then what arrived meanwhile. */
function replay(ctx: Context, session: Session, room: string): Promise<unknown> | void {
  const limit = ctx.options.historyOnJoin;
  if (limit <= 0) return;
  const held = session.holdLive(room);
  const finish = (messages: ChatMessage[]) => {
    if (!session.endHold(room, held)) return; // left (or rejoined) meanwhile
    // Messages said after the join arrive live, so the replay stops before
    // the first of them: no gap and no duplicate, whenever the store read.
    const firstLive = held.length > 0 ? held[0].id : Infinity;
    const before = messages.filter((m) => m.id < firstLive);
    if (before.length > 0) session.port.send({ type: "history", room, messages: before });
    for (const message of held) session.port.send({ type: "message", message });
  };
  return ctx.store.recent(room, limit).then(finish, (err) => {
    finish([]);
    sendError(session, "store_failed", `history unavailable: ${errorText(err)}`);
  });
}
