/**
 * What is there: `rooms` (every room with members, on every process) and
 * `who` (a room's members, paged for big rooms). A single process answers at
 * once; a cluster asks the link.
 *
 * @module
 */

import { whenReady } from "./cluster.ts";
import type { Context } from "./context.ts";
import { normalizeRoom } from "./names.ts";
import { unreadIn } from "./reading.ts";
import { errorText, sendError } from "./replies.ts";
import type { Session } from "./session.ts";
import type { Command, MemberInfo } from "./types.ts";
import type { ServerEvent } from "./events.ts";
import { WHO_MAX, WHO_PAGE_SIZE } from "./types.ts";

type Of<T extends Command["type"]> = Extract<Command, { type: T }>;

/** `rooms`: rooms with members and their counts, by name; unread counts for the client's own. */
export function rooms(
  ctx: Context,
  session: Session,
  command: Of<"rooms">,
): Promise<unknown> | void {
  const listed = whenReady(
    ctx.link.rooms(),
    (rooms) => {
      // Secret rooms are listed to their members only.
      const visible = rooms.filter((r) =>
        !(ctx.registry.room(r.room)?.rules.flags.secret ?? false) || session.rooms.has(r.room)
      );
      // Topics are known for the rooms with members here (all of them, in one process).
      const listing: RoomListing[] = command.topics
        ? visible.map((r) => {
          const topic = ctx.registry.room(r.room)?.rules.topic?.text;
          return topic === undefined ? r : { ...r, topic };
        })
        : visible;
      if (session.rooms.size === 0) {
        return session.port.send({ type: "rooms", rooms: listing, ref: command.ref });
      }
      return withUnread(ctx, session, listing).then(
        (rooms) => session.port.send({ type: "rooms", rooms, ref: command.ref }),
        (err) =>
          sendError(session, "store_failed", `rooms unavailable: ${errorText(err)}`, command.ref),
      );
    },
    (err) =>
      sendError(session, "cluster_failed", `rooms unavailable: ${errorText(err)}`, command.ref),
  );
  return listed instanceof Promise ? listed : undefined;
}

type RoomListing = Extract<ServerEvent, { type: "rooms" }>["rooms"][number];

/** The listing with `unread` on the rooms the client is in. */
async function withUnread(
  ctx: Context,
  session: Session,
  listing: RoomListing[],
): Promise<RoomListing[]> {
  const out: RoomListing[] = [];
  for (const r of listing) {
    out.push(
      session.rooms.has(r.room)
        ? { ...r, unread: (await unreadIn(ctx, session, r.room)).unread }
        : r,
    );
  }
  return out;
}

/** `who`: the members of the named or current room, member or not. */
export function who(ctx: Context, session: Session, command: Of<"who">): Promise<unknown> | void {
  const { ref } = command;
  if (command.mask !== undefined) return whoMask(ctx, session, command, command.mask);
  const asked = command.room?.trim() ?? "";
  if (asked === "" && session.current === null) {
    return sendError(session, "no_current_room", "you are not in a room (try /join <room>)", ref);
  }
  const room = asked === "" ? session.current!.name : normalizeRoom(asked);
  if (room === null) return sendError(session, "no_such_room", `no such room: ${asked}`, ref);
  const listed = whenReady(ctx.link.who(room), (members) => {
    if (members.length === 0) {
      return sendError(session, "no_such_room", `no such room: ${asked || room}`, ref);
    }
    const page = whoPage(room, members, command);
    if (command.detail && page.type === "who") {
      page.details = page.members.map((m) => info(ctx, room, m));
      if (ctx.registry.room(room)?.rules.flags.secret) page.secret = true;
    }
    session.port.send(page);
  }, (err) => sendError(session, "cluster_failed", `who unavailable: ${errorText(err)}`, ref));
  return listed instanceof Promise ? listed : undefined;
}

/** What this process knows of a member (of another process: its nick and rights). */
export function info(ctx: Context, room: string, nick: string): MemberInfo {
  const rules = ctx.registry.room(room)?.rules;
  const member: MemberInfo = { nick, op: rules?.isOp(nick) ?? false };
  if (rules?.hasVoice(nick)) member.voice = true;
  const session = ctx.registry.byNick(nick);
  if (session === undefined) return member;
  if (session.away !== null) member.away = session.away;
  if (session.admin) member.admin = true;
  const ident = session.options.ident;
  if (ident !== undefined) {
    member.user = ident.user;
    member.realname = ident.realname;
  }
  return member;
}

/** `who` by nick mask: the matching clients of this process, each in detail. */
function whoMask(ctx: Context, session: Session, command: Of<"who">, mask: string): void {
  const glob = new RegExp(
    "^" + mask.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$",
    "i",
  );
  // Users are invisible to masks (IRC's +i): listed to those who share a room with them.
  const shares = (other: Session) =>
    other === session || [...other.rooms.values()].some((room) => room.has(session));
  const nicks = [...ctx.registry.sessions]
    .filter((s) => glob.test(s.nick) && shares(s))
    .map((s) => s.nick);
  const page = whoPage(mask, nicks, command);
  if (page.type === "who") page.details = page.members.map((m) => info(ctx, "", m));
  session.port.send(page);
}

/**
 * One page of a room's members: `who` on a room of thousands lists a page
 * (with `total` and `offset`) instead of a line of a hundred kilobytes.
 */
function whoPage(room: string, all: string[], command: Of<"who">): ServerEvent {
  const limit = Math.min(command.limit ?? WHO_PAGE_SIZE, WHO_MAX);
  const offset = command.offset ?? 0;
  const members = all.slice(offset, offset + limit);
  const paged = offset > 0 || members.length < all.length;
  return paged
    ? { type: "who", room, members, total: all.length, offset, ref: command.ref }
    : { type: "who", room, members, ref: command.ref };
}
