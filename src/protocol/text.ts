/**
 * The text-line codec: one line -> one command (parsed by `text_commands.ts`),
 * one {@link ServerEvent} -> its lines (rendered here). Pure: no I/O. Used by
 * TCP clients and by WebSocket clients in text format alike.
 *
 * @module
 */

import { stripControls } from "../core/sanitize.ts";
import type { ChatMessage, FlagChange, ModerationAction } from "../core/types.ts";
import type { ServerEvent } from "../core/events.ts";
import { WHO_PAGE_SIZE } from "../core/types.ts";
import type { Codec } from "./codec.ts";
import { HELP, parseTextLine } from "./text_commands.ts";

/** What an operator did, after its nick: `* alice made bob an operator of dev`. */
const MODERATION: Record<ModerationAction, (nick: string, room: string) => string> = {
  op: (nick, room) => `made ${nick} an operator of ${room}`,
  deop: (nick, room) => `removed ${nick} as an operator of ${room}`,
  ban: (nick, room) => `banned ${nick} from ${room}`,
  unban: (nick, room) => `lifted the ban on ${nick} in ${room}`,
  lock: (_, room) => `locked ${room}`,
  unlock: (_, room) => `unlocked ${room}`,
  voice: (nick, room) => `gave ${nick} a voice in ${room}`,
  devoice: (nick, room) => `took ${nick}'s voice in ${room}`,
  flags: (_, room) => `changed the settings of ${room}`,
};

/** A change of a room's switches, in words: `made dev secret, invite-only`. */
function flagWords(flags: FlagChange): string {
  const words: string[] = [];
  if (flags.secret !== undefined) words.push(flags.secret ? "secret" : "listed");
  if (flags.inviteOnly !== undefined) words.push(flags.inviteOnly ? "invite-only" : "open to all");
  if (flags.topicOpen !== undefined) {
    words.push(flags.topicOpen ? "topic open to members" : "topic for operators");
  }
  if (flags.outsiders !== undefined) {
    words.push(flags.outsiders ? "open to messages from outside" : "for members' messages only");
  }
  if (flags.moderated !== undefined) {
    words.push(flags.moderated ? "moderated" : "open to every member's messages");
  }
  return words.join(", ");
}

/** `1 member`, `2 members`: a count with its noun, as the chat (and its log lines) write it. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function messageLine(m: ChatMessage): string {
  // A reply names what it answers; history adds edits and reactions after the text.
  const text = m.replyTo === undefined ? m.text : `(re #${m.replyTo}) ${m.text}`;
  const after = m.edited === undefined && m.reactions === undefined ? "" : extras(m);
  switch (m.kind) {
    case "action":
      return `[${m.room}] * ${m.nick} ${text}${after}\n`;
    case "notice":
      return `[${m.room}] -${m.nick}- ${text}${after}\n`;
    default:
      return `[${m.room}] ${m.nick}: ${text}${after}\n`;
  }
}

/** ` (edited) [👍 2, 🎉 1]`: what happened to a kept message since it was said. */
function extras(m: ChatMessage): string {
  let out = m.edited === undefined ? "" : " (edited)";
  if (m.reactions !== undefined) out += ` [${reactionCounts(m.reactions)}]`;
  return out;
}

function reactionCounts(reactions: Record<string, string[]>): string {
  return Object.entries(reactions).map(([emoji, nicks]) => `${emoji} ${nicks.length}`).join(", ");
}

