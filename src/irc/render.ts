/**
 * The core's events as IRC lines. What many clients get alike (a room's
 * messages, joins, parts, quits, nick changes, modes, topics) is rendered
 * here without the recipient, once per combination of caps that shapes it
 * (`server-time`, `message-tags`); replies to one client, which need its
 * nick and what it asked, are rendered from `replies.ts`, by topic.
 *
 * @module
 */

import type { ChatMessage, ClientTags, FlagChange } from "../core/types.ts";
import type { ServerEvent } from "../core/events.ts";
import { conversation } from "../core/direct.ts";
import { formatMessage, type IrcMessage } from "./message.ts";

/** How shared lines look for one combination of caps. */
export interface Shape {
  server: string;
  /** `server-time`: a `time` tag on every line. */
  time: boolean;
  /** `message-tags`: `msgid` on messages. */
  tags: boolean;
  /** `account-tag`: the sender's account on its messages. */
  account: boolean;
  /** `draft/message-redaction`: a deleted message as `REDACT`, not as a notice. */
  redact: boolean;
  /** The user name shown for a nick. */
  userOf(nick: string): string;
}

/**
 * The source of a user's lines: `nick!user@server`, the user name an IRC
 * client gave (the nick for others); hosts are not shown.
 */
export function userSource(nick: string, shape: Pick<Shape, "server" | "userOf">): string {
  return `${nick}!${shape.userOf(nick)}@${shape.server}`;
}

/** A room as a channel name. */
export function channel(room: string): string {
  return `#${room}`;
}

/** A message's id as its `msgid` tag: stable across doors and restarts. */
export function msgid(m: Pick<ChatMessage, "room" | "id">): string {
  return `${m.room}-${m.id}`;
}

/**
 * The id of a kept message of `room` that `value` (an `msgid`) names, or
 * `null`: another room's, a DM's, something not kept, or no id at all.
 */
export function messageIdIn(value: string, room: string): number | null {
  const dash = value.lastIndexOf("-");
  if (dash < 0 || value.slice(0, dash) !== room) return null;
  const digits = value.slice(dash + 1);
  const id = Number(digits);
  // Ids start at 1 (the core reads 0 as "the last one", which an msgid never means).
  return /^[1-9][0-9]{0,14}$/.test(digits) && Number.isSafeInteger(id) ? id : null;
}

/**
 * A `msgid` for what is not kept (DMs, tags alone): derived from what it
 * is, so the sender's echo and the recipient's copy carry the same one.
 */
export function liveMsgid(from: string, at: number, what: string): string {
  let hash = 2166136261;
  for (let i = 0; i < what.length; i++) hash = Math.imul(hash ^ what.charCodeAt(i), 16777619);
  return `${from}-${at.toString(36)}-${(hash >>> 0).toString(36)}`;
}

/** The client tag of a reply (IRCv3 `reply`, as clients send it): the `msgid` answered. */
export const REPLY = "+draft/reply";
/** The client tags of a reaction and of its removal (IRCv3 `react`), with {@link REPLY}. */
export const REACT = "+draft/react";
export const UNREACT = "+draft/unreact";
/** The client tag of a typing notice (IRCv3 `typing`). */
export const TYPING = "+typing";

/**
 * When a reaction was first rendered here, by what it is: its `TAGMSG`s get
 * one `msgid` (the echo, each member's copy, each caps profile), yet a
 * reaction taken back and given again gets a new one. The core's `react`
 * event has no time of its own.
 */
const reactionTimes = new Map<string, number>();
/** How long a reaction's render time is reused: its copies are all rendered at once. */
const REACTION_TIME_MS = 1000;

function reactionTime(key: string, now: number): number {
  const seen = reactionTimes.get(key);
  if (seen !== undefined && now - seen < REACTION_TIME_MS) return seen;
  if (reactionTimes.size >= 1000) {
    for (const [k, at] of reactionTimes) if (now - at >= REACTION_TIME_MS) reactionTimes.delete(k);
    if (reactionTimes.size >= 1000) reactionTimes.clear();
  }
  reactionTimes.set(key, now);
  return now;
}

/** A reaction to message `id` of `room` (or its removal) as the reactor's `TAGMSG`. */
export function reactionLine(
  r: { room: string; id: number; nick: string; emoji: string; on: boolean },
  shape: Shape,
  now: number,
  /** A kept reaction (history): its message's time, for a stable `msgid`. */
  at?: number,
): IrcMessage {
  const what = `${r.on ? REACT : UNREACT}=${r.emoji} ${msgid(r)}`;
  const time = at ?? reactionTime(`${r.nick} ${what}`, now);
  return {
    tags: {
      ...tagsFor(shape, time, liveMsgid(r.nick, time, what)),
      [r.on ? REACT : UNREACT]: r.emoji,
      [REPLY]: msgid(r),
    },
    source: userSource(r.nick, shape),
    command: "TAGMSG",
    params: [channel(r.room)],
  };
}

