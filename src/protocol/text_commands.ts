/**
 * The text format's commands: one line -> one {@link Command}, through one
 * table of command words and their parsers, and the lines `/help` shows for
 * them. Pure: no I/O. `text.ts` renders events and joins both halves in
 * `textCodec`.
 *
 * @module
 */

import type { Command } from "../core/types.ts";
import { WHO_PAGE_SIZE } from "../core/types.ts";
import type { ParseError } from "./codec.ts";

/** How each command word is parsed from its argument text (already trimmed). */
type Parser = (args: string) => Command | string;

const HISTORY_COUNT = /^[1-9][0-9]{0,6}$/;
const HISTORY_USAGE = "usage: /history [<n>] [before #<id>] (n from 1 to 1000)";
const WHO_USAGE = "usage: /who [<room> [<page>]]";
const IDS_DEFAULT = 10;
const IDS_USAGE = "usage: /ids [<n>] (n from 1 to 1000)";
const MESSAGE_ID = /^#([1-9][0-9]{0,15})$/;

/** A leading `#<id>` naming a message (0 when absent: your last one), and the rest. */
function messageRef(args: string): [number, string] {
  const [word, rest] = firstWord(args);
  const m = MESSAGE_ID.exec(word);
  return m === null ? [0, args] : [Number(m[1]), rest];
}

/** `/react [#<id>] <emoji>`: without an id, the room's last message. */
function reaction(type: "react" | "unreact"): Parser {
  return (args) => {
    const [id, emoji] = messageRef(args);
    return emoji === "" || /\s/.test(emoji) ? `usage: /${type} [#<id>] <emoji>` : {
      type,
      id,
      emoji,
    };
  };
}

/** Splits off the first word; the rest is trimmed. */
function firstWord(args: string): [string, string] {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(args);
  return m === null ? ["", ""] : [m[1], m[2].trim()];
}

/** A command that takes one word and nothing else. */
function oneWord(usage: string, make: (word: string) => Command | string): Parser {
  return (args) => {
    const [word, rest] = firstWord(args);
    return word === "" || rest !== "" ? usage : make(word);
  };
}

/** At most one word. */
function optionalWord(usage: string, make: (word?: string) => Command | string): Parser {
  return (args) => {
    const [word, rest] = firstWord(args);
    return rest !== "" ? usage : make(word === "" ? undefined : word);
  };
}

/** Text after the command word, required. */
function text(usage: string, make: (text: string) => Command): Parser {
  return (args) => (args === "" ? usage : make(args));
}

const none = (make: () => Command): Parser => () => make();

/** A word, then optional text (a password, a reason). */
function wordThen(usage: string, make: (word: string, rest?: string) => Command): Parser {
  return (args) => {
    const [word, rest] = firstWord(args);
    return word === "" ? usage : make(word, rest === "" ? undefined : rest);
  };
}

/**
 * The command table: every command word (aliases included) with its parser.
 * `/help` renders from {@link HELP}, so keep both in step.
 */
