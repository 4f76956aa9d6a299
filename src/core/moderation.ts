/**
 * Room operators at work: `kick`, `ban`/`unban`, `op`/`deop`, `topic`,
 * `lock`/`unlock`. The command table has checked that the client operates
 * the room (or is a server operator); the rules are saved, then announced.
 *
 * @module
 */

import { audit } from "./audit.ts";
import type { Context } from "./context.ts";
import { removeNick } from "./leaving.ts";
import { LOBBY, nickKey, validNick } from "./names.ts";
import { hashPassword } from "./passwords.ts";
import { errorText, sendError, tellRoom } from "./replies.ts";
import type { Room } from "./room.ts";
import { announceRules, changeRules, saveRules } from "./rules.ts";
import { stripControls } from "./sanitize.ts";
import type { Session } from "./session.ts";
import type { Command, FlagChange } from "./types.ts";
import type { LeaveReason, ServerEvent } from "./events.ts";
import { ROOM_FLAGS, type RoomFlags } from "./room_rules.ts";
import { whenReady } from "./cluster.ts";

/** Longest topic, in characters. */
const MAX_TOPIC = 300;

type Of<T extends Command["type"]> = Extract<Command, { type: T }>;

/** A session of `room` with this nick on this process, if any. */
function memberOf(ctx: Context, room: Room, nick: string): Session | undefined {
  return ctx.registry.connectionsOf(nick).find((s) => room.has(s));
}

/** Whether `nick` is in `room` anywhere (here, or on another process). */
function inRoom(ctx: Context, room: Room, nick: string): Promise<boolean> {
  if (memberOf(ctx, room, nick) !== undefined) return Promise.resolve(true);
  return Promise.resolve(ctx.link.who(room.name)).then((members) =>
    members.some((m) => nickKey(m) === nickKey(nick))
  );
}

/** `kick` removes a member; `ban` also keeps the nick (and its address) out. */
export function kick(
  ctx: Context,
  session: Session,
  command: Of<"kick"> | Of<"ban">,
  room: Room,
): Promise<unknown> | void {
  const { ref } = command;
  const kind = command.type;
  const nick = command.nick.trim();
  const target = memberOf(ctx, room, nick);
  if (target?.admin) {
    return sendError(session, "not_operator", `${target.nick} is a server operator`, ref);
  }
  const message = command.type === "kick" ? command.reason : undefined;
  const cleaned = message === undefined ? "" : stripControls(message).trim();
  return inRoom(ctx, room, nick).then(
    (present) => {
      if (kind === "kick" && !present) {
        return sendError(session, "no_such_nick", `${nick} is not in ${room.name}`, ref);
      }
      if (kind === "ban") {
        if (validNick(nick) === null) {
          return sendError(session, "invalid_nick", `invalid nick: ${nick}`, ref);
        }
        room.rules.ban(nick, target?.address || undefined);
        room.rules.ops.delete(nickKey(nick));
        if (!present) return changeRules(ctx, session, room, "ban", nick, ref);
      }
      const reason: LeaveReason = {
        kind,
        by: session.nick,
        message: cleaned === "" ? undefined : cleaned,
      };
      audit(ctx, session, kind, { room: room.name, target: target?.nick ?? nick });
      const save = kind === "ban" ? saveRules(ctx, room) : Promise.resolve(null);
      return save.then((failure) => {
        if (failure !== null) sendError(session, "store_failed", failure, ref);
        // Everyone sees it, the member removed included, even in a quiet room.
        const event: ServerEvent = {
          type: "left",
          room: room.name,
          nick: target?.nick ?? nick,
          reason,
        };
        tellRoom(ctx, room, event, { actor: session, ref });
        // Every connection of the nick goes.
        if (target !== undefined) removeNick(ctx, target.nick, room);
      });
    },
    (err) => sendError(session, "cluster_failed", `members unavailable: ${errorText(err)}`, ref),
  );
}

