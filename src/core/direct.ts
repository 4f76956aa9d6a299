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
import { nickKey } from "./names.ts";
import type { Session } from "./session.ts";
import type { Command, Ref } from "./types.ts";
import type { ServerEvent } from "./events.ts";

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
  const own: ServerEvent = ref === undefined ? { ...event } : { ...event, ref };
  const deliver = () => {
    session.port.send(own);
    // Every connection of both ends (a nick may have several), each once.
    const ends = new Set([
      ...ctx.registry.connectionsOf(session.nick),
      ...ctx.registry.connectionsOf(target.nick),
    ]);
    for (const end of ends) if (end !== session) end.port.send(event);
    // A notice asks no reply, so it is not answered with the away message either.
    if (target.away !== null && !command.notice) {
      session.port.send({ type: "away", nick: target.nick, text: target.away });
    }
  };
  // Kept once, with one id both ends see, when an end is logged in: that end
  // may page back through it (a guest has no history to come back to).
  const owners = [session, target].filter(loggedIn).map((end) => end.nick);
  if (owners.length === 0) return deliver();
  return keep(ctx, session.nick, target.nick, owners, [own, event]).then(deliver);
}

/** Logged in as the nick it holds (SASL, or the nick claimed with its password). */
export function loggedIn(session: Session): boolean {
  return session.account !== null && nickKey(session.account) === nickKey(session.nick);
}

/**
 * The key the kept DMs between two nicks live under, the same from either
 * end; not a room name (rooms have no `:`).
 */
export function conversation(a: string, b: string): string {
  const [x, y] = [nickKey(a), nickKey(b)].sort();
  return `dm:${x}:${y}`;
}

/** Stores a DM (numbering it in its conversation) and notes the partner of each logged-in end. */
async function keep(
  ctx: Context,
  from: string,
  to: string,
  owners: string[],
  copies: ServerEvent[],
): Promise<void> {
  const key = conversation(from, to);
  const dm = copies[0] as Extract<ServerEvent, { type: "dm" }>;
  try {
    const kind = dm.notice ? "notice" : "say";
    const kept = await ctx.store.append({ room: key, nick: from, text: dm.text, ts: dm.ts, kind });
    for (const copy of copies as Extract<ServerEvent, { type: "dm" }>[]) {
      copy.conversation = key;
      copy.id = kept.id;
    }
    for (const owner of new Set(owners)) {
      await notePartner(ctx, owner, nickKey(owner) === nickKey(from) ? to : from);
    }
  } catch (err) {
    ctx.onError(err); // not kept: still delivered
  }
}

/** Partners a nick has kept DMs with, newest last (a record per nick, at most 200). */
async function notePartner(ctx: Context, nick: string, partner: string): Promise<void> {
  const record = await ctx.store.getRecord("dms", nickKey(nick));
  const partners = partnersOf(record).filter((p) => nickKey(p) !== nickKey(partner));
  partners.push(partner);
  await ctx.store.putRecord("dms", nickKey(nick), JSON.stringify(partners.slice(-200)));
}

/** The partners in a `dms` record (none for a missing or damaged one). */
export function partnersOf(record: string | null): string[] {
  try {
    const list = record === null ? [] : JSON.parse(record);
    return Array.isArray(list) ? list.filter((p): p is string => typeof p === "string") : [];
  } catch {
    return [];
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
