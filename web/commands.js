/**
 * What the text in the box asks for: lines to say in the open conversation,
 * an edit of a message, or a `/command`. It only plans (the same plan is used
 * to measure the frame before sending); the caller sends.
 */

import { dmKey } from "./conversations.js";

/** @typedef {import("./conversations.js").Conversation} Conversation */
/** @typedef {import("./connection.js").Meta} Meta */
/** @typedef {import("./composer.js").Mode} Mode */

/**
 * @typedef {{request: Record<string, unknown>, meta: Meta}} Step
 * @typedef {{steps: Step[]} | {local: () => void} | {error: string}} Plan
 * @typedef {{conv: Conversation, nick: string, mode: Mode | null,
 *   local: Record<string, (rest: string) => Plan>}} Where
 */

export const HELP = [
  "text: says it in the open room, or to the person of the open direct conversation " +
  "(//text says /text); Shift+Enter starts another line, each line is sent as a message",
  "Up on an empty box edits your last message; Escape cancels; Tab completes nicks and commands;" +
  " Ctrl+Up/Ctrl+Down recall what you sent",
  "/me <text>: an action, shown as * nick text",
  "/msg <nick> <text>: a direct message (opens the conversation with nick)",
  "/join <room> [<password>]: joins a room (or switches to it)",
  "/leave [<room>]: leaves the named or current room",
  "/nick <name> [<password>]: changes your nick (the password claims a registered one " +
  "and keeps you signed in on this browser)",
  "/register <password>: registers your nick (and keeps you signed in on this browser)",
  "/logout: signs this browser out (/logout all: every browser)",
  "/search <text>: finds messages in your rooms",
  "/pass <password>: the server password, where there is one",
  "/topic [<text>], /kick, /ban, /unban, /op, /deop <nick>, /lock <password>|off: room operators",
  "/admin <password>, /stats: server operators",
  "/who, /rooms: refreshes the member and room lists",
];

/** What Tab completes after `/`. */
export const COMMANDS = [
  "admin",
  "ban",
  "deop",
  "help",
  "join",
  "kick",
  "leave",
  "lock",
  "logout",
  "me",
  "msg",
  "nick",
  "op",
  "pass",
  "register",
  "rooms",
  "search",
  "stats",
  "topic",
  "unban",
  "who",
];

/**
 * Whether a line holds a password (`/register pw`, `/nick name pw`, `/join
 * room pw`, ...): such a line is never remembered for Ctrl+Up.
 * @param {string} text
 */
export function carriesSecret(text) {
  const words = text.trim().split(/\s+/);
  const command = (words[0] ?? "").toLowerCase();
  if (["/pass", "/register", "/admin"].includes(command)) return true;
  if (command === "/lock") return words[1] !== "off";
  return ["/nick", "/join", "/j"].includes(command) && words.length > 2;
}

/**
 * @param {Record<string, unknown>} request
 * @param {Meta} [meta]
 * @returns {Plan}
 */
function one(request, meta = { kind: String(request.type) }) {
  return { steps: [{ request, meta }] };
}

/**
 * Plain text: to the open room, or to the person of the open conversation;
 * one message per line; the first answers the message being replied to.
 * @param {string} text @param {Where} where
 * @returns {Plan}
 */
function sayPlan(text, where) {
  const { conv, mode } = where;
  const lines = text.split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
  if (lines.length === 0) return { error: "nothing to send" };
  if (conv.kind === "dm") {
    return {
      steps: lines.map((line) => ({
        request: { type: "msg", to: conv.name, text: line },
        meta: { kind: "msg", conv: conv.key, text: line },
      })),
    };
  }
  if (!conv.isRoom) return { error: "no room open here: join one, or use /msg <nick> <text>" };
  return {
    steps: lines.map((line, i) => {
      const reply = i === 0 && mode?.kind === "reply" && mode.room === conv.name
        ? { reply_to: mode.id }
        : {};
      return {
        request: { type: "say", room: conv.name, text: line, ...reply },
        meta: { kind: "say", room: conv.name, text: line },
      };
    }),
  };
}

