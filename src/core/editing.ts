/**
 * Changes to kept room messages: `edit` (the author only), `delete` (the
 * author, or an operator of the room) and `react`/`unreact` (once per nick
 * and emoji). The store changes first; then the room hears it, here and on
 * the other processes, in one event every door renders its own way.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { conversation } from "./direct.ts";
import { nickKey, validNick } from "./names.ts";
import { errorText, roomFor, sendError, tellRoom } from "./replies.ts";
import type { Room } from "./room.ts";
import { stripControls } from "./sanitize.ts";
import type { Session } from "./session.ts";
import type { ChatMessage, Command, Ref } from "./types.ts";
import type { ServerEvent } from "./events.ts";

type Of<T extends Command["type"]> = Extract<Command, { type: T }>;

/** The longest reaction, in UTF-8 bytes. */
export const MAX_EMOJI_BYTES = 64;

const encoder = new TextEncoder();

/** `edit`: the author replaces its message's text. */
export function edit(ctx: Context, session: Session, command: Of<"edit">): Promise<unknown> | void {
  const { ref } = command;
  const room = roomFor(ctx, session, command.room, "member", ref);
  if (room === null) return;
  const text = stripControls(command.text);
  if (text.trim() === "") return sendError(session, "empty_message", "empty message", ref);
  const max = ctx.options.maxLineBytes ?? 4096;
  if (encoder.encode(text).length > max) {
    return sendError(session, "bad_request", `text too long (max ${max} bytes)`, ref);
  }
  return withMessage(ctx, session, room, command.id, ref, async (message) => {
    if (!authored(session, message)) {
      return sendError(session, "not_author", `message ${message.id} is not yours to edit`, ref);
    }
    const ts = ctx.now();
    const edited = await ctx.store.edit(room.name, message.id, text, ts);
    if (edited === null) return gone(session, room, message.id, ref);
    const event: ServerEvent = {
      type: "edit",
      room: room.name,
      id: edited.id,
      nick: edited.nick,
      text: edited.text,
      ts,
    };
    tellRoom(ctx, room, event, { actor: session, ref });
  });
}

/** `delete`: the author, a room operator or a server operator takes a message back. */
export function remove(
  ctx: Context,
  session: Session,
  command: Of<"delete">,
): Promise<unknown> | void {
  const { ref } = command;
  if (command.with !== undefined) return removeDirect(ctx, session, command);
  const room = roomFor(ctx, session, command.room, "reader", ref);
  if (room === null) return;
  const reason = command.reason === undefined ? "" : stripControls(command.reason).trim();
  return withMessage(ctx, session, room, command.id, ref, async (message) => {
    const moderator = session.admin || room.rules.isOp(session.nick);
    if (!moderator && !authored(session, message)) {
      return sendError(
        session,
        "not_author",
        `message ${message.id} is not yours to delete (operators may delete any)`,
        ref,
      );
    }
    if (!await ctx.store.remove(room.name, message.id)) return gone(session, room, message.id, ref);
    const event: ServerEvent = {
      type: "delete",
      room: room.name,
      id: message.id,
      nick: session.nick,
    };
    if (reason !== "") event.reason = reason;
    tellRoom(ctx, room, event, { actor: session, ref });
  });
}

/**
 * `delete` with `with`: the author takes back a kept DM. Both ends hear it,
 * on every connection of each (the other end wherever it is in the cluster,
 * or nowhere if it is away: its history no longer has the message).
 */
function removeDirect(
  ctx: Context,
  session: Session,
  command: Of<"delete">,
): Promise<unknown> | void {
  const { ref, id } = command;
  const peer = validNick(command.with!.trim());
  if (peer === null) {
    return sendError(session, "invalid_nick", `invalid nick: ${command.with}`, ref);
  }
  if (!Number.isSafeInteger(id) || id < 1) {
    return sendError(session, "bad_request", `invalid message id: ${id}`, ref);
  }
  const key = conversation(session.nick, peer);
  const reason = command.reason === undefined ? "" : stripControls(command.reason).trim();
  const missing = () =>
    sendError(session, "no_such_message", `no message ${id} with ${peer} (kept ones only)`, ref);
  const work = async () => {
    const message = await ctx.store.get(key, id);
    if (message === null) return missing();
    if (!authored(session, message)) {
      return sendError(session, "not_author", `message ${id} is not yours to delete`, ref);
    }
    if (!await ctx.store.remove(key, id)) return missing();
    const here = ctx.registry.byNick(peer);
    const event: ServerEvent = { type: "delete", to: here?.nick ?? peer, id, nick: session.nick };
    if (reason !== "") event.reason = reason;
    for (const end of ctx.registry.connectionsOf(session.nick)) {
      end.port.send(end === session ? { ...event, ref } : event);
    }
    if (nickKey(peer) === nickKey(session.nick)) return;
    if (here !== undefined) {
      for (const end of ctx.registry.connectionsOf(here.nick)) end.port.send(event);
      return;
    }
    const nick = await ctx.link.findNick(peer);
    if (nick !== null) await ctx.link.sendDirect(nick, { ...event, to: nick });
  };
  return work().catch((err) =>
    sendError(session, "store_failed", `not deleted: ${errorText(err)}`, ref)
  );
}

