/**
 * What an IRC client's lines ask for once registered (registration is
 * `registration.ts`): the core's requests in IRC's words.
 * Replies are rendered in `replies.ts`, from the request's {@link Pending}.
 *
 * @module
 */

import { normalizeRoom, validNick } from "../core/names.ts";
import type { ClientTags, TypingState } from "../core/types.ts";
import type { IrcClient, Pending } from "./client.ts";
import type { IrcMessage } from "./message.ts";
import { messageIdIn, REACT, REPLY, TYPING, UNREACT } from "./render.ts";
import { chathistory, markread, redact } from "./message_commands.ts";
import { invite, join, kick, mode, part, topic } from "./channels.ts";
import { ison, listRooms, names, userhost, who, whois, whowas } from "./queries.ts";
import { cap, lusers } from "./registration.ts";

type Client = IrcClient<unknown>;

/** Lines after registration. */
export function afterRegistration(client: Client, m: IrcMessage): void {
  const handler = COMMANDS[m.command];
  if (handler === undefined) return client.numeric("421", m.command, "Unknown command");
  const need = MIN_PARAMS[m.command] ?? 0;
  if (m.params.length < need) return client.numeric("461", m.command, "Not enough parameters");
  handler(client, m);
}

/** Parameters each command needs at least (`461` otherwise). */
const MIN_PARAMS: Record<string, number> = {
  JOIN: 1,
  PART: 1,
  NICK: 1,
  TOPIC: 1,
  KICK: 2,
  MODE: 1,
  ISON: 1,
  USERHOST: 1,
  OPER: 2,
  INVITE: 2,
  PING: 1,
  PRIVMSG: 0,
  NOTICE: 0,
  TAGMSG: 1,
  CHATHISTORY: 1,
  REDACT: 2,
};

/** Splits `#a,#b` lists. */
export function commaList(param: string | undefined): string[] {
  return (param ?? "").split(",").filter((t) => t !== "");
}

/** A channel name to a room, or `null` (not a channel, or not a valid name). */
export function roomOf(target: string): string | null {
  return target.startsWith("#") ? normalizeRoom(target) : null;
}

/** The text of a CTCP ACTION (`\x01ACTION waves\x01`), or `null`. */
function actionText(text: string): string | null {
  if (!text.startsWith("\x01ACTION ")) return null;
  return text.endsWith("\x01") ? text.slice(8, -1) : text.slice(8);
}

/** `PRIVMSG` and `NOTICE`: to channels (room messages) or nicks (DMs). */
function message(client: Client, m: IrcMessage): void {
  const notice = m.command === "NOTICE";
  const targets = commaList(m.params[0]);
  if (targets.length === 0) {
    if (!notice) client.numeric("411", `No recipient given (${m.command})`);
    return;
  }
  const text = m.params[1] ?? "";
  if (text === "") {
    if (!notice) client.numeric("412", "No text to send");
    return;
  }
  const act = actionText(text);
  // Other CTCP (VERSION, PING...) is not relayed: clients would answer with their details.
  if (act === null && text.startsWith("\x01")) return;
  const body = act ?? text;
  const tags = clientTagsOf(client, m);
  for (const target of targets) {
    const pending = { command: m.command, target };
    const bytes = new TextEncoder().encode(body).length;
    if (target.startsWith("#")) {
      const room = roomOf(target);
      if (room === null) {
        if (!notice) client.numeric("403", target, "No such channel");
        continue;
      }
      const type = act !== null ? "me" : notice ? "notice" : "say";
      if (type === "say") {
        // A reply to a kept message of the room: the core checks it is there, and keeps the link.
        const reply = replyIn(tags.tags, room);
        if (reply !== null) {
          const { id, msgid, rest } = reply;
          const command = { type: "say" as const, text: body, room, replyTo: id, ...rest };
          client.metered(command, bytes, { ...pending, msgid });
          continue;
        }
      }
      client.metered({ type, text: body, room, ...tags }, bytes, pending);
    } else {
      const dm = act !== null ? `* ${client.nick} ${body}` : body;
      client.metered({ type: "msg", to: target, text: dm, notice, ...tags }, bytes, pending);
    }
  }
}

/** The client-only tags (`+name`) a client with `message-tags` sent, to relay. */
function clientTagsOf(client: Client, m: IrcMessage): { tags?: Record<string, string> } {
  if (!client.caps.has("message-tags")) return {};
  const tags = Object.fromEntries(Object.entries(m.tags).filter(([name]) => name.startsWith("+")));
  return Object.keys(tags).length === 0 ? {} : { tags };
}

/**
 * The kept message of `room` a message answers (`+draft/reply`, or the
 * ratified `+reply`), with the client tags left to relay; `null` when the
 * tag names none of the room's kept messages (it is then relayed as it is).
 */
