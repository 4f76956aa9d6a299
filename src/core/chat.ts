/**
 * How a message reaches a room: `say` and `me` are stored (numbered by the
 * store), then delivered in id order to every member here and published to
 * the other processes; and `history`, which reads them back.
 *
 * @module
 */

import { Broadcast } from "./broadcast.ts";
import type { Context } from "./context.ts";
import { type NewMessage, StoreWriteError } from "./history.ts";
import { nickKey, normalizeRoom } from "./names.ts";
import { errorText, roomFor, sendError } from "./replies.ts";
import { stripControls } from "./sanitize.ts";
import { conversation, loggedIn, partnersOf } from "./direct.ts";
import { registeredAt } from "./nicks.ts";
import { clientTags } from "./tags.ts";
import type { Session } from "./session.ts";
import type { ChatMessage, Command, Ref } from "./types.ts";
import type { ServerEvent } from "./events.ts";

type Say = Extract<Command, { type: "say" | "me" | "notice" }>;

/** `say` (a plain line), `me` (an action) and `notice`: stored, then delivered. */
export function say(ctx: Context, session: Session, command: Say): Promise<unknown> | void {
  const text = stripControls(command.text);
  if (text.trim() === "") {
    return sendError(session, "empty_message", "empty message", command.ref);
  }
  const tags = clientTags(command.tags);
  if (tags === null) return sendError(session, "bad_request", "tags too long", command.ref);
  const room = roomFor(
    ctx,
    session,
    command.room,
    open(ctx, command.room) ? "exists" : "member",
    command.ref,
  );
  if (room === null) return;
  if (!session.admin && !room.rules.maySpeak(session.nick)) {
    return sendError(
      session,
      "moderated",
      `${room.name} is moderated: only its operators and voiced members speak`,
      command.ref,
    );
  }
  ctx.stats.messagesIn++;
  const kind = command.type === "me" ? "action" : command.type;
  const ref = command.ref;
  // Client tags and the account travel with the live message, not into the store.
  const account = session.account ?? undefined;
  const tagged = (m: ChatMessage) =>
    tags === undefined && account === undefined ? m : {
      ...m,
      ...(tags === undefined ? {} : { tags }),
      ...(account === undefined ? {} : { account }),
    };
  const replyTo = command.type === "say" ? command.replyTo : undefined;
  if (replyTo !== undefined) {
    if (!Number.isSafeInteger(replyTo) || replyTo < 1) {
      return sendError(session, "bad_request", `invalid message id: ${replyTo}`, ref);
    }
    // Checked before it is numbered: a reply names a kept message of its room.
    return ctx.store.get(room.name, replyTo).then((answered) => {
      if (answered === null) {
        return sendError(
          session,
          "no_such_message",
          `no message ${replyTo} in ${room.name} to reply to (kept ones only)`,
          ref,
        );
      }
      return keep({ room: room.name, nick: session.nick, text, ts: ctx.now(), kind, replyTo });
    }, (err) => sendError(session, "store_failed", `not sent: ${errorText(err)}`, ref));
  }
  return keep({ room: room.name, nick: session.nick, text, ts: ctx.now(), kind });

  function keep(message: NewMessage): Promise<unknown> {
    return ctx.store.append(message).then(
      (message) => deliver(ctx, tagged(message), session, ref),
      (err) => {
        // The chat goes on without history: deliver, and tell the sender.
        if (err instanceof StoreWriteError) deliver(ctx, tagged(err.numbered), session, ref);
        sendError(session, "store_failed", `message not kept in history: ${errorText(err)}`, ref);
      },
    );
  }
}

/** Whether the named room takes messages from those outside it (IRC `-n`). */
function open(ctx: Context, name: string | undefined): boolean {
  if (name === undefined) return false;
  const room = normalizeRoom(name.trim());
  return room !== null && (ctx.registry.room(room)?.rules.flags.outsiders ?? false);
}

/**
 * Delivers a stored message: to the other processes, and in id order to the
 * members here (through the sequencer). A message the store could not number
 * (id 0) goes out here at once.
 */
export function deliver(ctx: Context, message: ChatMessage, sender?: Session, ref?: Ref): void {
  if (message.id === 0) return fanOut(ctx, message, sender, ref);
  ctx.link.publish(message.room, { type: "message", message });
  if (ctx.registry.room(message.room) !== undefined) ctx.sequencer.add(message, sender, ref);
}

/**
 * The local part of a delivery, to the room's members as they are now.
 * Everyone gets the same broadcast (encoded once per door); a sender that
 * gave a `ref` gets its own copy carrying it, as the acknowledgement of its
 * request. A member whose join replay is still being read gets it after.
 */
export function fanOut(ctx: Context, message: ChatMessage, sender?: Session, ref?: Ref): void {
  const room = ctx.registry.room(message.room);
  if (room === undefined) return;
  const event: ServerEvent = { type: "message", message };
  const shared = new Broadcast(event);
  for (const member of room.members) {
    const held = member.heldFor(room.name);
    if (held !== undefined) {
      held.push(message);
    } else if (member === sender && ref !== undefined) {
      member.port.send({ type: "message", message, ref });
    } else {
      member.port.send(shared);
    }
  }
}

