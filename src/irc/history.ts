/**
 * Kept messages on IRC: `CHATHISTORY` reads them from the store (and a
 * join replays the last few to clients that do not), `REDACT` deletes one,
 * `MARKREAD` reads and moves the read markers; and what the client is
 * shown of them: `chathistory` batches, the replay, the `TARGETS` batch and
 * `MARKREAD` lines.
 *
 * @module
 */

import { conversation } from "../core/direct.ts";
import { normalizeRoom, validNick } from "../core/names.ts";
import type { ChatMessage } from "../core/types.ts";
import type { IrcClient, Pending } from "./client.ts";
import { fail, roomOf } from "./commands.ts";
import type { IrcMessage } from "./message.ts";
import { channel, keptReactions, messageIdIn, messageLine, reactionsText } from "./render.ts";
import type { Of } from "./replies.ts";

type Client = IrcClient<unknown>;

// --- what the client asks ------------------------------------------------------------------------

/** The most messages one `CHATHISTORY` returns (`CHATHISTORY` in `005`). */
export const CHATHISTORY_MAX = 100;

/** A `msgid=` or `timestamp=` reference: an id in `room`, or a time in ms. */
function historyRef(ref: string, room: string): { id: number } | { ts: number } | null {
  if (ref.startsWith("msgid=")) {
    const value = ref.slice(6);
    const dash = value.lastIndexOf("-");
    const id = Number(value.slice(dash + 1));
    if (dash < 0 || value.slice(0, dash) !== room || !Number.isSafeInteger(id)) return null;
    return { id };
  }
  if (ref.startsWith("timestamp=")) {
    const ts = Date.parse(ref.slice(10));
    return Number.isNaN(ts) ? null : { ts };
  }
  return null;
}

/** `CHATHISTORY LATEST|BEFORE|AFTER|AROUND|BETWEEN <target> ...` and `TARGETS`. */
export function chathistory(client: Client, m: IrcMessage): void {
  const sub = (m.params[0] ?? "").toUpperCase();
  const fail = (code: string, ...params: string[]) =>
    client.write([{
      tags: {},
      source: client.ctx.server,
      command: "FAIL",
      params: ["CHATHISTORY", code, ...params],
    }]);
  if (sub === "TARGETS") {
    const [from, to] = [m.params[1], m.params[2]].map((ref) => historyRef(ref ?? "", ""));
    const limit = Number(m.params[3]);
    if (from === null || to === null || !("ts" in from) || !("ts" in to) || !(limit >= 1)) {
      return fail("INVALID_PARAMS", sub, "Invalid parameters");
    }
    const q = { afterTime: from.ts, beforeTime: to.ts, limit: Math.min(limit, CHATHISTORY_MAX) };
    return void client.request({ type: "targets", ...q }, { command: "CHATHISTORY", target: "" });
  }
  const target = m.params[1] ?? "";
  const refs = sub === "BETWEEN" ? m.params.slice(2, 4) : m.params.slice(2, 3);
  const limit = Number(m.params[sub === "BETWEEN" ? 4 : 3]);
  if (!["LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN"].includes(sub)) {
    return fail("INVALID_PARAMS", sub, "Unknown subcommand");
  }
  if (!Number.isInteger(limit) || limit < 1 || refs.length < (sub === "BETWEEN" ? 2 : 1)) {
    return fail("INVALID_PARAMS", sub, "Invalid parameters");
  }
  const pending = { command: "CHATHISTORY", target, sub };
  // A channel, or a nick: the DMs kept with it (for a logged-in nick).
  const dm = !target.startsWith("#");
  const room = dm ? null : roomOf(target);
  if (!dm && room === null) return fail("INVALID_TARGET", sub, target, "Invalid target");
  if (dm && validNick(target) === null) {
    return fail("INVALID_TARGET", sub, target, "Invalid target");
  }
  const key = dm ? conversation(client.nick, target) : room!;
  // `*` (LATEST only) is no bound; anything else must be a msgid of this target or a timestamp.
  const bounds = refs.map((ref) => ref === "*" && sub === "LATEST" ? "none" : historyRef(ref, key));
  if (bounds.some((b) => b === null)) {
    return fail("INVALID_PARAMS", sub, "Invalid message reference");
  }
  const q: Record<string, number | boolean | string> = { limit: Math.min(limit, CHATHISTORY_MAX) };
  const set = (side: "after" | "before" | "around", b: { id: number } | { ts: number }) => {
    if ("id" in b) q[side] = b.id;
    else q[`${side}Time`] = b.ts;
  };
  const [first, second] = bounds as ({ id: number } | { ts: number } | "none")[];
  if (sub === "LATEST") {
    q.latest = true;
    if (first !== "none") set("after", first);
  } else if (sub === "BEFORE") set("before", first as { id: number } | { ts: number });
  else if (sub === "AFTER") set("after", first as { id: number } | { ts: number });
  else if (sub === "AROUND") set("around", first as { id: number } | { ts: number });
  else {
    // BETWEEN a b: exclusive; from b backwards when a is the later one.
    const a = first as { id: number } | { ts: number };
    const b = second as { id: number } | { ts: number };
    const at = (x: { id: number } | { ts: number }) => "id" in x ? x.id : x.ts;
    const backwards = at(a) > at(b);
    set("after", backwards ? b : a);
    set("before", backwards ? a : b);
    if (backwards) q.latest = true;
  }
  const about = dm ? { with: target } : { room: room!, member: true };
  client.request({ type: "history", ...about, ...q }, pending);
}

