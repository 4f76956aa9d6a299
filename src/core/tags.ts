/**
 * Client-only tags (IRCv3 `+name=value`): carried with messages and DMs,
 * or alone (`tagmsg`), to the doors that show them; never stored. Only
 * `+` names are relayed, and at most {@link MAX_TAG_BYTES} of them.
 *
 * @module
 */

import { Broadcast } from "./broadcast.ts";
import { whenReady } from "./cluster.ts";
import type { Context } from "./context.ts";
import { errorText, roomFor, sendError } from "./replies.ts";
import type { Session } from "./session.ts";
import type { ClientTags, Command, Ref } from "./types.ts";
import type { ServerEvent } from "./events.ts";

/** The most client tags a message carries, in bytes as IRC writes them (IRCv3's limit). */
export const MAX_TAG_BYTES = 4094;

const NAME = /^\+[A-Za-z0-9\-/.]{1,64}$/;

/**
 * The client-only tags of `tags` (others are the server's to set), or
 * `null` when they are too long together; `undefined` when there are none.
 */
export function clientTags(tags: ClientTags | undefined): ClientTags | undefined | null {
  if (tags === undefined) return undefined;
  let bytes = 0;
  let kept: ClientTags | undefined;
  for (const [name, value] of Object.entries(tags)) {
    if (!NAME.test(name) || typeof value !== "string") continue;
    bytes += name.length + value.length + 2;
    (kept ??= {})[name] = value;
  }
  return bytes > MAX_TAG_BYTES ? null : kept;
}

/** `tagmsg`: tags alone, to a room's members (the sender included) or to a nick. */
export function tagmsg(
  ctx: Context,
  session: Session,
  command: Extract<Command, { type: "tagmsg" }>,
): Promise<unknown> | void {
  const { ref } = command;
  const tags = clientTags(command.tags);
  if (tags === null) return sendError(session, "bad_request", "tags too long", ref);
  if (tags === undefined) return sendError(session, "bad_request", "no client tags to send", ref);
  const event: ServerEvent = {
    type: "tagmsg",
    from: session.nick,
    tags,
    ts: ctx.now(),
  };
  if (command.to === undefined) {
    const room = roomFor(ctx, session, command.room, "member", ref);
    if (room === null) return;
    event.room = room.name;
    const shared = new Broadcast(event);
    for (const member of room.members) {
      member.port.send(member === session ? { ...event, ref } : shared);
    }
    ctx.link.publish(room.name, event);
    return;
  }
  return sendToNick(ctx, session, command.to, event, ref);
}

/**
 * Sends a live event (tags alone, typing) to a nick, here or on another
 * process, setting its `to`; the sender gets its copy (with `ref`) once it
 * went, or an error.
 */
export function sendToNick(
  ctx: Context,
  session: Session,
  to: string,
  event: Extract<ServerEvent, { to?: string }>,
  ref?: Ref,
  echo = true,
): Promise<unknown> | void {
  const target = ctx.registry.byNick(to.trim());
  if (target !== undefined) {
    event.to = target.nick;
    if (echo) session.port.send({ ...event, ref } as ServerEvent);
    for (const end of ctx.registry.connectionsOf(target.nick)) {
      if (end !== session) end.port.send(event);
    }
    return;
  }
  const sent = whenReady(ctx.link.findNick(to.trim()), (nick) => {
    if (nick === null) return sendError(session, "no_such_nick", `no such nick: ${to}`, ref);
    event.to = nick;
    return whenReady(ctx.link.sendDirect(nick, event), (delivered) => {
      if (!delivered) return sendError(session, "no_such_nick", `no such nick: ${to}`, ref);
      if (echo) session.port.send({ ...event, ref } as ServerEvent);
    }, (err) => sendError(session, "cluster_failed", `not sent: ${errorText(err)}`, ref));
  }, (err) => sendError(session, "cluster_failed", `not sent: ${errorText(err)}`, ref));
  return sent instanceof Promise ? sent : undefined;
}