/** The reactions of a kept message, one `TAGMSG` per nick and emoji (history, for tag clients). */
export function keptReactions(m: ChatMessage, shape: Shape): IrcMessage[] {
  const lines: IrcMessage[] = [];
  for (const [emoji, nicks] of Object.entries(m.reactions ?? {})) {
    for (const nick of nicks) {
      lines.push(reactionLine({ room: m.room, id: m.id, nick, emoji, on: true }, shape, 0, m.ts));
    }
  }
  return lines;
}

/** A message's reactions counted: `👍 2, 🎉 1` (`none` when all were taken back). */
export function reactionCounts(reactions: Record<string, string[]>): string {
  const counts = Object.entries(reactions).filter(([, nicks]) => nicks.length > 0)
    .map(([emoji, nicks]) => `${emoji} ${nicks.length}`);
  return counts.length === 0 ? "none" : counts.join(", ");
}

/** The digest of a message's reactions, for clients without tags: `reactions to bob's "hi": 👍 2`. */
export function reactionsText(
  r: { nick: string; text: string; reactions: Record<string, string[]> },
) {
  return `reactions to ${r.nick}'s "${r.text}": ${reactionCounts(r.reactions)}`;
}

/** A typing notice as the typist's `TAGMSG` to `target` (a channel, or the recipient's nick). */
export function typingLine(
  nick: string,
  target: string,
  state: string,
  shape: Shape,
  now: number,
): IrcMessage {
  return {
    tags: { ...tagsFor(shape, now, liveMsgid(nick, now, `${TYPING}=${state}`)), [TYPING]: state },
    source: userSource(nick, shape),
    command: "TAGMSG",
    params: [target],
  };
}

/** The CTCP ACTION form of `/me`. */
export function action(text: string): string {
  return `\x01ACTION ${text}\x01`;
}

function tagsFor(
  shape: Shape,
  at: number,
  id?: string,
  client?: ClientTags,
): Record<string, string> {
  const tags: Record<string, string> = {};
  if (shape.time) tags.time = new Date(at).toISOString();
  if (shape.tags && id !== undefined) tags.msgid = id;
  if (shape.tags && client !== undefined) Object.assign(tags, client);
  return tags;
}

/** A room message as a `PRIVMSG` or `NOTICE` to its channel (a reply with `+draft/reply`). */
export function messageLine(m: ChatMessage, shape: Shape): IrcMessage {
  return {
    tags: {
      ...tagsFor(shape, m.ts, msgid(m), m.tags),
      ...(shape.tags && m.replyTo !== undefined ? { [REPLY]: msgid({ ...m, id: m.replyTo }) } : {}),
      ...(shape.account && m.account !== undefined ? { account: m.account } : {}),
    },
    source: userSource(m.nick, shape),
    command: m.kind === "notice" ? "NOTICE" : "PRIVMSG",
    params: [channel(m.room), m.kind === "action" ? action(m.text) : m.text],
  };
}

/**
 * A room event as the lines every member with these caps gets; `null` for
 * events that are not a room's (replies, which each client renders itself).
 */
