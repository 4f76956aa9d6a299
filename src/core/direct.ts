/**
 * Direct messages: to a client of this process at once, else through the
 * link to whichever process has the nick. Both ends get the `dm` event; the
 * sender's copy carries its request's `ref`.
 *
 * @module
 */

import { whenReady } from "./cluster.ts";
import type { Context } from "./context.ts";
import { errorText, sendError } from "./replies.ts";
import { stripControls } from "./sanitize.ts";
import { clientTags } from "./tags.ts";
import type { Session } from "./session.ts";
import type { Command, Ref, ServerEvent } from "./types.ts";

/** `msg`: a direct message to a nick. */
export function directMessage(
  ctx: Context,
  session: Session,
  command: Extract<Command, { type: "msg" }>,
): Promise<unknown> | void {
  const { ref } = command;
  const to = command.to.trim();
  const text = stripControls(command.text);
  const target = ctx.registry.byNick(to);
  if (target === undefined) {
    if (text.trim() === "") return noSuchNick(session, command.to, ref);
    return elsewhere(ctx, session, to, text, command.notice === true, ref);
  }
  if (text.trim() === "") return sendError(session, "empty_message", "empty message", ref);
  ctx.stats.messagesIn++;
  const event: ServerEvent = {
    type: "dm",
    from: session.nick,
    to: target.nick,
    text,
    ts: ctx.now(),
  };
  if (command.notice) event.notice = true;
  const tags = clientTags(command.tags);
  if (tags) event.tags = tags;
  session.port.send(ref === undefined ? event : { ...event, ref });
  if (target !== session) target.port.send(event);
  // A notice asks no reply, so it is not answered with the away message either.
  if (target.away !== null && !command.notice) {
    session.port.send({ type: "away", nick: target.nick, text: target.away });
  }
}

/** A DM to a nick not held here: the process that has it, if any, delivers it. */
function elsewhere(
  ctx: Context,
  session: Session,
  to: string,
  text: string,
  notice: boolean,
  ref?: Ref,
): Promise<unknown> | void {
  const failed = (err: unknown) =>
    sendError(session, "cluster_failed", `message not sent: ${errorText(err)}`, ref);
  const sent = whenReady(ctx.link.findNick(to), (nick) => {
    if (nick === null) return noSuchNick(session, to, ref);
    ctx.stats.messagesIn++;
    const event: ServerEvent = {
      type: "dm",
      from: session.nick,
      to: nick,
      text,
      ts: ctx.now(),
    };
    if (notice) event.notice = true;
    return whenReady(ctx.link.sendDirect(nick, event), (delivered) => {
      if (!delivered) return noSuchNick(session, to, ref);
      session.port.send(ref === undefined ? event : { ...event, ref });
    }, failed);
  }, failed);
  return sent instanceof Promise ? sent : undefined;
}

function noSuchNick(session: Session, to: string, ref?: Ref): void {
  sendError(session, "no_such_nick", `no such nick: ${to}`, ref);
}
