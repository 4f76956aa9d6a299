/**
 * The JSON codec for WebSocket clients: one JSON object per item, items
 * separated by `\n` within a frame. Requests are shape-checked here, so the
 * hub only ever sees well-formed commands. Pure: no I/O.
 *
 * @module
 */

import type { ChatMessage, Command, Ref } from "../core/types.ts";
import type { ErrorCode, ServerEvent } from "../core/events.ts";
import type { Codec, ParseError } from "./codec.ts";

type Json = Record<string, unknown>;

/** Field kinds a request may carry. */
type FieldKind = "string" | "integer" | "boolean" | "strings" | "tags";

const EXPECTED: Record<FieldKind, string> = {
  string: "a string",
  integer: "a whole number",
  boolean: "true or false",
  strings: "a list of strings",
  tags: "an object of strings",
};

function fits(kind: FieldKind, field: unknown): boolean {
  switch (kind) {
    case "string":
      return typeof field === "string";
    case "integer":
      return typeof field === "number" && Number.isSafeInteger(field) && field >= 0;
    case "boolean":
      return typeof field === "boolean";
    case "strings":
      return Array.isArray(field) && field.length <= 64 &&
        field.every((f) => typeof f === "string");
    case "tags":
      return typeof field === "object" && field !== null && !Array.isArray(field) &&
        Object.values(field).every((v) => typeof v === "string");
  }
}

/** Every request type with its fields: required ones end in `!`. */
const REQUESTS: Record<Command["type"], Record<string, FieldKind>> = {
  say: { "text!": "string", room: "string", tags: "tags", reply_to: "integer" },
  me: { "text!": "string", room: "string", tags: "tags" },
  notice: { "text!": "string", room: "string", tags: "tags" },
  msg: { "to!": "string", "text!": "string", notice: "boolean", tags: "tags" },
  tagmsg: { room: "string", to: "string", "tags!": "tags" },
  nick: { "nick!": "string", password: "string" },
  join: { "room!": "string", password: "string" },
  leave: { room: "string", reason: "string" },
  rooms: { topics: "boolean" },
  who: { room: "string", mask: "string", limit: "integer", offset: "integer", detail: "boolean" },
  away: { text: "string" },
  whois: { "nick!": "string" },
  ison: { "nicks!": "strings" },
  bans: { room: "string" },
  modes: { room: "string" },
  history: {
    room: "string",
    after: "integer",
    before: "integer",
    around: "integer",
    afterTime: "integer",
    beforeTime: "integer",
    aroundTime: "integer",
    latest: "boolean",
    with: "string",
    member: "boolean",
    limit: "integer",
  },
  targets: { "afterTime!": "integer", "beforeTime!": "integer", limit: "integer" },
  help: {},
  quit: { reason: "string" },
  edit: { "room!": "string", "id!": "integer", "text!": "string" },
  delete: { room: "string", with: "string", "id!": "integer", reason: "string" },
  react: { "room!": "string", "id!": "integer", "emoji!": "string" },
  unreact: { "room!": "string", "id!": "integer", "emoji!": "string" },
  typing: { room: "string", to: "string", "state!": "string" },
  read: { room: "string", with: "string", id: "integer", ts: "integer" },
  kept: {},
  search: { "text!": "string", room: "string", limit: "integer" },
  pass: { "password!": "string" },
  register: { "password!": "string" },
  login: { "account!": "string", "password!": "string" },
  admin: { "password!": "string" },
  token: {},
  resume: { "token!": "string" },
  logout: { all: "boolean", token: "string" },
  stats: {},
  rehash: {},
  kick: { "nick!": "string", reason: "string", room: "string" },
  ban: { "nick!": "string", room: "string" },
  unban: { "nick!": "string", room: "string" },
  op: { "nick!": "string", room: "string" },
  deop: { "nick!": "string", room: "string" },
  topic: { text: "string", room: "string" },
  lock: { "password!": "string", room: "string" },
  unlock: { room: "string" },
  voice: { "nick!": "string", room: "string" },
  devoice: { "nick!": "string", room: "string" },
  flags: {
    room: "string",
    secret: "boolean",
    inviteOnly: "boolean",
    topicOpen: "boolean",
    outsiders: "boolean",
    moderated: "boolean",
  },
  invite: { "nick!": "string", room: "string" },
};

/** The request types, for `help` and error messages. */
export const REQUEST_TYPES: readonly string[] = Object.keys(REQUESTS);

function parseError(code: ErrorCode, message: string, ref?: Ref): ParseError {
  return { type: "parse_error", code, message, ref };
}

/**
 * Decodes one item (one line of a frame). Returns a command, or a parse
 * error carrying the request's `ref` when it could be read.
 */