/** A time as nc users read it: `2026-12-05 14:02 UTC`. */
function when(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

/** A message with its id, as `/ids` and `/search` list it. */
function idLine(m: ChatMessage, withRoom: boolean): string {
  const where = withRoom ? `[${m.room}] ` : "";
  return `* #${m.id} ${where}${when(m.ts).slice(11, 16)} ${
    messageLine(m).slice(m.room.length + 3)
  }`;
}

/** Renders one event as its text lines, each ending in `\n`. */
export function formatEvent(event: ServerEvent): string {
  switch (event.type) {
    case "message":
      return messageLine(event.message);
    case "dm":
      return `[dm] ${event.from} -> ${event.to}: ${event.text}\n`;
    case "tagmsg":
    case "presence":
      return ""; // tags alone and others' away changes have no line of their own here
    case "welcome":
      return event.password
        ? `* welcome to ${event.server}, you are ${event.nick};` +
          ` this server needs a password: /pass <password>\n`
        : `* welcome to ${event.server}, you are ${event.nick} in ${event.room}` +
          ` (/nick <name> to change it, /help for commands)\n`;
    case "joined": {
      const line = `* ${event.nick} joined ${event.room}\n`;
      if (!event.read || !event.unread) return line;
      const since = event.readAt === undefined ? "" : ` since ${when(event.readAt)}`;
      return line + `* ${event.unread} unread in ${event.room}${since}\n`;
    }
    case "edit":
      return `* ${event.nick} edited #${event.id} in ${event.room}: ${event.text}\n`;
    case "delete":
      if (event.room === undefined) {
        return `* ${event.nick} deleted direct message #${event.id} to ${event.to}` +
          `${event.reason === undefined ? "" : ` (${event.reason})`}\n`;
      }
      return `* ${event.nick} deleted #${event.id} in ${event.room}` +
        `${event.reason === undefined ? "" : ` (${event.reason})`}\n`;
    case "react":
    case "typing":
      return ""; // reactions come summed up ("reactions"); typing is not shown here
    case "reactions": {
      const counts = reactionCounts(event.reactions);
      return `* reactions to #${event.id} in ${event.room} (${event.nick}: ${event.text}): ` +
        `${counts === "" ? "none now" : counts}\n`;
    }
    case "read":
      return event.id === 0
        ? `* nothing read yet in ${event.room ?? event.with}\n`
        : `* read up to #${event.id} in ${event.room ?? event.with}\n`;
    case "search":
      return event.results.length === 0
        ? "* search: nothing found\n"
        : `* search: ${count(event.results.length, "result")}, newest first\n` +
          event.results.map((m) => idLine(m, true)).join("");
    case "left": {
      const r = event.reason;
      if (r.kind === "kick" || r.kind === "ban") {
        const done = r.kind === "kick" ? "kicked" : "banned";
        const message = r.message === undefined ? "" : ` (${r.message})`;
        return `* ${event.nick} was ${done} from ${event.room} by ${r.by}${message}\n`;
      }
      const why = r.kind === "part"
        ? (r.message === undefined ? "" : ` (${r.message})`)
        : r.message === undefined
        ? " (quit)"
        : ` (quit: ${r.message})`;
      return `* ${event.nick} left ${event.room}${why}\n`;
    }
    case "nick":
      return event.old === event.nick
        ? `* you are already known as ${event.nick}\n`
        : `* ${event.old} is now known as ${event.nick}\n`;
    case "summary":
      return `* ${event.joined} joined, ${event.left} left ${event.room} in the last ${event.seconds} s\n`;
    case "current":
      return event.room === null
        ? "* you are in no room now (try /join <room>)\n"
        : `* now talking in ${event.room}\n`;
    case "rooms":
      return event.rooms.length === 0
        ? "* no rooms\n"
        : event.rooms.map((r) =>
          `* ${r.room} (${count(r.members, "member")})${r.topic ? `: ${r.topic}` : ""}\n`
        ).join("");
    case "who": {
      if (event.total === undefined) {
        return `* members of ${event.room}: ${event.members.join(", ")}\n`;
      }
      const from = (event.offset ?? 0) + 1;
      const to = from + event.members.length - 1;
      if (event.members.length === 0) {
        return `* members of ${event.room}: none past ${event.total}\n`;
      }
      const next = Math.floor(to / WHO_PAGE_SIZE) + 1;
      const more = to < event.total ? `; /who ${event.room} ${next} for more` : "";
      return `* members of ${event.room} (${from}-${to} of ${event.total}${more}): ` +
        `${event.members.join(", ")}\n`;
    }
    case "history":
      return `* history ${event.room} begin\n` +
        (event.ids ? event.messages.map((m) => idLine(m, false)) : event.messages.map(messageLine))
          .join("") +
        `* history ${event.room} end\n`;
    case "help":
      return HELP.map((l) => `* ${l}\n`).join("");
    case "kept":
      return `* rooms kept for you: ${
        event.rooms.length === 0 ? "none" : event.rooms.join(", ")
      }\n`;
    case "bye":
      return "* bye\n";
    // Resume tokens are for the web client (JSON); this door never asks for them.
    case "token":
      return `* sign-in token for ${event.nick}: ${event.token}\n`;
    case "logout":
      return `* ${count(event.revoked, "sign-in token")} revoked\n`;
    case "notice":
      return `* ${event.text}\n`;
    case "moderation":
      if (event.action === "flags") {
        return `* ${event.by} made ${event.room} ${flagWords(event.flags ?? {})}\n`;
      }
      return `* ${event.by} ${MODERATION[event.action](event.nick ?? "", event.room)}\n`;
    case "invited":
      return `* ${event.by} invited ${event.nick} to ${event.room} (/join ${event.room})\n`;
    case "topic":
      if (event.changed) {
        return event.topic === null
          ? `* ${event.by} cleared the topic of ${event.room}\n`
          : `* ${event.by} set the topic of ${event.room}: ${event.topic}\n`;
      }
      return event.topic === null
        ? `* no topic in ${event.room}\n`
        : `* topic of ${event.room}: ${event.topic} (set by ${event.by})\n`;
    case "stats": {
      const by = Object.entries(event.connections).map(([t, n]) => `${t} ${n}`).join(", ");
      const total = Object.values(event.connections).reduce((a, b) => a + b, 0);
      return `* stats: ${count(total, "connection")} (${by}), ${
        count(event.sessions, "client")
      }, ` +
        `${count(event.rooms, "room")}, ${count(event.history, "message")} kept, ` +
        `up ${event.uptimeSeconds} s\n` +
        `* stats: ${event.messagesPerSecond.toFixed(1)} messages/s in, ` +
        `${event.eventsPerSecond.toFixed(1)} events/s out over the last ${event.seconds} s ` +
        `(${event.messagesIn} and ${event.eventsOut} since start)\n`;
    }
    case "shutdown":
      return "* server shutting down\n";
    case "away":
      return event.text === null
        ? `* ${event.nick} is back\n`
        : `* ${event.nick} is away: ${event.text}\n`;
    case "whois": {
      const parts = [event.rooms.length > 0 ? `in ${event.rooms.join(", ")}` : "in no room here"];
      if (event.away !== undefined) parts.push(`away: ${event.away}`);
      if (event.registered) parts.push("registered");
      if (event.admin) parts.push("server operator");
      return `* ${event.nick}: ${parts.join("; ")}\n`;
    }
    case "ison":
      return event.nicks.length === 0
        ? "* none of them is online\n"
        : `* online: ${event.nicks.join(", ")}\n`;
    case "bans":
      return event.bans.length === 0
        ? `* nobody is banned from ${event.room}\n`
        : `* banned from ${event.room}: ${event.bans.join(", ")}\n`;
    case "targets":
      return event.targets.length === 0
        ? "* no conversations in that time\n"
        : event.targets.map((t) =>
          `* ${t.dm ? t.name : `[${t.name}]`} ${new Date(t.ts).toISOString()}\n`
        )
          .join("");
    case "modes":
      return `* ${event.room} is ${event.locked ? "locked" : "open"}\n`;
    case "error":
      // Error texts may quote the client's own input: never echo controls.
      return `! ${stripControls(event.message)}\n`;
  }
}

const utf8 = new TextEncoder();

/**
 * {@link formatEvent} as UTF-8 bytes, encoded anew on every call: a door that
 * sends one event to many clients encodes it once through a `Broadcast`.
 */
export function encodeEvent(event: ServerEvent): Uint8Array {
  return utf8.encode(formatEvent(event));
}

/**
 * The text format as a {@link Codec}: a line is a command (plain text says
 * it in the current room), an event is its lines as {@link formatEvent}
 * renders them.
 *
 * @example A line in, an event out
 * ```ts
 * import { textCodec } from "./text.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(textCodec.decode("/join dev"), { type: "join", room: "dev" });
 * assert.equal(textCodec.encode({ type: "joined", room: "dev", nick: "bob" }), "* bob joined dev\n");
 * ```
 */
export const textCodec: Codec = Object.freeze({
  name: "text",
  decode: parseTextLine,
  encode: formatEvent,
});
