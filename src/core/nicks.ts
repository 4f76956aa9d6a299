/**
 * Nicks: one namespace for every door and every process. A guest nick is
 * handed out on connect; `nick` takes another, checking its registration
 * (`/register`) and, through the link, the other processes.
 *
 * @module
 */

import { Broadcast } from "./broadcast.ts";
import { whenReady } from "./cluster.ts";
import type { Context } from "./context.ts";
import { nickKey, validNick } from "./names.ts";
import { checkPassword } from "./password_checks.ts";
import { errorText, sendError } from "./replies.ts";
import { saveRules } from "./rules.ts";
import type { Session } from "./session.ts";
import type { Command, Ref, ServerEvent } from "./types.ts";

/** A guest nick (`guest-7`) nobody holds, here or on another process. */
export function guestNick(ctx: Context): string {
  for (;;) {
    // In a cluster the numbers come from a range no other process hands out.
    const nick = `guest-${ctx.link.nextGuest()}`;
    if (ctx.registry.byNick(nick) !== undefined) continue;
    const claimed = ctx.link.claimNick(nick);
    if (claimed instanceof Promise) claimed.catch(ctx.onError);
    return nick;
  }
}

/** `nick`: take another nick (`password` claims a registered one). */
export function changeNick(
  ctx: Context,
  session: Session,
  command: Extract<Command, { type: "nick" }>,
): Promise<unknown> | void {
  const { ref } = command;
  const nick = validNick(command.nick.trim());
  if (nick === null) {
    return sendError(
      session,
      "invalid_nick",
      `invalid nick: ${command.nick} (1 to 32 of A-Z a-z 0-9 _ -)`,
      ref,
    );
  }
  const holder = ctx.registry.byNick(nick);
  if (holder !== undefined && holder !== session) {
    return sendError(session, "nick_taken", `nick taken: ${nick}`, ref);
  }
  if (nick === session.nick) {
    session.port.send({ type: "nick", old: nick, nick, ref });
    return;
  }
  // The holder of a nick may change its case; any other claim checks the registration.
  if (nickKey(nick) === nickKey(session.nick)) return rename(ctx, session, nick, ref);
  return ctx.store.getRecord("nick", nickKey(nick)).then(async (record) => {
    // Logged in as this very nick (SASL): no password asked again.
    const proven = record !== null && session.account !== null &&
      nickKey(session.account) === nickKey(nick);
    if (record !== null && !proven) {
      if (command.password === undefined) {
        return sendError(
          session,
          "nick_registered",
          `nick ${nick} is registered (/nick ${nick} <password>)`,
          ref,
        );
      }
      const hash = registeredHash(record);
      if (!(await checkPassword(ctx, session, command.password, hash, ref))) return;
    }
    if (session.closed) return;
    if (ctx.registry.byNick(nick) !== undefined) {
      return sendError(session, "nick_taken", `nick taken: ${nick}`, ref);
    }
    return claim(ctx, session, nick, record !== null, ref);
  }, (err) => sendError(session, "store_failed", `nick unavailable: ${errorText(err)}`, ref));
}

/** Takes a free nick: claimed across processes first, then renamed here. */
function claim(
  ctx: Context,
  session: Session,
  nick: string,
  registered: boolean,
  ref?: Ref,
): Promise<unknown> | void {
  const claimed = whenReady(ctx.link.claimNick(nick), (ok) => {
    if (!ok) return sendError(session, "nick_taken", `nick taken: ${nick}`, ref);
    if (session.closed || ctx.registry.byNick(nick) !== undefined) {
      return ctx.link.releaseNick(nick);
    }
    session.setRegistered(registered);
    if (registered) session.setAccount(nick);
    rename(ctx, session, nick, ref);
  }, (err) => sendError(session, "cluster_failed", `nick unavailable: ${errorText(err)}`, ref));
  return claimed instanceof Promise ? claimed : undefined;
}

/**
 * Renames the client. Everyone who shares a (not quiet) room with it hears
 * it once, wherever they are; so does the client, with its request's ref.
 */
function rename(ctx: Context, session: Session, nick: string, ref?: Ref): void {
  const old = session.nick;
  session.rename(nick);
  ctx.registry.renamed(session, old);
  // Operators stay operators under their new nick.
  for (const room of session.rooms.values()) {
    if (room.rules.renameOp(old, nick)) void saveRules(ctx, room);
  }
  session.port.send({ type: "nick", old, nick, ref });
  const event: ServerEvent = { type: "nick", old, nick };
  if (nickKey(old) !== nickKey(nick)) ctx.link.releaseNick(old);
  const shared: string[] = [];
  for (const room of session.rooms.values()) {
    ctx.link.left(room.name, old);
    ctx.link.joined(room.name, nick);
    if (!ctx.quiet.isQuiet(room)) shared.push(room.name);
  }
  ctx.link.publishNick(event, shared);
  const told = new Set<Session>([session]);
  const broadcast = new Broadcast(event);
  for (const room of session.rooms.values()) {
    if (ctx.quiet.isQuiet(room)) continue;
    for (const member of room.members) {
      if (told.has(member)) continue;
      told.add(member);
      member.port.send(broadcast);
    }
  }
}

/** When a registered nick's record was made, in ms (0 when not said). */
export function registeredAt(record: string | null): number {
  try {
    const ts = record === null ? 0 : JSON.parse(record)?.ts;
    return typeof ts === "number" ? ts : 0;
  } catch {
    return 0;
  }
}

/** The password hash in a registered nick's record (`{"hash": ..., "ts": ...}`). */
export function registeredHash(record: string): string {
  try {
    const hash = JSON.parse(record)?.hash;
    return typeof hash === "string" ? hash : "";
  } catch {
    return ""; // a damaged record matches no password
  }
}
