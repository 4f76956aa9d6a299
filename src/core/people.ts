/**
 * Who someone is: `away` (and back), `whois`, and `ison` (which of some
 * nicks are online, on any process).
 *
 * @module
 */

import { Broadcast } from "./broadcast.ts";
import { whenReady } from "./cluster.ts";
import type { Context } from "./context.ts";
import { errorText, sendError } from "./replies.ts";
import { stripControls } from "./sanitize.ts";
import type { RoomRules } from "./room_rules.ts";
import type { Session } from "./session.ts";
import type { Command } from "./types.ts";
import type { ServerEvent } from "./events.ts";

type Of<T extends Command["type"]> = Extract<Command, { type: T }>;

/** Longest away message, in characters. */
const MAX_AWAY = 300;

/** `away`: away with a message, or back without one. */
export function away(ctx: Context, session: Session, command: Of<"away">): void {
  const text = stripControls(command.text ?? "").trim();
  if ([...text].length > MAX_AWAY) {
    return sendError(
      session,
      "bad_request",
      `away message too long (max ${MAX_AWAY} characters)`,
      command.ref,
    );
  }
  session.setAway(text === "" ? null : text);
  session.port.send({ type: "away", nick: session.nick, text: session.away, ref: command.ref });
  // Those who share a room hear it once (IRC's away-notify; the text door shows nothing).
  const event: ServerEvent = { type: "presence", nick: session.nick, away: session.away };
  const shared = new Broadcast(event);
  const told = new Set<Session>([session]);
  for (const room of session.rooms.values()) {
    ctx.link.publish(room.name, event);
    for (const member of room.members) {
      if (told.has(member)) continue;
      told.add(member);
      member.port.send(shared);
    }
  }
}

/** `whois`: a client of this process in full; of another, that it is there. */
export function whois(
  ctx: Context,
  session: Session,
  command: Of<"whois">,
): Promise<unknown> | void {
  const { ref } = command;
  const asked = command.nick.trim();
  const target = ctx.registry.byNick(asked);
  if (target !== undefined) {
    // A secret room is named only to those in it.
    const rooms = [...target.rooms.keys()].filter((room) =>
      session.rooms.has(room) || !ctx.registry.room(room)?.rules.flags.secret
    );
    const where = (has: (rules: RoomRules) => boolean) =>
      rooms.filter((room) => {
        const rules = ctx.registry.room(room)?.rules;
        return rules !== undefined && has(rules);
      });
    const event: Extract<ServerEvent, { type: "whois" }> = {
      type: "whois",
      nick: target.nick,
      rooms,
      registered: target.registered,
      admin: target.admin,
      ref,
    };
    if (target.account !== null) event.account = target.account;
    const ops = where((rules) => rules.isOp(target.nick));
    if (ops.length > 0) event.ops = ops;
    const voiced = where((rules) => rules.hasVoice(target.nick));
    if (voiced.length > 0) event.voiced = voiced;
    if (target.away !== null) event.away = target.away;
    const ident = target.options.ident;
    if (ident !== undefined) Object.assign(event, ident);
    return session.port.send(event);
  }
  const found = whenReady(ctx.link.findNick(asked), (nick) => {
    if (nick === null) return sendError(session, "no_such_nick", `no such nick: ${asked}`, ref);
    session.port.send({ type: "whois", nick, rooms: [], registered: false, admin: false, ref });
  }, (err) => sendError(session, "cluster_failed", `whois unavailable: ${errorText(err)}`, ref));
  return found instanceof Promise ? found : undefined;
}

/** `ison`: the nicks asked that are online, as their owners spell them. */
export function ison(ctx: Context, session: Session, command: Of<"ison">): Promise<unknown> | void {
  const lookups = command.nicks.slice(0, 64).map((nick) =>
    ctx.registry.byNick(nick)?.nick ?? ctx.link.findNick(nick)
  );
  const reply = (found: (string | null)[]) => {
    const nicks = found.filter((n): n is string => n !== null);
    const away = nicks.filter((nick) => (ctx.registry.byNick(nick)?.away ?? null) !== null);
    const event: ServerEvent = { type: "ison", nicks, ref: command.ref };
    if (away.length > 0) event.away = away;
    session.port.send(event);
  };
  if (!lookups.some((l) => l instanceof Promise)) return reply(lookups as (string | null)[]);
  return Promise.all(lookups).then(
    reply,
    (err) =>
      sendError(session, "cluster_failed", `ison unavailable: ${errorText(err)}`, command.ref),
  );
}