/**
 * `REDACT <target> <msgid> [:reason]` (`draft/message-redaction`): deletes
 * a kept message of a channel, or a kept DM with a nick (the sender's own).
 * An msgid that names none of the target's kept messages is
 * `UNKNOWN_MSGID`, once what the client asked before is done (a channel it
 * is not in is `INVALID_TARGET` first).
 */
export function redact(client: Client, m: IrcMessage): void {
  const [target, msgid, reason] = m.params;
  const why = reason ? { reason } : {};
  const pending: Pending = { command: "REDACT", target, msgid };
  const nick = target.startsWith("#") ? null : validNick(target);
  if (nick !== null) {
    const id = messageIdIn(msgid, conversation(client.nick, nick));
    if (id === null) return client.inOrder({ ...pending, command: "REDACT-UNKNOWN" });
    return void client.request({ type: "delete", with: nick, id, ...why }, pending);
  }
  const room = roomOf(target);
  if (room === null) {
    return fail(
      client,
      "REDACT",
      "INVALID_TARGET",
      target,
      `You cannot delete messages from ${target}: No such channel`,
    );
  }
  const id = messageIdIn(msgid, room);
  if (id === null) return client.inOrder({ ...pending, command: "REDACT-UNKNOWN" });
  client.request({ type: "delete", room, id, ...why }, pending);
}

/** A `YYYY-MM-DDThh:mm:ss.sssZ` time (the `server-time` form), in ms; `null` otherwise. */
function isoTime(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    return null;
  }
  const ts = Date.parse(value);
  return Number.isNaN(ts) ? null : ts;
}

/**
 * `MARKREAD <target> [timestamp=...]` (`draft/read-marker`): moves the read
 * marker of a channel or of the DMs with a nick (never back, and never past
 * now), or with no timestamp asks where it is. Answered with `MARKREAD`.
 */
export function markread(client: Client, m: IrcMessage): void {
  const [target, timestamp] = m.params;
  if (target === undefined || target === "") {
    return fail(client, "MARKREAD", "NEED_MORE_PARAMS", "Missing parameters");
  }
  const room = target.startsWith("#") ? roomOf(target) : null;
  const nick = target.startsWith("#") ? null : validNick(target);
  if (room === null && nick === null) {
    return fail(client, "MARKREAD", "INVALID_PARAMS", target, "Invalid target");
  }
  const about = room !== null ? { room } : { with: nick! };
  const pending = { command: "MARKREAD", target };
  if (timestamp === undefined) return void client.request({ type: "read", ...about }, pending);
  const ts = timestamp.startsWith("timestamp=") ? isoTime(timestamp.slice(10)) : null;
  if (ts === null) {
    return fail(client, "MARKREAD", "INVALID_PARAMS", timestamp, "Invalid timestamp");
  }
  client.request({ type: "read", ...about, ts: Math.min(ts, client.ctx.now()) }, pending);
}

// --- what the client is shown --------------------------------------------------------------------

/** History: a `CHATHISTORY` batch, or the replay after a join. */
export function historyReply(client: Client, event: Of<"history">, pending?: Pending): void {
  if (pending?.command === "CHATHISTORY") {
    return historyBatch(client, pending.target, event.messages, event.with);
  }
  // Clients that fetch history themselves get no replay on join.
  if (client.caps.has("draft/chathistory")) return;
  replay(client, event.messages);
}

