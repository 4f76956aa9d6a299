/**
 * Chat on IRC: `PRIVMSG` and `NOTICE` to channels (room messages, `/me` as
 * CTCP ACTION, replies with `+draft/reply`) and to nicks (DMs), and
 * `TAGMSG` (client tags alone: reactions, typing notices). Then what the
 * client is shown of them: DMs, tags, and its own lines echoed with
 * `echo-message`. Room messages everyone gets alike are `render.ts`'s;
 * deleting a kept message (`REDACT`) is `history.ts`'s.
 *
 * @module
 */

import type { ClientTags, TypingState } from "../core/types.ts";
import type { IrcClient, Pending } from "./client.ts";
import { commaList, roomOf } from "./commands.ts";
import type { IrcMessage } from "./message.ts";
import {
  channel,
  liveMsgid,
  messageIdIn,
  messageLine,
  REACT,
  reactionLine,
  REPLY,
  TYPING,
  typingLine,
  UNREACT,
  userSource,
} from "./render.ts";
import type { Of } from "./replies.ts";

type Client = IrcClient<unknown>;

// --- what the client asks ------------------------------------------------------------------------

/** The text of a CTCP ACTION (`\x01ACTION waves\x01`), or `null`. */
function actionText(text: string): string | null {
  if (!text.startsWith("\x01ACTION ")) return null;
  return text.endsWith("\x01") ? text.slice(8, -1) : text.slice(8);
}

/** `PRIVMSG` and `NOTICE`: to channels (room messages) or nicks (DMs). */
export function message(client: Client, m: IrcMessage): void {
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
export function tagmsg(client: Client, m: IrcMessage): void {
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

// --- what the client is shown --------------------------------------------------------------------

/** Its own message (with its ref): shown with `echo-message` only. */
export function ownMessage(client: Client, event: Of<"message">): void {
  if (client.caps.has("echo-message")) client.write([messageLine(event.message, client.shape)]);
}

/** A DM: to this client, or its own (echoed with `echo-message`). */
export function dm(client: Client, event: Of<"dm">, pending?: Pending): void {
  const command = event.notice ? "NOTICE" : "PRIVMSG";
  const tags: Record<string, string> = {};
  if (client.caps.has("server-time")) tags.time = new Date(event.ts).toISOString();
  if (client.caps.has("message-tags")) {
    tags.msgid = event.conversation !== undefined && event.id !== undefined
      ? `${event.conversation}-${event.id}`
      : liveMsgid(event.from, event.ts, event.text);
    if (event.tags !== undefined) Object.assign(tags, event.tags);
  }
  // Its own request's copy is an echo; one sent from another connection of its nick is shown.
  const echo = client.caps.has("echo-message") || pending === undefined;
  const own = event.from === client.nick && event.to !== client.nick;
  if (own && !echo) return;
  const line: IrcMessage = {
    tags,
    source: userSource(event.from, client.shape),
    command,
    params: [own ? event.to : client.nick, event.text],
  };
  // To itself with echo-message: the echo (the request's reply) and the message it receives.
  if (event.from === event.to && echo && pending !== undefined) {
    client.writeUnlabeled([{ ...line, tags: { ...tags } }]);
  }
  client.write([line]);
}

/** Tags alone, to this client's nick, or its own (echoed) to a room or nick. */
export function tagmsgReply(client: Client, event: Of<"tagmsg">, pending?: Pending): void {
  if (!client.caps.has("message-tags")) return;
  // Its own request's copy is an echo; one sent from another connection of its nick is shown.
  const own = event.from === client.nick;
  if (own && pending !== undefined && !client.caps.has("echo-message")) return;
  const tags: Record<string, string> = { ...event.tags };
  tags.msgid = liveMsgid(event.from, event.ts, JSON.stringify(event.tags));
  if (client.caps.has("server-time")) tags.time = new Date(event.ts).toISOString();
  const target = event.room !== undefined ? channel(event.room) : own ? event.to! : client.nick;
  const line: IrcMessage = {
    tags,
    source: userSource(event.from, client.shape),
    command: "TAGMSG",
    params: [target],
  };
  if (event.to === event.from && pending !== undefined) {
    client.writeUnlabeled([{ ...line, tags: { ...tags } }]);
  }
  client.write([line]);
}

/** Its own reaction (with its ref): echoed with `echo-message`, as its `TAGMSG` would be. */
export function ownReaction(client: Client, event: Of<"react">): void {
  if (client.caps.has("echo-message") && client.caps.has("message-tags")) {
    client.write([reactionLine(event, client.shape, client.ctx.now())]);
  }
}

/** Typing to this client's nick (room typing is shared); tags only. */
export function typingReply(client: Client, event: Of<"typing">): void {
  if (!client.caps.has("message-tags")) return;
  const target = event.room !== undefined ? channel(event.room) : client.nick;
  client.write([
    typingLine(event.nick, target, event.state, client.shape, client.ctx.now()),
  ]);
}

/** The typing notice went if no error took its request: echoed with `echo-message`. */
export function typingSent(client: Client, pending: Pending): void {
  const typing = pending.typing!;
  if (client.settle(typing.ref) === undefined || !client.caps.has("echo-message")) return;
  const line = typingLine(
    client.nick,
    pending.target,
    typing.state,
    client.shape,
    client.ctx.now(),
  );
  client.write([line]);
}