export function unban(ctx: Context, session: Session, command: Of<"unban">, room: Room) {
  const nick = command.nick.trim();
  if (!room.rules.unban(nick)) {
    return sendError(
      session,
      "bad_request",
      `${nick} is not banned from ${room.name}`,
      command.ref,
    );
  }
  return changeRules(ctx, session, room, "unban", nick, command.ref);
}

/** `op` and `deop`: share or take back operator rights. */
export function setOp(
  ctx: Context,
  session: Session,
  command: Of<"op"> | Of<"deop">,
  room: Room,
): Promise<unknown> | void {
  const { ref } = command;
  const nick = command.nick.trim();
  const op = command.type === "op";
  if (room.rules.isOp(nick) === op) {
    const already = op ? "already an operator" : "not an operator";
    return sendError(session, "bad_request", `${nick} is ${already} of ${room.name}`, ref);
  }
  if (!op) {
    room.rules.ops.delete(nickKey(nick));
    return changeRules(ctx, session, room, "deop", nick, ref);
  }
  return inRoom(ctx, room, nick).then(
    (present) => {
      if (!present) {
        return sendError(session, "no_such_nick", `${nick} is not in ${room.name}`, ref);
      }
      const name = memberOf(ctx, room, nick)?.nick ?? nick; // as the member spells it
      room.rules.ops.add(nickKey(name));
      return changeRules(ctx, session, room, "op", name, ref);
    },
    (err) => sendError(session, "cluster_failed", `members unavailable: ${errorText(err)}`, ref),
  );
}

/** `topic`: shows it (members, or server operators), or sets it (operators: the table checks). */
export function topic(
  ctx: Context,
  session: Session,
  command: Of<"topic">,
  room: Room,
): Promise<unknown> | void {
  const { ref } = command;
  if (command.text === undefined) {
    const topic = room.rules.topic;
    session.port.send({
      type: "topic",
      room: room.name,
      topic: topic?.text ?? null,
      ...(topic === null ? {} : { by: topic.by, at: topic.ts }),
      ref,
    });
    return;
  }
  // With -t any member sets it (the table let members in); else only operators.
  if (!room.rules.flags.topicOpen && !session.admin && !room.rules.isOp(session.nick)) {
    return sendError(session, "not_operator", `you are not an operator of ${room.name}`, ref);
  }
  const cleaned = stripControls(command.text).trim();
  if ([...cleaned].length > MAX_TOPIC) {
    return sendError(session, "bad_request", `topic too long (max ${MAX_TOPIC} characters)`, ref);
  }
  room.rules.topic = cleaned === "" ? null : { text: cleaned, by: session.nick, ts: ctx.now() };
  const event: ServerEvent = {
    type: "topic",
    room: room.name,
    topic: room.rules.topic?.text ?? null,
    by: session.nick,
    changed: true,
  };
  audit(ctx, session, "topic", { room: room.name });
  return announceRules(ctx, session, room, event, ref);
}

export function lock(ctx: Context, session: Session, command: Of<"lock">, room: Room) {
  if (room.name === LOBBY) {
    return sendError(session, "bad_request", "the lobby cannot be locked", command.ref);
  }
  return hashPassword(command.password).then((hash) => {
    room.rules.lock = hash;
    return changeRules(ctx, session, room, "lock", undefined, command.ref);
  });
}

export function unlock(ctx: Context, session: Session, command: Of<"unlock">, room: Room) {
  if (room.rules.lock === null) {
    return sendError(session, "bad_request", `${room.name} is not locked`, command.ref);
  }
  room.rules.lock = null;
  return changeRules(ctx, session, room, "unlock", undefined, command.ref);
}

/** `bans`: the nicks banned from a room (anyone may look). */
export function bans(_ctx: Context, session: Session, command: Of<"bans">, room: Room): void {
  const nicks = room.rules.bans.map((b) => b.nick);
  session.port.send({ type: "bans", room: room.name, bans: nicks, ref: command.ref });
}