/** `react` and `unreact`: one nick's emoji on a message, added or taken back. */
export function react(
  ctx: Context,
  session: Session,
  command: Of<"react" | "unreact">,
): Promise<unknown> | void {
  const { ref } = command;
  const room = roomFor(ctx, session, command.room, "member", ref);
  if (room === null) return;
  const emoji = command.emoji.trim();
  if (emoji === "" || /[\s\p{Cc}]/u.test(emoji)) {
    return sendError(
      session,
      "bad_request",
      "a reaction is one emoji or word, without spaces",
      ref,
    );
  }
  if (encoder.encode(emoji).length > MAX_EMOJI_BYTES) {
    return sendError(
      session,
      "bad_request",
      `reaction too long (max ${MAX_EMOJI_BYTES} bytes)`,
      ref,
    );
  }
  const on = command.type === "react";
  return withMessage(ctx, session, room, command.id, ref, async (message) => {
    const result = await ctx.store.react(room.name, message.id, emoji, session.nick, on);
    if (result === null) return gone(session, room, message.id, ref);
    if (result === "unchanged") {
      return sendError(
        session,
        "bad_request",
        on ? `you already reacted with ${emoji}` : `you have not reacted with ${emoji}`,
        ref,
      );
    }
    const event: ServerEvent = {
      type: "react",
      room: room.name,
      id: message.id,
      nick: session.nick,
      emoji,
      on,
    };
    tellRoom(ctx, room, event, { actor: session, ref });
    ctx.digests.touch(room.name, message.id);
  }, true);
}

/**
 * Whether `session` wrote `message`: a registered nick wrote everything said
 * under its name; a guest only what it said since it took the nick (a guest
 * number comes back after a restart).
 */
export function authored(session: Session, message: ChatMessage): boolean {
  return nickKey(message.nick) === nickKey(session.nick) &&
    (session.registered || message.ts >= session.nickSince);
}

/** Reads message `id` of `room`, then runs `then`; an unknown id or a failed store is an error. */
function withMessage(
  ctx: Context,
  session: Session,
  room: Room,
  id: number,
  ref: Ref | undefined,
  then: (message: ChatMessage) => Promise<void> | void,
  anyone = false,
): Promise<unknown> | void {
  if (!Number.isSafeInteger(id) || id < 0) {
    return sendError(session, "bad_request", `invalid message id: ${id}`, ref);
  }
  const find = id === 0 ? latest(ctx, session, room, anyone) : ctx.store.get(room.name, id);
  return find.then((message) => {
    if (message !== null) return then(message);
    if (id !== 0) return gone(session, room, id, ref);
    const whose = anyone ? "no message" : "no message of yours";
    sendError(
      session,
      "no_such_message",
      `${whose} in ${room.name} among the last ${LOOK_BACK}`,
      ref,
    );
  }).catch((err) => sendError(session, "store_failed", `not changed: ${errorText(err)}`, ref));
}

/** How far back "your last message" (id 0) is looked for. */
const LOOK_BACK = 200;

/** The room's last kept message (`anyone`), or the client's own last one. */
async function latest(
  ctx: Context,
  session: Session,
  room: Room,
  anyone: boolean,
): Promise<ChatMessage | null> {
  const recent = await ctx.store.recent(room.name, anyone ? 1 : LOOK_BACK);
  return recent.findLast((m) => anyone || authored(session, m)) ?? null;
}

function gone(session: Session, room: Room, id: number, ref?: Ref): void {
  sendError(session, "no_such_message", `no message ${id} in ${room.name} (kept ones only)`, ref);
}
