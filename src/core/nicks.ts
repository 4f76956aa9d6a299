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
import { loggedIn } from "./direct.ts";
import { errorText, sendError, tellRoom } from "./replies.ts";
import { saveRules } from "./rules.ts";
import type { Session } from "./session.ts";
import type { Command, Ref } from "./types.ts";
import type { ServerEvent } from "./events.ts";

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

/**
 * A nick several connections share cannot change under them: refuses (and
 * returns true) when `session` would leave its shared nick for `nick`.
 */
export function refuseSharedChange(
  ctx: Context,
  session: Session,
  nick: string,
  ref: Ref | undefined,
): boolean {
  if (ctx.registry.connectionsOf(session.nick).length <= 1) return false;
  if (nickKey(nick) === nickKey(session.nick)) return false;
  sendError(
    session,
    "bad_request",
    `${session.nick} is connected more than once: the nick cannot change while it is shared`,
    ref,
  );
  return true;
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
  // A logged-in nick takes more connections, each proving the password (or SASL).
  const joining = holder !== undefined && holder !== session && loggedIn(holder);
  if (holder !== undefined && holder !== session && !joining) {
    return sendError(session, "nick_taken", `nick taken: ${nick}`, ref);
  }
  if (refuseSharedChange(ctx, session, nick, ref)) return;
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
    if (joining && record === null) {
      return sendError(session, "nick_taken", `nick taken: ${nick}`, ref);
    }
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
      if (
        !(await checkPassword(ctx, session, command.password, hash, ref, "nick_password_failed", {
          target: nick,
        }))
      ) return;
    }
    if (session.closed) return;
    const now = ctx.registry.byNick(nick);
    if (now !== undefined && record !== null && loggedIn(now)) {
      return attach(ctx, session, now, ref);
    }
    if (now !== undefined) return sendError(session, "nick_taken", `nick taken: ${nick}`, ref);
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
  session.rename(nick, ctx.now());
  ctx.registry.renamed(session, old);
  // Operators stay operators under their new nick.
  for (const room of session.rooms.values()) {
    if (room.rules.renameOp(old, nick)) void saveRules(ctx, room);
  }
  session.port.send({ type: "nick", old, nick, ref });
  const event: ServerEvent = { type: "nick", old, nick };
  if (nickKey(old) !== nickKey(nick)) ctx.link.releaseNick(old);
  else {
    // A change of case: claimed again, so other processes find the new spelling.
    const claimed = ctx.link.claimNick(nick);
    if (claimed instanceof Promise) claimed.catch(ctx.onError);
  }
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

/**
 * One more connection for a logged-in nick (`holder` has it): the session
 * takes the nick as it is spelled. Its rooms hear its old nick change, or,
 * where the nick is a member already, leave.
 */
function attach(ctx: Context, session: Session, holder: Session, ref?: Ref): void {
  const old = session.nick;
  const nick = holder.nick;
  session.rename(nick, ctx.now());
  session.setRegistered(true);
  session.setAccount(nick);
  ctx.registry.renamed(session, old);
  ctx.link.releaseNick(old);
  session.port.send({ type: "nick", old, nick, ref });
  const siblings = ctx.registry.connectionsOf(nick);
  const told = new Set<Session>(siblings);
  const renamed = new Broadcast({ type: "nick", old, nick });
  const published: string[] = [];
  for (const room of session.rooms.values()) {
    room.rules.ops.delete(nickKey(old)); // a guest's operator status was its connection's
    ctx.link.left(room.name, old);
    if (room.renamed(session, old, siblings)) {
      tellRoom(ctx, room, { type: "left", room: room.name, nick: old, reason: { kind: "part" } }, {
        except: session,
      });
      continue;
    }
    ctx.link.joined(room.name, nick);
    published.push(room.name);
    for (const member of room.members) {
      if (told.has(member)) continue;
      told.add(member);
      member.port.send(renamed);
    }
  }
  if (published.length > 0) ctx.link.publishNick({ type: "nick", old, nick }, published);
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