/** `modes`: whether a room is locked (anyone may look). */
export function modes(_ctx: Context, session: Session, command: Of<"modes">, room: Room): void {
  session.port.send({
    type: "modes",
    room: room.name,
    locked: room.rules.lock !== null,
    created: room.createdAt,
    flags: onFlags(room.rules.flags),
    ref: command.ref,
  });
}

/** The switches that are on, as a change would name them. */
function onFlags(flags: RoomFlags): FlagChange {
  return Object.fromEntries(Object.entries(flags).filter(([, on]) => on));
}

/** `voice` and `devoice`: a member's voice (shown, and kept with the room). */
export function setVoice(
  ctx: Context,
  session: Session,
  command: Of<"voice"> | Of<"devoice">,
  room: Room,
): Promise<unknown> | void {
  const { ref } = command;
  const nick = command.nick.trim();
  const on = command.type === "voice";
  if (room.rules.hasVoice(nick) === on) {
    const already = on ? "already has a voice" : "has no voice";
    return sendError(session, "bad_request", `${nick} ${already} in ${room.name}`, ref);
  }
  if (!on) {
    room.rules.removeVoice(nickKey(nick));
    return changeRules(ctx, session, room, "devoice", nick, ref);
  }
  return inRoom(ctx, room, nick).then(
    (present) => {
      if (!present) {
        return sendError(session, "no_such_nick", `${nick} is not in ${room.name}`, ref);
      }
      const name = memberOf(ctx, room, nick)?.nick ?? nick;
      room.rules.addVoice(nickKey(name));
      return changeRules(ctx, session, room, "voice", name, ref);
    },
    (err) => sendError(session, "cluster_failed", `members unavailable: ${errorText(err)}`, ref),
  );
}

/** `flags`: secret, invite-only, open topic, outsiders, moderated; only what changes is announced. */
export function setFlags(
  ctx: Context,
  session: Session,
  command: Of<"flags">,
  room: Room,
): Promise<unknown> | void {
  const changed: FlagChange = {};
  for (const flag of ROOM_FLAGS) {
    const value = command[flag];
    if (value === undefined || room.rules.flags[flag] === value) continue;
    room.rules.setFlag(flag, value);
    changed[flag] = value;
  }
  if (Object.keys(changed).length === 0) return;
  const event: ServerEvent = {
    type: "moderation",
    room: room.name,
    action: "flags",
    by: session.nick,
    flags: changed,
  };
  audit(ctx, session, "flags", { room: room.name });
  return announceRules(ctx, session, room, event, command.ref);
}

/**
 * `invite`: lets a nick into a room once (an invite-only room's operators
 * invite; in other rooms any member may, as a pointer). The nick hears it.
 */
export function invite(
  ctx: Context,
  session: Session,
  command: Of<"invite">,
  room: Room,
): Promise<unknown> | void {
  const { ref } = command;
  if (room.rules.flags.inviteOnly && !session.admin && !room.rules.isOp(session.nick)) {
    return sendError(session, "not_operator", `you are not an operator of ${room.name}`, ref);
  }
  const asked = command.nick.trim();
  if (memberOf(ctx, room, asked) !== undefined) {
    return sendError(session, "bad_request", `${asked} is already in ${room.name}`, ref);
  }
  const deliver = (nick: string) => {
    room.invite(nickKey(nick));
    const event: ServerEvent = { type: "invited", room: room.name, nick, by: session.nick };
    session.port.send({ ...event, ref });
    return event;
  };
  const target = ctx.registry.byNick(asked);
  if (target !== undefined) return void target.port.send(deliver(target.nick));
  const found = whenReady(ctx.link.findNick(asked), (nick) => {
    if (nick === null) return sendError(session, "no_such_nick", `no such nick: ${asked}`, ref);
    ctx.link.sendDirect(nick, deliver(nick));
  }, (err) => sendError(session, "cluster_failed", `invite not sent: ${errorText(err)}`, ref));
  return found instanceof Promise ? found : undefined;
}