export function sharedLines(event: ServerEvent, shape: Shape, now: number): IrcMessage[] | null {
  const user = (nick: string, command: string, params: string[]): IrcMessage => ({
    tags: tagsFor(shape, now),
    source: userSource(nick, shape),
    command,
    params,
  });
  switch (event.type) {
    case "message":
      return [messageLine(event.message, shape)];
    case "joined":
      return [user(event.nick, "JOIN", [channel(event.room)])];
    case "tagmsg":
      // Tags alone mean nothing to a client that does not take tags.
      if (!shape.tags || event.room === undefined) return event.room === undefined ? null : [];
      return [{
        tags: tagsFor(
          shape,
          event.ts,
          liveMsgid(event.from, event.ts, JSON.stringify(event.tags)),
          event.tags,
        ),
        source: userSource(event.from, shape),
        command: "TAGMSG",
        params: [channel(event.room)],
      }];
    case "left": {
      const r = event.reason;
      const room = channel(event.room);
      switch (r.kind) {
        case "part":
          return [user(event.nick, "PART", r.message === undefined ? [room] : [room, r.message])];
        case "quit":
          return [
            user(event.nick, "QUIT", [r.message === undefined ? "Quit" : `Quit: ${r.message}`]),
          ];
        case "kick":
          return [user(r.by, "KICK", [room, event.nick, r.message ?? r.by])];
        case "ban":
          return [
            user(r.by, "MODE", [room, "+b", `${event.nick}!*@*`]),
            user(r.by, "KICK", [room, event.nick, r.message ?? r.by]),
          ];
      }
      break;
    }
    case "nick":
      // The old nick is gone from the registry already: its user name is the new one's.
      return [{
        ...user(event.old, "NICK", [event.nick]),
        source: `${event.old}!${shape.userOf(event.nick)}@${shape.server}`,
      }];
    case "presence":
      return [user(event.nick, "AWAY", event.away === null ? [] : [event.away])];
    case "topic":
      // Only a change is the room's; a topic shown on join or asked for is a reply.
      if (!event.changed) return null;
      return [user(event.by ?? shape.server, "TOPIC", [channel(event.room), event.topic ?? ""])];
    case "moderation": {
      const room = channel(event.room);
      const by = event.by;
      switch (event.action) {
        case "op":
          return [user(by, "MODE", [room, "+o", event.nick ?? ""])];
        case "deop":
          return [user(by, "MODE", [room, "-o", event.nick ?? ""])];
        case "ban":
          return [user(by, "MODE", [room, "+b", `${event.nick}!*@*`])];
        case "unban":
          return [user(by, "MODE", [room, "-b", `${event.nick}!*@*`])];
        case "lock":
          return [user(by, "MODE", [room, "+k", "*"])];
        case "unlock":
          return [user(by, "MODE", [room, "-k", "*"])];
        case "voice":
          return [user(by, "MODE", [room, "+v", event.nick ?? ""])];
        case "devoice":
          return [user(by, "MODE", [room, "-v", event.nick ?? ""])];
        case "flags":
          return [user(by, "MODE", [room, modeChange(event.flags ?? {})])];
      }
      break;
    }
    case "summary":
      return [
        serverNotice(
          event.room,
          `${event.joined} joined, ${event.left} left in the last ${event.seconds} s`,
        ),
      ];
    // Message semantics: each with its IRCv3 form where there is one, else a notice.
    case "edit":
      // No IRCv3 edit is ratified: every client gets the new text as a notice.
      return [serverNotice(event.room, `${event.nick} edited a message: ${event.text}`)];
    case "delete": {
      if (event.room === undefined) {
        // A kept DM, named as its PRIVMSG was: to the nick it went to.
        const to = event.to!;
        const id = msgid({ room: conversation(event.nick, to), id: event.id });
        const reason = event.reason ? [event.reason] : [];
        return shape.redact
          ? [user(event.nick, "REDACT", [to, id, ...reason])]
          : [user(event.nick, "NOTICE", [
            to,
            `(deleted a message${reason.map((r) => `: ${r}`).join("")})`,
          ])];
      }
      const id = msgid({ room: event.room, id: event.id });
      if (shape.redact) {
        const params = [channel(event.room), id, ...(event.reason ? [event.reason] : [])];
        return [user(event.nick, "REDACT", params)];
      }
      const why = event.reason ? `: ${event.reason}` : "";
      return [serverNotice(event.room, `${event.nick} deleted a message${why}`)];
    }
    case "react":
      return shape.tags ? [reactionLine(event, shape, now)] : [];
    case "reactions":
      // Clients with tags saw each reaction; the others get the counts.
      return shape.tags ? [] : [serverNotice(event.room, reactionsText(event))];
    case "typing":
      // To a nick: the recipient's own (rendered with its nick).
      if (event.room === undefined) return null;
      return shape.tags
        ? [typingLine(event.nick, channel(event.room), event.state, shape, now)]
        : [];
  }
  return null;

  function serverNotice(room: string, text: string): IrcMessage {
    return {
      tags: tagsFor(shape, now),
      source: shape.server,
      command: "NOTICE",
      params: [channel(room), text],
    };
  }
}

/** A change of a room's switches as mode letters: `+si-t`. */
export function modeChange(flags: FlagChange): string {
  const plus: string[] = [];
  const minus: string[] = [];
  if (flags.inviteOnly !== undefined) (flags.inviteOnly ? plus : minus).push("i");
  if (flags.secret !== undefined) (flags.secret ? plus : minus).push("s");
  // -t is the open topic: the letter says the opposite of the switch.
  if (flags.topicOpen !== undefined) (flags.topicOpen ? minus : plus).push("t");
  if (flags.outsiders !== undefined) (flags.outsiders ? minus : plus).push("n");
  if (flags.moderated !== undefined) (flags.moderated ? plus : minus).push("m");
  return (plus.length > 0 ? "+" + plus.join("") : "") +
    (minus.length > 0 ? "-" + minus.join("") : "");
}

/** Lines as the wire wants them: each ended with CRLF. */
export function wire(messages: IrcMessage[]): string {
  let out = "";
  for (const m of messages) out += formatMessage(m) + "\r\n";
  return out;
}
