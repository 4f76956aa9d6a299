/**
 * The core's events as IRC lines. What many clients get alike (a room's
 * messages, joins, parts, quits, nick changes, modes, topics) is rendered
 * here without the recipient, once per combination of caps that shapes it
 * (`server-time`, `message-tags`); replies to one client are rendered by
 * the client itself (`client.ts`), which knows its nick and what it asked.
 *
 * @module
 */

import type { ChatMessage, ClientTags, FlagChange, ServerEvent } from "../core/types.ts";
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
 * A `msgid` for what is not kept (DMs, tags alone): derived from what it
 * is, so the sender's echo and the recipient's copy carry the same one.
 */
export function liveMsgid(from: string, at: number, what: string): string {
  let hash = 2166136261;
  for (let i = 0; i < what.length; i++) hash = Math.imul(hash ^ what.charCodeAt(i), 16777619);
  return `${from}-${at.toString(36)}-${(hash >>> 0).toString(36)}`;
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

/** A room message as a `PRIVMSG` or `NOTICE` to its channel. */
export function messageLine(m: ChatMessage, shape: Shape): IrcMessage {
  return {
    tags: {
      ...tagsFor(shape, m.ts, msgid(m), m.tags),
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
      return [{
        tags: tagsFor(shape, now),
        source: shape.server,
        command: "NOTICE",
        params: [
          channel(event.room),
          `${event.joined} joined, ${event.left} left in the last ${event.seconds} s`,
        ],
      }];
  }
  return null;
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
  return (plus.length > 0 ? "+" + plus.join("") : "") +
    (minus.length > 0 ? "-" + minus.join("") : "");
}

/** Lines as the wire wants them: each ended with CRLF. */
export function wire(messages: IrcMessage[]): string {
  let out = "";
  for (const m of messages) out += formatMessage(m) + "\r\n";
  return out;
}