/**
 * Reads what was typed in the message box (without doing it).
 * @param {string} text @param {Where} where
 * @returns {Plan}
 */
export function planInput(text, where) {
  const { conv, mode } = where;
  if (mode?.kind === "edit") {
    const line = text.trim();
    if (line.includes("\n")) return { error: "a message is one line: an edit cannot add lines" };
    if (line === "") return { error: "an edit needs text (to remove the message, delete it)" };
    return one({ type: "edit", room: mode.room, id: mode.id, text: line }, {
      kind: "edit",
      room: mode.room,
      id: mode.id,
    });
  }
  if (text.startsWith("//")) return sayPlan(text.slice(1), where);
  if (!text.startsWith("/")) return sayPlan(text, where);
  if (text.trim().includes("\n")) return { error: "a /command is one line" };
  const match = /^\/(\S+)\s*([\s\S]*)$/.exec(text.trim());
  const command = (match?.[1] ?? "").toLowerCase();
  const rest = (match?.[2] ?? "").trim();
  const room = conv.isRoom ? conv.name : null;
  const usage = (/** @type {string} */ u) => ({ error: `usage: ${u}` });
  const local = where.local[command];
  if (local !== undefined) return local(rest);
  switch (command) {
    case "me":
      if (rest === "") return usage("/me <text>");
      if (room === null) return { error: "/me works in a room, not in direct messages" };
      return one({ type: "me", room, text: rest }, {
        kind: "me",
        room,
        text: `* ${where.nick} ${rest}`,
      });
    case "msg":
    case "m": {
      const parts = /^(\S+)\s+([\s\S]+)$/.exec(rest);
      if (parts === null) return usage("/msg <nick> <text>");
      const line = parts[2].trim();
      return one({ type: "msg", to: parts[1], text: line }, {
        kind: "msg",
        conv: dmKey(parts[1]),
        text: line,
        open: true,
      });
    }
    case "join":
    case "j": {
      const parts = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (parts === null) return usage("/join <room> [<password>]");
      const password = parts[2].trim();
      return one({ type: "join", room: parts[1], ...(password ? { password } : {}) });
    }
    case "leave":
    case "part": {
      const name = rest === "" ? room : rest.replace(/^#/, "").toLowerCase();
      if (name === null) return usage("/leave <room>");
      return one({ type: "leave", room: name });
    }
    case "nick": {
      const parts = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (parts === null) return usage("/nick <name> [<password>]");
      const password = parts[2].trim();
      return one({ type: "nick", nick: parts[1], ...(password ? { password } : {}) }, {
        kind: password ? "claim" : "nick",
      });
    }
    case "register":
      if (rest === "") return usage("/register <password>");
      return one({ type: "register", password: rest }, { kind: "claim" });
    case "pass":
    case "admin":
      if (rest === "") return usage(`/${command} <password>`);
      return one({ type: command, password: rest });
    case "stats":
      return one({ type: "stats" });
    case "kick":
    case "ban":
    case "unban":
    case "op":
    case "deop": {
      const parts = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (parts === null || room === null) return usage(`/${command} <nick> (in a room)`);
      const reason = command === "kick" && parts[2].trim() ? { reason: parts[2].trim() } : {};
      return one({ type: command, nick: parts[1], room, ...reason });
    }
    case "topic":
      if (room === null) return usage("/topic [<text>] (in a room)");
      return one(
        rest === ""
          ? { type: "topic", room }
          : { type: "topic", room, text: rest === "-" ? "" : rest },
      );
    case "lock":
      if (rest === "" || room === null) return usage("/lock <password> or /lock off (in a room)");
      return one(
        rest === "off" ? { type: "unlock", room } : { type: "lock", room, password: rest },
        { kind: "lock" },
      );
    case "who":
      if (room === null && rest === "") return usage("/who <room>");
      return one({ type: "who", room: rest || room });
    case "rooms":
    case "list":
      return one({ type: "rooms" });
    default:
      return { error: `unknown command /${command} (try /help)` };
  }
}
