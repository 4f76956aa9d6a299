/**
 * The IRC commands after registration, as a table: each command's handler
 * (in the file of its topic: `channels.ts`, `chat.ts`, `queries.ts`,
 * `history.ts`; the few-line ones here) and the parameters it needs,
 * checked once (`421`, `461`). What comes before registration is
 * `registration.ts`'s; replies are rendered from the request's `Pending`
 * (`replies.ts`). The helpers every topic's commands use are here too:
 * comma lists, channel names, `FAIL`.
 *
 * @module
 */

import { normalizeRoom, validNick } from "../core/names.ts";
import { invite, join, kick, mode, part, topic } from "./channels.ts";
import { message, tagmsg } from "./chat.ts";
import type { IrcClient } from "./client.ts";
import { chathistory, markread, redact } from "./history.ts";
import type { IrcMessage } from "./message.ts";
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

/** A standard reply: `FAIL <command> <code> [context...] :text`. */
export function fail(client: Client, command: string, code: string, ...params: string[]): void {
  client.write([{
    tags: {},
    source: client.ctx.server,
    command: "FAIL",
    params: [command, code, ...params],
  }]);
}

/** Each command's handler. */
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
