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
function list(param: string | undefined): string[] {
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
  const targets = list(m.params[0]);
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
  for (const target of list(m.params[0])) {
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

function join(client: Client, m: IrcMessage): void {
  if (m.params[0] === "0") {
    for (const room of client.session!.rooms.keys()) {
      client.request({ type: "leave", room }, { command: "PART", target: `#${room}` });
    }
    return;
  }
  joinChannels(client, list(m.params[0]), list(m.params[1]));
}

/** Joins each channel (with its key, if any) as `JOIN` does: the join, then the names. */
export function joinChannels(client: Client, targets: string[], keys: string[] = []): void {
  targets.forEach((target, i) => {
    const room = roomOf(target);
    if (room === null) return client.numeric("403", target, "No such channel");
    if (client.session!.rooms.has(room)) return; // already there: nothing, as IRC servers do
    const key = keys[i];
    // The names follow the join in the client's queue; if the join fails they are not shown.
    const names = client.nextRef();
    client.expect(names, { command: "NAMES", target: `#${room}` });
    client.request(
      { type: "join", room, ...(key === undefined ? {} : { password: key }) },
      { command: "JOIN", target: `#${room}`, names },
    );
    client.request({ type: "who", room, detail: true }, undefined, names);
  });
}

function part(client: Client, m: IrcMessage): void {
  const reason = m.params[1];
  for (const target of list(m.params[0])) {
    const room = roomOf(target);
    if (room === null) {
      client.numeric("403", target, "No such channel");
      continue;
    }
    client.request({ type: "leave", room, ...(reason ? { reason } : {}) }, {
      command: "PART",
      target,
    });
  }
}

function topic(client: Client, m: IrcMessage): void {
  const target = m.params[0];
  const room = roomOf(target);
  if (room === null) return client.numeric("403", target, "No such channel");
  const text = m.params[1];
  client.request(
    text === undefined ? { type: "topic", room } : { type: "topic", room, text },
    { command: "TOPIC", target },
  );
}

/** `KICK #a n1,n2` (one channel) or `KICK #a,#b n1,n2` (in pairs). */
function kick(client: Client, m: IrcMessage): void {
  const channels = list(m.params[0]);
  const nicks = list(m.params[1]);
  const reason = m.params[2];
  nicks.forEach((nick, i) => {
    const target = channels.length === 1 ? channels[0] : channels[i];
    if (target === undefined) return;
    const room = roomOf(target);
    if (room === null) return client.numeric("403", target, "No such channel");
    client.request(
      { type: "kick", room, nick, ...(reason ? { reason } : {}) },
      { command: "KICK", target, nick },
    );
  });
}

/** `MODE #room [modes [args]]` and `MODE nick`. */
function mode(client: Client, m: IrcMessage): void {
  const target = m.params[0];
  if (!target.startsWith("#")) {
    if (target.toLowerCase() !== client.nick.toLowerCase()) {
      return client.numeric("502", "Cant change mode for other users");
    }
    if (m.params.length === 1) return client.numeric("221", "+i");
    // User modes are not kept: everyone is +i already, and nothing else changes.
    const source = `${client.nick}!${client.ctx.hub.userOf(client.nick)}@${client.ctx.server}`;
    return client.write([{ tags: {}, source, command: "MODE", params: [client.nick, "+i"] }]);
  }
  const room = roomOf(target);
  if (room === null) return client.numeric("403", target, "No such channel");
  if (m.params.length === 1) {
    return void client.request({ type: "modes", room }, { command: "MODE", target });
  }
  const flags: Record<string, boolean> = {};
  const args = m.params.slice(2);
  let sign = "+";
  for (const letter of m.params[1]) {
    if (letter === "+" || letter === "-") {
      sign = letter;
      continue;
    }
    const pending = { command: "MODE", target };
    switch (letter) {
      case "o":
      case "v": {
        const nick = args.shift();
        if (nick === undefined) continue;
        const type = letter === "o"
          ? (sign === "+" ? "op" : "deop")
          : (sign === "+" ? "voice" : "devoice");
        client.request({ type, room, nick }, { ...pending, nick });
        break;
      }
      case "b": {
        const mask = args.shift();
        if (mask === undefined) {
          client.request({ type: "bans", room }, pending);
          break;
        }
        const nick = mask.split("!")[0];
        client.request({ type: sign === "+" ? "ban" : "unban", room, nick }, pending);
        break;
      }
      case "k": {
        const key = args.shift();
        if (sign === "-") client.request({ type: "unlock", room }, pending);
        else if (key !== undefined && /[ ,]/.test(key)) {
          // A key with a space or comma could not be given in a JOIN.
          client.numeric("696", target, "k", "*", "Invalid key: no spaces or commas");
        } else if (key !== undefined && key !== "") {
          client.request({ type: "lock", room, password: key }, pending);
        }
        break;
      }
      case "s":
        flags.secret = sign === "+";
        break;
      case "i":
        flags.inviteOnly = sign === "+";
        break;
      case "t":
        flags.topicOpen = sign === "-";
        break;
      case "n":
        flags.outsiders = sign === "-";
        break;
      default:
        client.numeric("472", letter, "is an unknown mode char to me");
    }
  }
  if (Object.keys(flags).length > 0) {
    client.request({ type: "flags", room, ...flags }, { command: "MODE", target });
  }
}

function names(client: Client, m: IrcMessage): void {
  const targets = list(m.params[0]);
  if (targets.length === 0) return client.numeric("366", "*", "End of /NAMES list");
  // Several channels: their 353s, then one 366 naming them all (RFC 2812).
  const all = targets.length > 1 ? m.params[0] : undefined;
  targets.forEach((target, i) => {
    const namesEnd = all === undefined ? undefined : i === targets.length - 1 ? all : null;
    const room = roomOf(target);
    if (room === null) {
      if (namesEnd !== null) client.numeric("366", namesEnd ?? target, "End of /NAMES list");
      return;
    }
    client.request({ type: "who", room, detail: true }, { command: "NAMES", target, namesEnd });
  });
}

function who(client: Client, m: IrcMessage): void {
  const mask = m.params[0] ?? "*";
  const fields = m.params[1]?.startsWith("%") ? m.params[1].slice(1) : null;
  const whox = fields === null ? undefined : {
    fields: fields.split(",")[0],
    token: fields.split(",")[1] ?? "",
  };
  const room = roomOf(mask);
  if (room !== null) {
    return void client.request({ type: "who", room, detail: true, limit: 1000 }, {
      command: "WHO",
      target: mask,
      whox,
    });
  }
  if (mask.startsWith("#")) return client.numeric("315", mask, "End of WHO list");
  if (mask.includes("*") || mask.includes("?")) {
    return void client.request({ type: "who", mask, detail: true, limit: 1000 }, {
      command: "WHO",
      target: mask,
      whox,
    });
  }
  client.request({ type: "whois", nick: mask }, { command: "WHO", target: mask, whox });
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
  INVITE: (client, m) => {
    const [nick, target] = m.params;
    const room = roomOf(target);
    if (room === null) return client.numeric("403", target, "No such channel");
    client.request({ type: "invite", nick, room }, { command: "INVITE", target, nick });
  },
  WHOIS: (client, m) => {
    const nick = list(m.params[m.params.length - 1])[0];
    if (nick === undefined) return client.numeric("431", "No nickname given");
    client.request({ type: "whois", nick }, { command: "WHOIS", target: nick });
  },
  LIST: (client) =>
    void client.request({ type: "rooms", topics: true }, { command: "LIST", target: "" }),
  AWAY: (client, m) => {
    const text = m.params[0];
    client.request(text ? { type: "away", text } : { type: "away" }, {
      command: "AWAY",
      target: "",
    });
  },
  ISON: (client, m) =>
    void client.request({ type: "ison", nicks: m.params.join(" ").split(" ").filter((n) => n) }, {
      command: "ISON",
      target: "",
    }),
  USERHOST: (client, m) =>
    void client.request({ type: "ison", nicks: m.params.slice(0, 5) }, {
      command: "USERHOST",
      target: "",
    }),
  OPER: (client, m) =>
    void client.request({ type: "admin", password: m.params[1] }, { command: "OPER", target: "" }),
  REHASH: (client) => void client.request({ type: "rehash" }, { command: "REHASH", target: "" }),
  LUSERS: (client) => client.write(lusers(client)),
  // No nick history is kept.
  WHOWAS: (client, m) => {
    const nick = m.params[0];
    if (nick === undefined) return client.numeric("431", "No nickname given");
    client.write([
      client.line("406", nick, "There was no such nickname"),
      client.line("369", nick, "End of WHOWAS"),
    ]);
  },
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