/** A `CHATHISTORY` reply: the messages in a `chathistory` batch, with their time and msgid. */
export function historyBatch(
  client: Client,
  target: string,
  messages: ChatMessage[],
  dmWith?: string,
): void {
  const server = client.ctx.server;
  const id = `c${client.nextRef()}`;
  const shape = { ...client.shape, time: true, tags: true };
  const lines = messages.flatMap((m) => {
    const line = messageLine(m, shape);
    // A kept DM: to its recipient (the other of the two, or itself).
    if (dmWith !== undefined) line.params[0] = m.nick === client.nick ? dmWith : client.nick;
    // A channel message's reactions follow it, as the TAGMSGs that gave them.
    const all = dmWith === undefined ? [line, ...keptReactions(m, shape)] : [line];
    for (const l of all) l.tags = { ...l.tags, batch: id };
    return all;
  });
  client.write([
    { tags: {}, source: server, command: "BATCH", params: [`+${id}`, "chathistory", target] },
    ...lines,
    { tags: {}, source: server, command: "BATCH", params: [`-${id}`] },
  ]);
}

/** A join's recent history, for a client that does not fetch its own. */
function replay(client: Client, messages: ChatMessage[]): void {
  if (messages.length === 0) return;
  const shape = client.shape;
  // Each message's reactions follow it: as TAGMSGs to clients with tags, else counted in a notice.
  const lines = messages.flatMap((m) => {
    if (m.reactions === undefined) return [messageLine(m, shape)];
    if (shape.tags) return [messageLine(m, shape), ...keptReactions(m, shape)];
    const text = reactionsText({ nick: m.nick, text: quote(m.text), reactions: m.reactions });
    const notice: IrcMessage = {
      tags: shape.time ? { time: new Date(m.ts).toISOString() } : {},
      source: client.ctx.server,
      command: "NOTICE",
      params: [channel(m.room), text],
    };
    return [messageLine(m, shape), notice];
  });
  if (client.caps.has("batch")) {
    const id = `h${messages[0].id}`;
    const room = channel(messages[0].room);
    const open: IrcMessage = {
      tags: {},
      source: client.ctx.server,
      command: "BATCH",
      params: [`+${id}`, "chathistory", room],
    };
    for (const line of lines) line.tags.batch = id;
    const close: IrcMessage = {
      tags: {},
      source: client.ctx.server,
      command: "BATCH",
      params: [`-${id}`],
    };
    return client.write([open, ...lines, close]);
  }
  client.write(lines);
}

/** The start of a message's text, as the reactions digest quotes it. */
function quote(text: string): string {
  const chars = [...text];
  return chars.length > 40 ? chars.slice(0, 40).join("") + "..." : text;
}

/** `CHATHISTORY TARGETS`: a `draft/chathistory-targets` batch. */
export function targetsReply(client: Client, event: Of<"targets">): void {
  const server = client.ctx.server;
  const id = `t${client.nextRef()}`;
  client.write([
    {
      tags: {},
      source: server,
      command: "BATCH",
      params: [`+${id}`, "draft/chathistory-targets"],
    },
    ...event.targets.map((t) => ({
      tags: { batch: id },
      source: server,
      command: "CHATHISTORY",
      params: [
        "TARGETS",
        t.dm ? t.name : channel(t.name),
        new Date(t.ts).toISOString(),
      ],
    })),
    { tags: {}, source: server, command: "BATCH", params: [`-${id}`] },
  ]);
}

/** A `REDACT` of an msgid that names none of the target's kept messages. */
export function redactUnknown(client: Client, pending: Pending): void {
  // Not an msgid of this channel's kept messages; first, is the channel one it may use?
  const session = client.session!;
  if (!session.rooms.has(normalizeRoom(pending.target) ?? "") && !session.admin) {
    return fail(
      client,
      "REDACT",
      "INVALID_TARGET",
      pending.target,
      `You cannot delete messages from ${pending.target}`,
    );
  }
  fail(
    client,
    "REDACT",
    "UNKNOWN_MSGID",
    pending.target,
    pending.msgid ?? "*",
    "This message does not exist or is not kept",
  );
}

/** A read marker: asked for, or moved by another connection of its nick. */
export function readReply(client: Client, event: Of<"read">): void {
  client.write([markreadLine(client, event.with ?? channel(event.room ?? ""), event.ts)]);
}

/** `MARKREAD <target> timestamp=<time>`, or `*` for no marker. */
export function markreadLine(client: Client, target: string, ts: number | undefined): IrcMessage {
  const at = ts === undefined || ts <= 0 ? "*" : `timestamp=${new Date(ts).toISOString()}`;
  return { tags: {}, source: client.ctx.server, command: "MARKREAD", params: [target, at] };
}