const COMMANDS: Record<string, Parser> = {
  help: none(() => ({ type: "help" })),
  nick: wordThen("usage: /nick <name> [<password>]", (nick, password) => ({
    type: "nick",
    nick,
    ...(password === undefined ? {} : { password }),
  })),
  join: wordThen("usage: /join <room> [<password>]", (room, password) => ({
    type: "join",
    room,
    ...(password === undefined ? {} : { password }),
  })),
  leave: optionalWord("usage: /leave [<room>]", (room) => ({ type: "leave", room })),
  rooms: none(() => ({ type: "rooms" })),
  who: (args) => {
    const [room, rest] = firstWord(args);
    if (rest === "") return { type: "who", room: room === "" ? undefined : room };
    if (!/^[1-9][0-9]{0,5}$/.test(rest)) return WHO_USAGE;
    return { type: "who", room, limit: WHO_PAGE_SIZE, offset: (Number(rest) - 1) * WHO_PAGE_SIZE };
  },
  msg: (args) => {
    const [to, rest] = firstWord(args);
    return to === "" || rest === "" ? "usage: /msg <nick> <text>" : { type: "msg", to, text: rest };
  },
  me: text("usage: /me <text>", (t) => ({ type: "me", text: t })),
  away: (args) => (args === "" ? { type: "away" } : { type: "away", text: args }),
  whois: oneWord("usage: /whois <nick>", (nick) => ({ type: "whois", nick })),
  invite: oneWord("usage: /invite <nick>", (nick) => ({ type: "invite", nick })),
  // `/history [<n>] [before #<id>]`: before pages back from a message (scrollback).
  history: (args) => {
    const m = /^(?:([0-9]+))?\s*(?:before\s+#?([0-9]+))?$/i.exec(args);
    if (m === null || (m[1] !== undefined && !HISTORY_COUNT.test(m[1]))) return HISTORY_USAGE;
    const command: Extract<Command, { type: "history" }> = { type: "history" };
    if (m[1] !== undefined) command.limit = Number(m[1]);
    if (m[2] !== undefined) command.before = Number(m[2]);
    return command;
  },
  quit: (args) => ({ type: "quit", reason: args === "" ? undefined : args }),
  pass: text("usage: /pass <password>", (password) => ({ type: "pass", password })),
  register: text("usage: /register <password>", (password) => ({ type: "register", password })),
  admin: text("usage: /admin <password>", (password) => ({ type: "admin", password })),
  stats: none(() => ({ type: "stats" })),
  rehash: none(() => ({ type: "rehash" })),
  kick: wordThen("usage: /kick <nick> [<reason>]", (nick, reason) => ({
    type: "kick",
    nick,
    ...(reason === undefined ? {} : { reason }),
  })),
  ban: oneWord("usage: /ban <nick>", (nick) => ({ type: "ban", nick })),
  unban: oneWord("usage: /unban <nick>", (nick) => ({ type: "unban", nick })),
  op: oneWord("usage: /op <nick>", (nick) => ({ type: "op", nick })),
  deop: oneWord("usage: /deop <nick>", (nick) => ({ type: "deop", nick })),
  // `/topic` shows it, `/topic -` clears it.
  topic: (args) =>
    args === "" ? { type: "topic" } : { type: "topic", text: args === "-" ? "" : args },
  lock: text(
    "usage: /lock <password> (or /lock off)",
    (password) => (password === "off" ? { type: "unlock" } : { type: "lock", password }),
  ),
  unlock: none(() => ({ type: "unlock" })),
  // Messages are named `#41` (ids are shown by /ids); without one, your last message.
  ids: optionalWord("usage: /ids [<n>]", (n) => {
    if (n === undefined) return { type: "history", limit: IDS_DEFAULT, ids: true };
    return HISTORY_COUNT.test(n) ? { type: "history", limit: Number(n), ids: true } : IDS_USAGE;
  }),
  edit: (args) => {
    const [id, rest] = messageRef(args);
    return rest === "" ? "usage: /edit [#<id>] <text>" : { type: "edit", id, text: rest };
  },
  delete: (args) => {
    const [id, rest] = messageRef(args);
    return { type: "delete", id, ...(rest === "" ? {} : { reason: rest }) };
  },
  react: reaction("react"),
  unreact: reaction("unreact"),
  reply: (args) => {
    const [id, rest] = messageRef(args);
    return id === 0 || rest === "" ? "usage: /reply #<id> <text>" : {
      type: "say",
      text: rest,
      replyTo: id,
    };
  },
  search: text("usage: /search <words>", (t) => ({ type: "search", text: t })),
};
COMMANDS.part = COMMANDS.leave;
COMMANDS.del = COMMANDS.delete;
COMMANDS.list = COMMANDS.rooms;

/** The lines `/help` shows. */
export const HELP: readonly string[] = [
  "commands:",
  "  <text>                say <text> in the current room (//text says /text)",
  "  /nick <name>          change your nick (1-32 of A-Z a-z 0-9 _ -)",
  "  /join <room>          join a room (created if needed) and make it current",
  "  /leave [<room>]       leave a room (also /part); default: the current one",
  "  /rooms                list rooms with their member counts (also /list)",
  "  /who [<room> [<n>]]   list the members of a room (page n: 100 a page)",
  "  /msg <nick> <text>    send a direct message",
  "  /me <text>            act in the current room",
  "  /away [<text>]        say you are away (without text: back)",
  "  /whois <nick>         who someone is: rooms, away, registered",
  "  /history [<n>]        show the last n messages of the current room (default 20)",
  "  /history <n> before #<id>  the n messages before message <id> (scroll back)",
  "  /ids [<n>]            the last n messages (default 10) with their ids (#41)",
  "  /reply #<id> <text>   answer message <id>",
  "  /edit [#<id>] <text>  change your message <id> (default: your last one)",
  "  /delete [#<id>]       delete your message <id> (operators: any; default: your last one)",
  "  /react [#<id>] <emoji>  react to message <id> (default: the last one); /unreact undoes it",
  "  /search <words>       find messages holding every word, in your rooms, newest first",
  "  /quit [<reason>]      say goodbye and disconnect",
  "  /help                 this list",
  "accounts:",
  "  /pass <password>      the server password, where the server has one",
  "  /register <password>  register your current nick; then /nick <name> <password> claims it",
  "  /join <room> <pass>   join a locked room",
  "room operators (the first member of a new room is one):",
  "  /topic [<text>]       show or set the topic (/topic - clears it)",
  "  /kick <nick> [<why>]  remove a member",
  "  /ban <nick>           remove a member and keep its nick and address out (/unban <nick>)",
  "  /op <nick>            make a member an operator (/deop <nick> undoes it)",
  "  /lock <password>      others need the password to join (/lock off opens the room)",
  "  /invite <nick>        let a nick into the current room once (and tell it)",
  "server operators:",
  "  /admin <password>     become a server operator: moderate every room",
  "  /stats                connections, rooms and rates",
  "  /rehash               reload the config file; says what changed",
];

/**
 * Parses one line. Returns `null` for a blank line (ignored, as on IRC),
 * a {@link ParseError} for a bad command, else the command.
 */
export function parseTextLine(line: string): Command | ParseError | null {
  const trimmed = line.trimStart();
  if (trimmed === "") return null;
  if (trimmed[0] !== "/") return { type: "say", text: line };
  if (trimmed[1] === "/") return { type: "say", text: trimmed.slice(1) };
  const [word, args] = firstWord(trimmed.slice(1));
  const parse = Object.hasOwn(COMMANDS, word.toLowerCase())
    ? COMMANDS[word.toLowerCase()]
    : undefined;
  if (parse === undefined) {
    return {
      type: "parse_error",
      code: "unknown_command",
      message: `unknown command /${word} (try /help)`,
    };
  }
  const result = parse(args);
  if (typeof result === "string") {
    return { type: "parse_error", code: "bad_request", message: result };
  }
  return result;
}
