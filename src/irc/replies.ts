/**
 * The core's events as one IRC client sees them: each goes to the renderer
 * of its topic (`channels.ts`, `queries.ts`, `chat.ts`, `history.ts`,
 * `registration.ts`, `errors.ts`), chosen by the event and, for a reply,
 * by what the client asked ({@link Pending}: the IRC command and its
 * target), since the same core event is a `NAMES` list after a `JOIN` and
 * a `WHO` list after a `WHO`. Nick changes and notices are rendered here,
 * with the replies that markers in the client's queue stand for (`PONG`).
 *
 * @module
 */

import type { ServerEvent } from "../core/events.ts";
import {
  bansReply,
  invitedReply,
  joinChannels,
  joinedReply,
  modesReply,
  topicReply,
} from "./channels.ts";
import { dm, ownMessage, ownReaction, tagmsgReply, typingReply, typingSent } from "./chat.ts";
import type { IrcClient, Pending } from "./client.ts";
import { errorReply, unsolicitedError } from "./errors.ts";
import { historyBatch, historyReply, readReply, redactUnknown, targetsReply } from "./history.ts";
import type { IrcMessage } from "./message.ts";
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
import { channel, sharedLines } from "./render.ts";
import { loggedIn } from "./sasl.ts";

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
      return historyReply(client, event, pending);
    case "message":
      return ownMessage(client, event);
    case "dm":
      return dm(client, event, pending);
    case "tagmsg":
      return tagmsgReply(client, event, pending);
    case "read":
      return readReply(client, event);
    case "react":
      return ownReaction(client, event);
    case "typing":
      return typingReply(client, event);
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
    case "targets":
      return targetsReply(client, event);
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

/** A nick change, or the nick that completes registration. */
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

/**
 * A notice to the client, or what the reply to a marker request stands for:
 * a `PONG`, a typing notice that went, an `UNKNOWN_MSGID`, a login.
 */
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
    case "REDACT-UNKNOWN":
      return redactUnknown(client, pending);
    case "TYPING-SENT":
      return typingSent(client, pending);
    case "AUTHENTICATE":
      return loggedIn(client, pending.target);
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