export function parseJsonItem(item: string): Command | ParseError | null {
  if (item.trim() === "") return null;
  let value: unknown;
  try {
    value = JSON.parse(item);
  } catch {
    return parseError("bad_request", "malformed JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return parseError("bad_request", "expected a JSON object");
  }
  const request = value as Json;
  const ref = request.ref;
  if (ref !== undefined && typeof ref !== "string" && typeof ref !== "number") {
    return parseError("bad_request", "field 'ref' must be a string or a number");
  }
  const type = request.type;
  if (typeof type !== "string") {
    return parseError("bad_request", "field 'type' must be a string", ref);
  }
  if (!Object.hasOwn(REQUESTS, type)) {
    return parseError(
      "unknown_type",
      `unknown type '${type}' (one of ${REQUEST_TYPES.join(", ")})`,
      ref,
    );
  }
  const fields = REQUESTS[type as Command["type"]];
  const command: Json = { type };
  if (ref !== undefined) command.ref = ref;
  for (const [spec, kind] of Object.entries(fields)) {
    const required = spec.endsWith("!");
    const name = required ? spec.slice(0, -1) : spec;
    const field = request[name];
    if (field === undefined || field === null) {
      if (required) return parseError("bad_request", `field '${name}' is required`, ref);
      continue;
    }
    if (!fits(kind, field)) {
      return parseError("bad_request", `field '${name}' must be ${EXPECTED[kind]}`, ref);
    }
    command[name] = field;
  }
  if (command.reply_to !== undefined) {
    command.replyTo = command.reply_to;
    delete command.reply_to;
  }
  if ((type === "history" || type === "who" || type === "search") && command.limit === 0) {
    return parseError("bad_request", "field 'limit' must be at least 1", ref);
  }
  if (typeof command.password === "string" && command.password === "") {
    return parseError("bad_request", "field 'password' must not be empty", ref);
  }
  return command as unknown as Command;
}

function message(m: ChatMessage): Json {
  const body: Json = { room: m.room, nick: m.nick, text: m.text, id: m.id, ts: m.ts, kind: m.kind };
  if (m.replyTo !== undefined) body.reply_to = m.replyTo;
  if (m.edited !== undefined) body.edited = m.edited;
  if (m.reactions !== undefined) body.reactions = m.reactions;
  return body;
}

/** Adds `ref` only when there is one: most events carry none. */
function withRef(body: Json, ref: Ref | undefined): Json {
  if (ref !== undefined) body.ref = ref;
  return body;
}

/** The JSON object of an event (see docs/protocol.md for every shape). */
export function eventToJson(event: ServerEvent): Json {
  switch (event.type) {
    case "message":
      return withRef({ type: "message", ...message(event.message) }, event.ref);
    case "history":
      return withRef(
        { type: "history", room: event.room, messages: event.messages.map(message) },
        event.ref,
      );
    case "left": {
      const r = event.reason;
      const body: Json = { type: "left", room: event.room, nick: event.nick, reason: r.kind };
      if (r.kind === "kick" || r.kind === "ban") body.by = r.by;
      if (r.message !== undefined) body.message = r.message;
      return withRef(body, event.ref);
    }
    case "search":
      return withRef({ type: "search", results: event.results.map(message) }, event.ref);
    case "help":
      return withRef({ type: "help", requests: REQUEST_TYPES }, event.ref);
    case "error":
      return withRef({ type: "error", code: event.code, message: event.message }, event.ref);
    default: {
      // The remaining events are flat already: copy, leaving out an absent ref.
      const { ref, ...rest } = event as ServerEvent & { ref?: Ref };
      return withRef({ ...rest }, ref);
    }
  }
}

/** One event as one line of JSON, without a newline (JSON text never contains a raw one). */
export function encodeJsonEvent(event: ServerEvent): string {
  return JSON.stringify(eventToJson(event));
}

/**
 * The JSON format as a {@link Codec}: an item is one JSON request, an event
 * is one JSON object on one line.
 *
 * @example A request in, an event out
 * ```ts
 * import { jsonCodec } from "./json.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(jsonCodec.decode('{"type":"join","room":"dev","ref":1}'), {
 *   type: "join",
 *   room: "dev",
 *   ref: 1,
 * });
 * assert.equal(
 *   jsonCodec.encode({ type: "joined", room: "dev", nick: "bob" }),
 *   '{"type":"joined","room":"dev","nick":"bob"}\n',
 * );
 * ```
 */
export const jsonCodec: Codec = Object.freeze({
  name: "json",
  decode: parseJsonItem,
  // JSON clients get every reaction as it happens: the digest for other doors is not theirs.
  encode: (event: ServerEvent) => event.type === "reactions" ? "" : encodeJsonEvent(event) + "\n",
});