/** `history`: any room's recent messages, or those after an id; member or not. */
export function history(
  ctx: Context,
  session: Session,
  command: Extract<Command, { type: "history" }>,
): Promise<unknown> | void {
  // A client that reconnects fills its gap before (or without) joining again.
  const { ref } = command;
  let room: string | null;
  if (command.with !== undefined) {
    // A DM conversation: kept only between logged-in nicks, read only by them.
    if (!loggedIn(session)) {
      return sendError(
        session,
        "bad_request",
        "log in to read your DMs' history (/nick <name> <password>, or SASL)",
        ref,
      );
    }
    room = conversation(session.nick, command.with.trim());
  } else if (command.room === undefined || command.room.trim() === "") {
    room = session.current?.name ?? null;
    if (room === null) {
      return sendError(session, "no_current_room", "you are not in a room (try /join <room>)", ref);
    }
  } else {
    room = normalizeRoom(command.room.trim());
    if (room === null) {
      return sendError(session, "invalid_room", `invalid room name: ${command.room}`, ref);
    }
  }
  const { historyDefault, historyMax } = ctx.options;
  const limit = Math.min(command.limit ?? historyDefault, historyMax);
  const name = room;
  if (command.member && command.with === undefined && !session.rooms.has(name)) {
    return sendError(session, "not_in_room", `you are not in room ${name}`, ref);
  }
  const read = async () => {
    const messages = await page(ctx, name, command, limit);
    if (command.with === undefined) return messages;
    // What was said to the nick before it was registered was said to a guest holding it.
    const since = registeredAt(await ctx.store.getRecord("nick", nickKey(session.nick)));
    return messages.filter((m) => m.ts >= since);
  };
  return read().then(
    (messages) => {
      if (session.closed) return;
      const event: ServerEvent = { type: "history", room: name, messages, ref };
      if (command.ids) event.ids = true;
      if (command.with !== undefined) event.with = partnerName(ctx, messages, command.with.trim());
      session.port.send(event);
    },
    (err) => sendError(session, "store_failed", `history unavailable: ${errorText(err)}`, ref),
  );
}

/** How the DM partner `typed` calls itself: as connected, or as in its last kept line. */
function partnerName(ctx: Context, messages: ChatMessage[], typed: string): string {
  const online = ctx.registry.byNick(typed);
  if (online !== undefined) return online.nick;
  const said = messages.findLast((m) => nickKey(m.nick) === nickKey(typed));
  return said?.nick ?? typed;
}

/**
 * `targets`: the rooms the client is in and its DM partners (logged in)
 * whose latest message is between two times (both excluded), earliest first
 * (IRC `CHATHISTORY TARGETS`).
 */
export function targets(
  ctx: Context,
  session: Session,
  command: Extract<Command, { type: "targets" }>,
): Promise<unknown> {
  return findTargets(ctx, session, command).catch((err) =>
    sendError(session, "store_failed", `targets unavailable: ${errorText(err)}`, command.ref)
  );
}

async function findTargets(
  ctx: Context,
  session: Session,
  command: Extract<Command, { type: "targets" }>,
): Promise<void> {
  const { ref, afterTime, beforeTime } = command;
  const limit = Math.min(command.limit ?? 50, ctx.options.historyMax);
  const candidates: { name: string; key: string; dm: boolean }[] = [...session.rooms.keys()]
    .map((room) => ({ name: room, key: room, dm: false }));
  if (loggedIn(session)) {
    const partners = partnersOf(await ctx.store.getRecord("dms", nickKey(session.nick)));
    for (const nick of partners) {
      candidates.push({ name: nick, key: conversation(session.nick, nick), dm: true });
    }
  }
  const [low, high] = [Math.min(afterTime, beforeTime), Math.max(afterTime, beforeTime)];
  const found: { name: string; dm: boolean; ts: number }[] = [];
  for (const c of candidates) {
    // A target counts by its latest message only, between the bounds (both excluded).
    const [latest] = await ctx.store.recent(c.key, 1);
    if (latest !== undefined && latest.ts > low && latest.ts < high) {
      found.push({ name: c.name, dm: c.dm, ts: latest.ts });
    }
  }
  found.sort((a, b) => a.ts - b.ts);
  session.port.send({ type: "targets", targets: found.slice(0, limit), ref });
}

/** The messages a `history` request asks for, oldest first. */
async function page(
  ctx: Context,
  room: string,
  q: Extract<Command, { type: "history" }>,
  limit: number,
): Promise<ChatMessage[]> {
  const { store } = ctx;
  // A time stands for the last id at or before it (ts < t for "before").
  const after = q.afterTime === undefined ? q.after : await store.idAtTime(room, q.afterTime);
  const before = q.beforeTime === undefined
    ? q.before
    : (await store.idAtTime(room, q.beforeTime - 1)) + 1;
  const around = q.aroundTime === undefined ? q.around : await store.idAtTime(room, q.aroundTime);
  if (around !== undefined) {
    const older = await store.before(room, around, Math.floor((limit - 1) / 2));
    const rest = await store.after(room, around - 1, limit - older.length);
    return [...older, ...rest];
  }
  if (after !== undefined && before !== undefined) {
    const inside = q.latest
      ? (await store.before(room, before, limit)).filter((m) => m.id > after)
      : (await store.after(room, after, limit)).filter((m) => m.id < before);
    return inside;
  }
  if (before !== undefined) return store.before(room, before, limit);
  if (after !== undefined) {
    if (!q.latest) return store.after(room, after, limit);
    return (await store.recent(room, limit)).filter((m) => m.id > after);
  }
  return store.recent(room, limit);
}
