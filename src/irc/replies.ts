/**
 * The core's replies as an IRC server's numerics: each rendered from what
 * the client asked ({@link Pending}: the IRC command and its target), since
 * the same core error is `442` after a `PART` and `404` after a `PRIVMSG`.
 * Events nobody asked for (a topic shown on join, a DM, server notices) are
 * rendered here too.
 *
 * @module
 */

import { normalizeRoom } from "../core/names.ts";
import type { ChatMessage, ServerEvent } from "../core/types.ts";
import type { IrcClient, Pending } from "./client.ts";
import {
  bansReply,
  invitedReply,
  joinChannels,
  joinedReply,
  modesReply,
  topicReply,
} from "./channels.ts";
import { fail } from "./commands.ts";
import type { IrcMessage } from "./message.ts";
import { errorReply, unsolicitedError } from "./errors.ts";
import {
  dropNames,
  isonReply,
  listReply,
  namesReply,
  whoisReply,
  whoNick,
  whoReply,
} from "./queries.ts";
import { registered } from "./registration.ts";
import {
  channel,
  keptReactions,
  liveMsgid,
  messageLine,
  reactionLine,
  reactionsText,
  sharedLines,
  typingLine,
  userSource,
} from "./render.ts";

type Client = IrcClient<unknown>;
/** The event of one type. */
export type Of<T extends ServerEvent["type"]> = Extract<ServerEvent, { type: T }>;

