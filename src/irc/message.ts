/**
 * IRC messages as text: `[@tags] [:source] COMMAND params... [:trailing]`,
 * with IRCv3 message tags (escaped values). Pure; no I/O.
 *
 * @module
 */

/** One IRC message. */
export interface IrcMessage {
  /** Message tags (`time`, `msgid`, `label`, `+draft/reply`...), unescaped. */
  tags: Record<string, string>;
  /** `nick!user@host` or a server name, without the colon. */
  source?: string;
  /** The command word in upper case, or a three-digit numeric. */
  command: string;
  params: string[];
}

/** Longest message body (without tags) a client may send, CRLF included (RFC 1459). */
export const MAX_BODY_BYTES = 512;
/** Longest tag section a client may send (the `@`, tags and trailing space; IRCv3). */
export const MAX_CLIENT_TAG_BYTES = 4096;
/** Longest line the door reads at all: the tags a server may send plus a body. */
export const MAX_LINE_BYTES = 8191 + MAX_BODY_BYTES;

const UNESCAPE: Record<string, string> = { ":": ";", s: " ", "\\": "\\", r: "\r", n: "\n" };

function unescapeTag(value: string): string {
  if (!value.includes("\\")) return value;
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = value[++i];
    if (next === undefined) break; // a lone trailing backslash is dropped
    out += UNESCAPE[next] ?? next;
  }
  return out;
}

/** A tag value escaped for the wire. */
export function escapeTag(value: string): string {
  return value.replace(
    /[\\; \r\n]/g,
    (c) => c === "\\" ? "\\\\" : c === ";" ? "\\:" : c === " " ? "\\s" : c === "\r" ? "\\r" : "\\n",
  );
}

/** Why a line is not a message the door takes. */
export type ParseFailure = "empty" | "tags_too_long" | "body_too_long";

/** Parses one line (without its CRLF). */
export function parseMessage(line: string): IrcMessage | ParseFailure {
  let rest = line;
  const tags: Record<string, string> = {};
  if (rest.startsWith("@")) {
    const space = rest.indexOf(" ");
    const raw = space === -1 ? rest.slice(1) : rest.slice(1, space);
    if (utf8Length(raw) + 2 > MAX_CLIENT_TAG_BYTES) return "tags_too_long";
    for (const part of raw.split(";")) {
      if (part === "") continue;
      const eq = part.indexOf("=");
      const key = eq === -1 ? part : part.slice(0, eq);
      tags[key] = eq === -1 ? "" : unescapeTag(part.slice(eq + 1));
    }
    rest = space === -1 ? "" : rest.slice(space + 1);
  }
  rest = rest.replace(/^ +/, "");
  if (utf8Length(rest) + 2 > MAX_BODY_BYTES) return "body_too_long";
  let source: string | undefined;
  if (rest.startsWith(":")) {
    const space = rest.indexOf(" ");
    source = space === -1 ? rest.slice(1) : rest.slice(1, space);
    rest = space === -1 ? "" : rest.slice(space + 1).replace(/^ +/, "");
  }
  if (rest === "") return "empty";
  const params: string[] = [];
  let command = "";
  while (rest !== "") {
    if (command !== "" && rest.startsWith(":")) {
      params.push(rest.slice(1));
      break;
    }
    const space = rest.indexOf(" ");
    const word = space === -1 ? rest : rest.slice(0, space);
    if (command === "") command = word.toUpperCase();
    else params.push(word);
    rest = space === -1 ? "" : rest.slice(space + 1).replace(/^ +/, "");
  }
  return source === undefined ? { tags, command, params } : { tags, source, command, params };
}

/**
 * Formats a message for the wire, without CRLF. The last parameter gets a
 * colon when it needs one (empty, starts with one, or holds a space).
 */
export function formatMessage(message: IrcMessage): string {
  let out = "";
  const tags = Object.entries(message.tags);
  if (tags.length > 0) {
    out += "@" + tags.map(([k, v]) => v === "" ? k : `${k}=${escapeTag(v)}`).join(";") + " ";
  }
  if (message.source !== undefined) out += `:${message.source} `;
  out += message.command;
  const params = message.params;
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    const last = i === params.length - 1;
    out += last && (p === "" || p.startsWith(":") || p.includes(" ")) ? ` :${p}` : ` ${p}`;
  }
  return out;
}

const encoder = new TextEncoder();

function utf8Length(text: string): number {
  // ASCII is the common case: one byte per character.
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return encoder.encode(text).length;
  }
  return text.length;
}
