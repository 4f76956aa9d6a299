/**
 * Every request type decodes, with all its fields or only the required ones;
 * a missing required field is named, unknown fields are dropped.
 */
import assert from "node:assert/strict";
import type { Command } from "../core/types.ts";
import { jsonCodec, parseJsonItem, REQUEST_TYPES } from "./json.ts";
import { bad, FULL_REQUESTS, item, parse } from "./json_test_support.ts";

// --- decoding: every request type -------------------------------------------------------------

/** The fields each request cannot do without. */
const REQUIRED: Record<Command["type"], string[]> = {
  say: ["text"],
  me: ["text"],
  notice: ["text"],
  tagmsg: ["tags"],
  msg: ["to", "text"],
  nick: ["nick"],
  join: ["room"],
  leave: [],
  rooms: [],
  who: [],
  away: [],
  whois: ["nick"],
  ison: ["nicks"],
  bans: [],
  modes: [],
  history: [],
  targets: ["afterTime", "beforeTime"],
  help: [],
  quit: [],
  edit: ["room", "id", "text"],
  delete: ["id"],
  kept: [],
  react: ["room", "id", "emoji"],
  unreact: ["room", "id", "emoji"],
  typing: ["state"],
  read: [],
  search: ["text"],
  pass: ["password"],
  register: ["password"],
  login: ["account", "password"],
  admin: ["password"],
  token: [],
  resume: ["token"],
  logout: [],
  stats: [],
  rehash: [],
  kick: ["nick"],
  ban: ["nick"],
  unban: ["nick"],
  op: ["nick"],
  deop: ["nick"],
  topic: [],
  lock: ["password"],
  unlock: [],
  voice: ["nick"],
  devoice: ["nick"],
  flags: [],
  invite: ["nick"],
};

Deno.test("REQUEST_TYPES lists every request type, in the documented order", () => {
  assert.deepEqual([...REQUEST_TYPES], Object.keys(FULL_REQUESTS));
});

Deno.test("every request type decodes with all its fields, and with a ref", () => {
  for (const [type, fields] of Object.entries(FULL_REQUESTS)) {
    assert.deepEqual(parse({ type, ...fields }), { type, ...fields }, type);
    assert.deepEqual(parse({ type, ...fields, ref: 9 }), { type, ...fields, ref: 9 }, type);
    assert.deepEqual(parse({ ref: "x", ...fields, type }), { type, ...fields, ref: "x" }, type);
  }
});

Deno.test("say's reply_to becomes replyTo; messages carry reply_to, edited and reactions", () => {
  assert.deepEqual(parse({ type: "say", room: "dev", text: "yes", reply_to: 41 }), {
    type: "say",
    room: "dev",
    text: "yes",
    replyTo: 41,
  });
  assert.deepEqual(parse({ type: "say", text: "yes", reply_to: "41" }), {
    type: "parse_error",
    code: "bad_request",
    message: "field 'reply_to' must be a whole number",
  });
  const message = { room: "dev", nick: "a", text: "t", id: 42, ts: 1, kind: "say" as const };
  assert.deepEqual(
    JSON.parse(jsonCodec.encode({
      type: "message",
      message: { ...message, replyTo: 41, edited: 5, reactions: { "👍": ["b"] } },
    })),
    { type: "message", ...message, reply_to: 41, edited: 5, reactions: { "👍": ["b"] } },
  );
  assert.equal(
    jsonCodec.encode({
      type: "reactions",
      room: "dev",
      id: 42,
      nick: "a",
      text: "t",
      reactions: {},
    }),
    "",
    "the digest is for doors that do not show reactions one by one",
  );
});

Deno.test("every request type decodes with only its required fields", () => {
  for (const [type, required] of Object.entries(REQUIRED)) {
    const full = FULL_REQUESTS[type as Command["type"]];
    const minimal = Object.fromEntries(required.map((name) => [name, full[name]]));
    assert.deepEqual(parse({ type, ...minimal }), { type, ...minimal }, type);
  }
});

Deno.test("a missing required field is named, with the request's ref", () => {
  for (const [type, required] of Object.entries(REQUIRED)) {
    const full = FULL_REQUESTS[type as Command["type"]];
    for (const missing of required) {
      const request: Record<string, unknown> = { type, ...full, ref: 5 };
      delete request[missing];
      assert.deepEqual(parse(request), bad(`field '${missing}' is required`, 5), type);
      assert.deepEqual(
        parse({ ...request, [missing]: null }),
        bad(`field '${missing}' is required`, 5),
        `${type}: null counts as missing`,
      );
    }
  }
});

Deno.test("an optional field given as null is left out", () => {
  assert.deepEqual(parse({ type: "say", text: "hi", room: null }), { type: "say", text: "hi" });
  assert.deepEqual(parse({ type: "history", limit: null, after: null }), { type: "history" });
});

Deno.test("unknown fields are dropped and known ones keep their exact values", () => {
  assert.deepEqual(parse({ type: "say", text: "  a\nb 😀 ", x: 1 }), {
    type: "say",
    text: "  a\nb 😀 ",
  });
  assert.deepEqual(parse('{"type":"say","text":"x","__proto__":{"text":5,"room":"y"}}'), {
    type: "say",
    text: "x",
  });
  const command = parseJsonItem(item({ type: "rooms", password: "pw", text: "x" }));
  assert.deepEqual(command, { type: "rooms" });
  assert.deepEqual(parse('{"type":"say","text":"","constructor":1}'), { type: "say", text: "" });
});