/** Renders an event for one client; `pending` is its request, when it is a reply. */
export function renderReply(client: Client, event: ServerEvent, pending?: Pending): void {
  if (pending !== undefined && event.type === "error") return errorReply(client, event, pending);
  switch (event.type) {
    case "nick":
      return nick(client, event);
    case "notice":
      return notice(client, event, pending);
    case "kept":
      // Logged in as it registered: back in its channels.
      return joinChannels(client, event.rooms.map(channel));
    case "joined":
      return joinedReply(client, event, pending);
    case "current":
      // A JOIN of a room it is in already: nothing, and no names.
      if (pending?.names !== undefined) dropNames(client, pending);
      return;
    case "topic":
      return topicReply(client, event);
    case "who":
      return pending?.command === "WHO"
        ? whoReply(client, event, pending)
        : namesReply(client, event, pending);
    case "whois":
      return pending?.command === "WHO"
        ? whoNick(client, event, pending)
        : whoisReply(client, event);
    case "history":
      if (pending?.command === "CHATHISTORY") {
        return historyBatch(client, pending.target, event.messages, event.with);
      }
      // Clients that fetch history themselves get no replay on join.
      if (client.caps.has("draft/chathistory")) return;
      return replay(client, event.messages);
    case "message":
      // Its own message (with its ref): shown with echo-message only.
      if (client.caps.has("echo-message")) client.write([messageLine(event.message, client.shape)]);
      return;
    case "dm":
      return dm(client, event, pending);
    case "tagmsg":
      return tagmsgReply(client, event, pending);
    case "read":
      return client.write([markread(client, event.with ?? channel(event.room ?? ""), event.ts)]);
    case "react":
      // Its own reaction (with its ref): echoed with echo-message, as its TAGMSG would be.
      if (client.caps.has("echo-message") && client.caps.has("message-tags")) {
        client.write([reactionLine(event, client.shape, client.ctx.now())]);
      }
      return;
    case "typing": {
      // To this client's nick (room typing is shared); tags only.
      if (!client.caps.has("message-tags")) return;
      const target = event.room !== undefined ? channel(event.room) : client.nick;
      return client.write([
        typingLine(event.nick, target, event.state, client.shape, client.ctx.now()),
      ]);
    }
    case "edit":
    case "delete":
    case "reactions":
      // Its own delete (the copy with its ref), as the members see it.
      return client.write(sharedLines(event, client.shape, client.ctx.now()) ?? []);
    case "left":
    case "moderation":
      return client.write(sharedLines(event, client.shape, client.ctx.now()) ?? []);
    case "away":
      if (event.nick !== client.nick) return client.numeric("301", event.nick, event.text ?? "");
      return event.text === null
        ? client.numeric("305", "You are no longer marked as being away")
        : client.numeric("306", "You have been marked as being away");
    case "rooms":
      return listReply(client, event);
    case "ison":
      return isonReply(client, event, pending);
    case "targets": {
      const server = client.ctx.server;
      const id = `t${client.nextRef()}`;
      return client.write([
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
    case "bans":
      return bansReply(client, event);
    case "modes":
      return modesReply(client, event);
    case "invited":
      return invitedReply(client, event, pending);
    case "bye":
      return client.error(
        `Closing Link: ${client.address} (${pending?.target ? `Quit: ${pending.target}` : "Quit"})`,
      );
    case "shutdown":
      return client.error("server shutting down");
    case "error":
      return unsolicitedError(client, event);
    case "summary":
      return;
    case "token":
    case "logout":
      return; // resume tokens are the web client's (JSON only): no IRC command asks for them
  }
}

function nick(client: Client, event: Of<"nick">): void {
  if (!client.registered) return registered(client, event.nick);
  if (event.old === event.nick) return; // already known as that
  const line: IrcMessage = {
    tags: {},
    source: `${event.old}!${client.ctx.hub.userOf(event.nick)}@${client.ctx.server}`,
    command: "NICK",
    params: [event.nick],
  };
  if (event.old === client.nick) client.nick = event.nick;
  client.write([line]);
}

export function notice(client: Client, event: Of<"notice">, pending?: Pending): void {
  if (event.op !== undefined && pending === undefined) {
    // Made an operator of a room it just created: what IRC servers say with a mode.
    return client.write([{
      tags: {},
      source: client.ctx.server,
      command: "MODE",
      params: [channel(event.op), "+o", client.nick],
    }]);
  }
  switch (pending?.command) {
    case "PING":
      return client.write([{
        tags: {},
        source: client.ctx.server,
        command: "PONG",
        params: [client.ctx.server, pending.target],
      }]);
    case "PASS":
      return;
    case "CHATHISTORY-EMPTY":
      return historyBatch(client, pending.target, []);
    case "REDACT-UNKNOWN": {
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
      return fail(
        client,
        "REDACT",
        "UNKNOWN_MSGID",
        pending.target,
        pending.msgid ?? "*",
        "This message does not exist or is not kept",
      );
    }
    case "TYPING-SENT": {
      // The typing notice went if no error took its request: echoed with echo-message.
      const typing = pending.typing!;
      if (client.settle(typing.ref) === undefined || !client.caps.has("echo-message")) return;
      const line = typingLine(
        client.nick,
        pending.target,
        typing.state,
        client.shape,
        client.ctx.now(),
      );
      return client.write([line]);
    }
    case "AUTHENTICATE": {
      const account = pending.target;
      const mask = userSource(client.nick, client.shape);
      client.numeric("900", mask, account, `You are now logged in as ${account}`);
      return client.numeric("903", "SASL authentication successful");
    }
    case "OPER":
      return client.numeric("381", "You are now an IRC operator");
  }
  client.write([{
    tags: {},
    source: client.ctx.server,
    command: "NOTICE",
    params: [client.nick, event.text],
  }]);
}

/** A `CHATHISTORY` reply: the messages in a `chathistory` batch, with their time and msgid. */
function historyBatch(
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

/** Tags alone, to this client's nick, or its own (echoed) to a room or nick. */
function tagmsgReply(client: Client, event: Of<"tagmsg">, pending?: Pending): void {
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

function dm(client: Client, event: Of<"dm">, pending?: Pending): void {
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

/** `MARKREAD <target> timestamp=<time>`, or `*` for no marker. */
export function markread(client: Client, target: string, ts: number | undefined): IrcMessage {
  const at = ts === undefined || ts <= 0 ? "*" : `timestamp=${new Date(ts).toISOString()}`;
  return { tags: {}, source: client.ctx.server, command: "MARKREAD", params: [target, at] };
}
