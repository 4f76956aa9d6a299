/**
 * What comes from the other processes through the link: room events for the
 * members here (messages through the sequencer, kicks and bans that remove a
 * member here, rule changes to read again, nick changes told once per
 * member), DMs to local nicks, and this process's view for their queries.
 *
 * @module
 */

import { Broadcast } from "./broadcast.ts";
import type { LinkPeer, RoomCount } from "./cluster.ts";
import type { Context } from "./context.ts";
import { removeNick } from "./leaving.ts";
import type { Room } from "./room.ts";
import { RoomRules } from "./room_rules.ts";
import { reloadRules } from "./rules.ts";
import type { ServerEvent } from "./events.ts";

/** This process as the link sees it. */
export function linkPeer(ctx: Context): LinkPeer {
  return {
    remote: (room, event, rooms) => remoteEvent(ctx, room, event, rooms),
    direct: (nick, event) => {
      for (const s of ctx.registry.connectionsOf(nick)) s.port.send(event);
    },
    localMembers: (name) => ctx.registry.room(name)?.nicks ?? [],
    localRooms: () => {
      const rooms: RoomCount[] = [];
      for (const room of ctx.registry.rooms) rooms.push({ room: room.name, members: room.size });
      return rooms;
    },
  };
}

/** An event from another process for this process's members of `name`. */
function remoteEvent(ctx: Context, name: string, event: ServerEvent, rooms?: string[]): void {
  const room = ctx.registry.room(name);
  if (room === undefined) return;
  if (event.type === "message") return ctx.sequencer.add(event.message);
  if (event.type === "left" && (event.reason.kind === "kick" || event.reason.kind === "ban")) {
    return removedRemotely(ctx, room, event.nick, event.reason.kind === "ban", event);
  }
  if (event.type === "moderation" || event.type === "topic") void reloadRules(ctx, name);
  if (event.type === "react") ctx.digests.touch(name, event.id);
  const shared = new Broadcast(event);
  if (event.type === "nick" && rooms !== undefined) {
    // Once per member: only through the first of the renamer's rooms the member is in.
    const earlier = rooms.slice(0, rooms.indexOf(name));
    for (const member of room.members) {
      if (!earlier.some((r) => member.rooms.has(r))) member.port.send(shared);
    }
    return;
  }
  for (const member of room.members) member.port.send(shared);
}

/**
 * An operator on another process kicked or banned `nick` from `room`: the
 * members here are told, and if the member is here, it is removed (and,
 * for a ban, its address is added to the stored ban).
 */
function removedRemotely(
  ctx: Context,
  room: Room,
  nick: string,
  ban: boolean,
  event: ServerEvent,
): void {
  const shared = new Broadcast(event);
  for (const member of room.members) member.port.send(shared);
  const target = ctx.registry.connectionsOf(nick).find((s) => room.has(s));
  if (target !== undefined) removeNick(ctx, nick, room);
  void reloadRules(ctx, room.name).then(async () => {
    if (!ban || target === undefined || target.address === "") return;
    const rules = RoomRules.parse(await ctx.store.getRecord("room", room.name));
    rules.ban(nick, target.address);
    await ctx.store.putRecord("room", room.name, rules.serialize());
    ctx.registry.room(room.name)?.rules.ban(nick, target.address);
  }).catch(ctx.onError);
}