function replyIn(
  tags: ClientTags | undefined,
  room: string,
): { id: number; msgid: string; rest: { tags?: ClientTags } } | null {
  const msgid = tags?.[REPLY] ?? tags?.["+reply"];
  if (msgid === undefined) return null;
  const id = messageIdIn(msgid, room);
  if (id === null) return null;
  // The link is the message's own now (its `+draft/reply`, in history too).
  const rest = Object.fromEntries(Object.entries(tags!).filter(([name]) => name !== REPLY));
  return { id, msgid, rest: Object.keys(rest).length === 0 ? {} : { tags: rest } };
}

/** A reaction (`+draft/react` or `+draft/unreact`, with `+draft/reply`) to a kept message of `room`. */
function reactionIn(
  tags: ClientTags,
  room: string,
): { on: boolean; emoji: string; id: number; msgid: string } | null {
  const on = tags[REACT];
  const off = tags[UNREACT];
  // Both at once is no reaction (the spec forbids it): relayed as it is.
  if ((on === undefined) === (off === undefined)) return null;
  const reply = replyIn(tags, room);
  if (reply === null) return null;
  return { on: on !== undefined, emoji: on ?? off!, id: reply.id, msgid: reply.msgid };
}

const TYPING_STATES = new Set<string>(["active", "paused", "done"]);

/** `TAGMSG`: client tags alone, to channels or nicks (clients with `message-tags` only). */
function tagmsg(client: Client, m: IrcMessage): void {
  const { tags } = clientTagsOf(client, m);
  if (tags === undefined) return;
  for (const target of commaList(m.params[0])) {
    const pending = { command: "TAGMSG", target };
    const room = target.startsWith("#") ? roomOf(target) : null;
    if (target.startsWith("#") && room === null) continue;
    const reaction = room === null ? null : reactionIn(tags, room);
    if (reaction !== null) {
      const { on, emoji, id, msgid } = reaction;
      client.metered({ type: on ? "react" : "unreact", room: room!, id, emoji }, 0, {
        ...pending,
        msgid,
      });
      continue;
    }
    const state = tags[TYPING];
    if (state !== undefined && TYPING_STATES.has(state)) {
      typing(client, room === null ? { to: target } : { room }, state as TypingState, pending);
      continue;
    }
    client.metered(
      room === null ? { type: "tagmsg", to: target, tags } : { type: "tagmsg", room, tags },
      0,
      pending,
    );
  }
}

/**
 * A typing notice (`+typing`). Its success has no reply, so a marker
 * follows it in the client's queue: if no error came first, it went (and
 * is echoed with `echo-message`). Too many notices are dropped in silence.
 */
function typing(
  client: Client,
  about: { room: string } | { to: string },
  state: TypingState,
  pending: Pending,
): void {
  const ref = client.nextRef();
  client.expect(ref, pending);
  client.request({ type: "typing", ...about, state }, undefined, ref);
  client.inOrder({ command: "TYPING-SENT", target: pending.target, typing: { ref, state } });
}

/** A standard reply: `FAIL <command> <code> [context...] :text`. */
export function fail(client: Client, command: string, code: string, ...params: string[]): void {
  client.write([{
    tags: {},
    source: client.ctx.server,
    command: "FAIL",
    params: [command, code, ...params],
  }]);
}

const COMMANDS: Record<string, (client: Client, m: IrcMessage) => void> = {
  CHATHISTORY: chathistory,
  REDACT: redact,
  MARKREAD: markread,
  PRIVMSG: message,
  NOTICE: message,
  TAGMSG: tagmsg,
  JOIN: join,
  PART: part,
  TOPIC: topic,
  KICK: kick,
  MODE: mode,
  NAMES: names,
  WHO: who,
  CAP: cap,
  NICK: (client, m) => {
    const nick = validNick(m.params[0]);
    if (nick === null) return client.numeric("432", m.params[0], "Erroneous nickname");
    client.request({ type: "nick", nick }, { command: "NICK", target: nick });
  },
  INVITE: invite,
  WHOIS: whois,
  LIST: listRooms,
  AWAY: (client, m) => {
    const text = m.params[0];
    client.request(text ? { type: "away", text } : { type: "away" }, {
      command: "AWAY",
      target: "",
    });
  },
  ISON: ison,
  USERHOST: userhost,
  OPER: (client, m) =>
    void client.request({ type: "admin", password: m.params[1] }, { command: "OPER", target: "" }),
  REHASH: (client) => void client.request({ type: "rehash" }, { command: "REHASH", target: "" }),
  LUSERS: (client) => client.write(lusers(client)),
  WHOWAS: whowas,
  MOTD: (client) => client.numeric("422", "MOTD File is missing"),
  PING: (client, m) => client.inOrder({ command: "PING", target: m.params[0] }),
  PONG: () => {},
  QUIT: (client, m) => {
    const reason = m.params[0];
    client.request({ type: "quit", ...(reason ? { reason } : {}) }, {
      command: "QUIT",
      target: reason ?? "",
    });
  },
  USER: (client) => client.numeric("462", "You may not reregister"),
  PASS: (client) => client.numeric("462", "You may not reregister"),
  AUTHENTICATE: (client) => client.numeric("907", "You have already authenticated"),
};
