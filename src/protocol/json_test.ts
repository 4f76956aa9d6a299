import assert from "node:assert/strict";
import type { ChatMessage, Command } from "../core/types.ts";
import type { ServerEvent } from "../core/events.ts";
import { codecContract } from "./codec_contract.ts";
import { ALL_SAMPLE_EVENTS } from "./codec_samples.ts";
import { encodeJsonEvent, eventToJson, jsonCodec, parseJsonItem, REQUEST_TYPES } from "./json.ts";

codecContract(jsonCodec, {
  silent: ["reactions"],
  junk: [
    "{",
    "not json",
    "[]",
    "42",
    '"say"',
    "null",
    "{}",
    '{"type":1}',
    '{"type":"frobnicate"}',
    '{"type":"say"}',
    '{"type":"say","text":5}',
    '{"type":"history","limit":0}',
    '{"type":"say","text":"hi","ref":true}',
  ],
  valid: [
    '{"type":"say","text":"hi","room":"dev","ref":1}',
    '{"type":"msg","to":"bob","text":"psst","ref":"a"}',
    '{"type":"who","room":"dev","limit":100,"offset":0}',
    '{"type":"history","room":"dev","after":41,"limit":100}',
    '{"type":"kick","nick":"bob","reason":"spam","room":"dev"}',
    '{"type":"nick","nick":"alice","password":"pw"}',
    '{"type":"quit"}',
  ],
});

const item = (request: unknown) => JSON.stringify(request);

/** parseJsonItem of a request given as an object; keys whose value is undefined left out. */
function parse(request: unknown): unknown {
  const result = parseJsonItem(typeof request === "string" ? request : item(request));
  if (result === null) return null;
  return Object.fromEntries(Object.entries(result).filter(([, v]) => v !== undefined));
}

function bad(message: string, ref?: string | number) {
  return ref === undefined
    ? { type: "parse_error", code: "bad_request", message }
    : { type: "parse_error", code: "bad_request", message, ref };
}

// --- decoding: every request type -------------------------------------------------------------

/** Every request type with all its fields, as docs/protocol.md shows them. */
const FULL_REQUESTS: Record<Command["type"], Record<string, unknown>> = {
  say: { text: "hi", room: "dev", tags: { "+draft/reply": "dev-4" } },
  me: { text: "waves", room: "dev", tags: {} },
  notice: { text: "fyi", room: "dev", tags: {} },
  msg: { to: "bob", text: "psst", notice: true, tags: {} },
  tagmsg: { room: "dev", to: "bob", tags: { "+typing": "active" } },
  nick: { nick: "alice", password: "pw" },
  join: { room: "dev", password: "pw" },
  leave: { room: "dev", reason: "later" },
  rooms: { topics: true },
  who: { room: "dev", mask: "a*", limit: 100, offset: 0, detail: true },
  away: { text: "lunch" },
  whois: { nick: "bob" },
  ison: { nicks: ["bob", "carol"] },
  bans: { room: "dev" },
  modes: { room: "dev" },
  history: {
    room: "dev",
    after: 41,
    before: 60,
    around: 50,
    afterTime: 1,
    beforeTime: 2,
    aroundTime: 3,
    latest: true,
    with: "bob",
    member: true,
    limit: 100,
  },
  targets: { afterTime: 1, beforeTime: 2, limit: 10 },
  help: {},
  quit: { reason: "gone" },
  edit: { room: "dev", id: 41, text: "fixed" },
  delete: { room: "dev", with: "bob", id: 41, reason: "oops" },
  react: { room: "dev", id: 41, emoji: "👍" },
  unreact: { room: "dev", id: 41, emoji: "👍" },
  typing: { room: "dev", to: "bob", state: "active" },
  read: { room: "dev", with: "bob", id: 57, ts: 5 },
  kept: {},
  search: { text: "deploy friday", room: "dev", limit: 20 },
  pass: { password: "pw" },
  register: { password: "pw" },
  login: { account: "alice", password: "pw" },
  admin: { password: "pw" },
  token: {},
  resume: { token: "Zm9v" },
  logout: { all: true, token: "Zm9v" },
  stats: {},
  rehash: {},
  kick: { nick: "bob", reason: "spam", room: "dev" },
  ban: { nick: "bob", room: "dev" },
  unban: { nick: "bob", room: "dev" },
  op: { nick: "bob", room: "dev" },
  deop: { nick: "bob", room: "dev" },
  topic: { text: "hi", room: "dev" },
  lock: { password: "pw", room: "dev" },
  unlock: { room: "dev" },
  voice: { nick: "bob", room: "dev" },
  devoice: { nick: "bob", room: "dev" },
  flags: { room: "dev", secret: true, inviteOnly: false, topicOpen: true, outsiders: false },
  invite: { nick: "bob", room: "dev" },
};

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

const INTEGER_FIELDS = new Set([
  "id",
  "ts",
  "limit",
  "offset",
  "after",
  "before",
  "around",
  "afterTime",
  "beforeTime",
  "aroundTime",
]);
const BOOLEAN_FIELDS = new Set([
  "notice",
  "topics",
  "detail",
  "latest",
  "member",
  "secret",
  "inviteOnly",
  "topicOpen",
  "outsiders",
  "all",
]);
const LIST_FIELDS = new Set(["nicks", "tags"]);
const isString = (name: string) =>
  !INTEGER_FIELDS.has(name) && !BOOLEAN_FIELDS.has(name) && !LIST_FIELDS.has(name);

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

Deno.test("every string field refuses other types, with the request's ref", () => {
  for (const [type, fields] of Object.entries(FULL_REQUESTS)) {
    for (const name of Object.keys(fields).filter(isString)) {
      for (const wrong of [5, true, [], {}, ["a"]]) {
        assert.deepEqual(
          parse({ type, ...fields, [name]: wrong, ref: "r" }),
          bad(`field '${name}' must be a string`, "r"),
          `${type}.${name} = ${JSON.stringify(wrong)}`,
        );
      }
    }
  }
});

Deno.test("flags are true or false, lists are at most 64 strings", () => {
  for (const [type, fields] of Object.entries(FULL_REQUESTS)) {
    for (const name of Object.keys(fields).filter((n) => BOOLEAN_FIELDS.has(n))) {
      for (const wrong of [1, "true", [], {}]) {
        assert.deepEqual(
          parse({ type, ...fields, [name]: wrong, ref: "r" }),
          bad(`field '${name}' must be true or false`, "r"),
          `${type}.${name} = ${JSON.stringify(wrong)}`,
        );
      }
    }
  }
  for (const wrong of ["bob", [1], [null], Array(65).fill("x")]) {
    assert.deepEqual(
      parse({ type: "ison", nicks: wrong, ref: 2 }),
      bad("field 'nicks' must be a list of strings", 2),
    );
  }
});

Deno.test("every whole-number field refuses fractions, negatives, huge numbers and strings", () => {
  for (const [type, fields] of Object.entries(FULL_REQUESTS)) {
    for (const name of Object.keys(fields).filter((n) => INTEGER_FIELDS.has(n))) {
      for (const wrong of [-1, 1.5, 2 ** 60, "5", true, [1], { n: 1 }]) {
        assert.deepEqual(
          parse({ type, ...fields, [name]: wrong, ref: 1 }),
          bad(`field '${name}' must be a whole number`, 1),
          `${type}.${name} = ${JSON.stringify(wrong)}`,
        );
      }
    }
  }
  // 1e3 is JSON for a whole number.
  assert.deepEqual(parse('{"type":"history","limit":1e3}'), { type: "history", limit: 1000 });
});

Deno.test("history and who need a limit of at least 1; 0 is fine elsewhere", () => {
  for (const type of ["history", "who"]) {
    assert.deepEqual(
      parse({ type, limit: 0, ref: 2 }),
      bad("field 'limit' must be at least 1", 2),
      type,
    );
    assert.deepEqual(parse({ type, limit: 1 }), { type, limit: 1 }, type);
  }
  assert.deepEqual(parse({ type: "history", after: 0 }), { type: "history", after: 0 });
  assert.deepEqual(parse({ type: "who", offset: 0 }), { type: "who", offset: 0 });
});

Deno.test("an empty password is refused in every request that takes one", () => {
  for (const [type, fields] of Object.entries(FULL_REQUESTS)) {
    if (!("password" in fields)) continue;
    assert.deepEqual(
      parse({ type, ...fields, password: "", ref: "p" }),
      bad("field 'password' must not be empty", "p"),
      type,
    );
  }
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

// --- decoding: refusals -----------------------------------------------------------------------

Deno.test("a blank item is null", () => {
  for (const blank of ["", " ", "\t", "  \t  "]) assert.equal(parseJsonItem(blank), null);
});

Deno.test("malformed JSON and non-objects are bad requests without a ref", () => {
  for (const text of ["{", "{'type':'say'}", "say hi", '{"type":"say",}', "\u0000"]) {
    assert.deepEqual(parse(text), bad("malformed JSON"), text);
  }
  for (const text of ["[]", '[{"type":"say"}]', "1", '"say"', "null", "true"]) {
    assert.deepEqual(parse(text), bad("expected a JSON object"), text);
  }
});

Deno.test("a ref that is not a string or a number is refused, and not echoed", () => {
  for (const ref of [null, true, [1], { a: 1 }]) {
    assert.deepEqual(
      parse({ type: "say", text: "hi", ref }),
      bad("field 'ref' must be a string or a number"),
      JSON.stringify(ref),
    );
  }
  assert.deepEqual(parse({ type: "say", text: "hi", ref: "" }), {
    type: "say",
    text: "hi",
    ref: "",
  });
  assert.deepEqual(parse({ type: "say", text: "hi", ref: -1.5 }), {
    type: "say",
    text: "hi",
    ref: -1.5,
  });
});

Deno.test("a missing or non-string type is a bad request with the ref", () => {
  assert.deepEqual(parse({ text: "hi", ref: 3 }), bad("field 'type' must be a string", 3));
  for (const type of [null, 1, true, ["say"], { t: 1 }]) {
    assert.deepEqual(
      parse({ type, ref: "q" }),
      bad("field 'type' must be a string", "q"),
      JSON.stringify(type),
    );
  }
});

Deno.test("an unknown type is unknown_type listing the request types, with the ref", () => {
  const message = `unknown type 'frobnicate' (one of ${REQUEST_TYPES.join(", ")})`;
  assert.deepEqual(parse({ type: "frobnicate", ref: 4 }), {
    type: "parse_error",
    code: "unknown_type",
    message,
    ref: 4,
  });
  for (const type of ["", "SAY", "constructor", "__proto__", "toString", "hasOwnProperty"]) {
    const result = parseJsonItem(item({ type }));
    assert.equal(result?.type, "parse_error", type);
    assert.equal((result as { code: string }).code, "unknown_type", type);
  }
});

Deno.test("jsonCodec decodes like parseJsonItem", () => {
  assert.equal(jsonCodec.name, "json");
  for (
    const text of ["", "{", '{"type":"say","text":"hi","ref":1}', '{"type":"x","ref":"r"}']
  ) {
    assert.deepEqual(jsonCodec.decode(text), parseJsonItem(text), text);
  }
});

// --- encoding: every event's shape ------------------------------------------------------------

const MESSAGE: ChatMessage = {
  room: "dev",
  nick: "alice",
  text: "hi bob",
  id: 42,
  ts: 1795557001012,
  kind: "say",
};

/** The JSON line of `event`, as a client reads it (one item, newline included). */
const line = (event: ServerEvent) => jsonCodec.encode(event);

Deno.test("a message is flat: room, nick, text, id, ts and kind, then ref if any", () => {
  assert.equal(
    line({ type: "message", message: MESSAGE, ref: 3 }),
    '{"type":"message","room":"dev","nick":"alice","text":"hi bob","id":42,' +
      '"ts":1795557001012,"kind":"say","ref":3}\n',
  );
  assert.deepEqual(eventToJson({ type: "message", message: { ...MESSAGE, kind: "action" } }), {
    type: "message",
    room: "dev",
    nick: "alice",
    text: "hi bob",
    id: 42,
    ts: 1795557001012,
    kind: "action",
  });
});

Deno.test("history carries its messages in the message shape, oldest first", () => {
  const extra = { ...MESSAGE, id: 43, extra: "not sent" } as ChatMessage;
  assert.equal(
    line({ type: "history", room: "dev", messages: [MESSAGE, extra], ref: 4 }),
    '{"type":"history","room":"dev","messages":[' +
      '{"room":"dev","nick":"alice","text":"hi bob","id":42,"ts":1795557001012,"kind":"say"},' +
      '{"room":"dev","nick":"alice","text":"hi bob","id":43,"ts":1795557001012,"kind":"say"}' +
      '],"ref":4}\n',
  );
  assert.deepEqual(eventToJson({ type: "history", room: "dev", messages: [] }), {
    type: "history",
    room: "dev",
    messages: [],
  });
});

Deno.test("left has its reason as a word, with by and message where they apply", () => {
  const left = (reason: Extract<ServerEvent, { type: "left" }>["reason"]) =>
    eventToJson({ type: "left", room: "dev", nick: "bob", reason });
  const base = { type: "left", room: "dev", nick: "bob" };
  assert.deepEqual(left({ kind: "part" }), { ...base, reason: "part" });
  assert.deepEqual(left({ kind: "quit" }), { ...base, reason: "quit" });
  assert.deepEqual(left({ kind: "quit", message: "gone" }), {
    ...base,
    reason: "quit",
    message: "gone",
  });
  assert.deepEqual(left({ kind: "kick", by: "alice" }), { ...base, reason: "kick", by: "alice" });
  assert.deepEqual(left({ kind: "ban", by: "alice", message: "spam" }), {
    ...base,
    reason: "ban",
    by: "alice",
    message: "spam",
  });
  assert.equal(
    line({ type: "left", room: "dev", nick: "bob", reason: { kind: "part" }, ref: 1 }),
    '{"type":"left","room":"dev","nick":"bob","reason":"part","ref":1}\n',
  );
});

Deno.test("help lists the request types", () => {
  assert.deepEqual(eventToJson({ type: "help", ref: "h" }), {
    type: "help",
    requests: REQUEST_TYPES,
    ref: "h",
  });
});

Deno.test("an error has its code and message, and the ref only when there is one", () => {
  assert.equal(
    line({ type: "error", code: "bad_request", message: "field 'text' must be a string", ref: 5 }),
    '{"type":"error","code":"bad_request","message":"field \'text\' must be a string","ref":5}\n',
  );
  assert.equal(
    line({ type: "error", code: "line_too_long", message: "frame too long (max 4096 bytes)" }),
    '{"type":"error","code":"line_too_long","message":"frame too long (max 4096 bytes)"}\n',
  );
});

Deno.test("the flat events are copied as they are, in the documented shapes", () => {
  const cases: [ServerEvent, string][] = [
    [
      { type: "welcome", nick: "guest-3", room: "lobby", server: "chat", maxLineBytes: 4096 },
      '{"type":"welcome","nick":"guest-3","room":"lobby","server":"chat","maxLineBytes":4096}',
    ],
    [
      { type: "welcome", nick: "guest-3", room: "lobby", server: "chat", password: true },
      '{"type":"welcome","nick":"guest-3","room":"lobby","server":"chat","password":true}',
    ],
    [
      { type: "dm", from: "a", to: "b", text: "psst", ts: 5, ref: 1 },
      '{"type":"dm","from":"a","to":"b","text":"psst","ts":5,"ref":1}',
    ],
    [
      { type: "joined", room: "dev", nick: "alice", ref: 2 },
      '{"type":"joined","room":"dev","nick":"alice","ref":2}',
    ],
    [
      { type: "nick", old: "guest-3", nick: "alice", ref: 1 },
      '{"type":"nick","old":"guest-3","nick":"alice","ref":1}',
    ],
    [
      { type: "summary", room: "big", joined: 3, left: 1, seconds: 10 },
      '{"type":"summary","room":"big","joined":3,"left":1,"seconds":10}',
    ],
    [{ type: "current", room: null }, '{"type":"current","room":null}'],
    [{ type: "current", room: "dev", ref: "c" }, '{"type":"current","room":"dev","ref":"c"}'],
    [
      { type: "rooms", rooms: [{ room: "dev", members: 2 }] },
      '{"type":"rooms","rooms":[{"room":"dev","members":2}]}',
    ],
    [
      { type: "who", room: "dev", members: ["a", "b"] },
      '{"type":"who","room":"dev","members":["a","b"]}',
    ],
    [
      { type: "who", room: "big", members: ["z"], total: 201, offset: 200, ref: 7 },
      '{"type":"who","room":"big","members":["z"],"total":201,"offset":200,"ref":7}',
    ],
    [{ type: "bye", ref: 1 }, '{"type":"bye","ref":1}'],
    [{ type: "bye" }, '{"type":"bye"}'],
    [{ type: "shutdown" }, '{"type":"shutdown"}'],
    [{ type: "notice", text: "password accepted" }, '{"type":"notice","text":"password accepted"}'],
    [
      { type: "moderation", room: "dev", action: "ban", by: "alice", nick: "bob" },
      '{"type":"moderation","room":"dev","action":"ban","by":"alice","nick":"bob"}',
    ],
    [
      { type: "moderation", room: "dev", action: "lock", by: "alice" },
      '{"type":"moderation","room":"dev","action":"lock","by":"alice"}',
    ],
    [
      { type: "topic", room: "dev", topic: null, by: "alice", changed: true },
      '{"type":"topic","room":"dev","topic":null,"by":"alice","changed":true}',
    ],
    [
      { type: "topic", room: "dev", topic: "hi", by: "alice", ref: 3 },
      '{"type":"topic","room":"dev","topic":"hi","by":"alice","ref":3}',
    ],
  ];
  for (const [event, json] of cases) assert.equal(line(event), json + "\n", event.type);
});

Deno.test("stats carries every counter", () => {
  const stats: ServerEvent = {
    type: "stats",
    connections: { tcp: 2, ws: 1 },
    sessions: 3,
    rooms: 2,
    messagesIn: 10,
    eventsOut: 30,
    messagesPerSecond: 1.5,
    eventsPerSecond: 4.25,
    seconds: 60,
    uptimeSeconds: 120,
    history: 10,
    ref: 8,
  };
  assert.deepEqual(JSON.parse(line(stats)), stats);
  assert.deepEqual(Object.keys(JSON.parse(line(stats))), Object.keys(stats));
});

/** The events JSON clients get (the reactions digest is for other doors). */
const SHOWN = ALL_SAMPLE_EVENTS.filter((e) => e.type !== "reactions");

Deno.test("no event carries a ref key when it has none", () => {
  for (const event of SHOWN) {
    const { ref } = event as { ref?: unknown };
    assert.equal("ref" in JSON.parse(line(event)), ref !== undefined, event.type);
  }
});

Deno.test("every encoded event is one line: newlines and controls in text are escaped", () => {
  const hostile = "a\nb\r\nc\u2028d\u2029e\x00\x1b[2J\ud800";
  const events: ServerEvent[] = [
    ...SHOWN,
    { type: "message", message: { ...MESSAGE, text: hostile } },
    { type: "dm", from: "a", to: "b", text: hostile, ts: 1 },
    { type: "notice", text: hostile },
    { type: "error", code: "bad_request", message: hostile, ref: hostile },
    { type: "topic", room: "dev", topic: hostile, by: "a" },
  ];
  for (const event of events) {
    const encoded = line(event);
    assert.equal(encoded.indexOf("\n"), encoded.length - 1, event.type);
    assert.ok(!encoded.includes("\r"), event.type);
    assert.deepEqual(JSON.parse(encoded), eventToJson(event), event.type);
  }
  assert.equal(JSON.parse(line({ type: "notice", text: hostile })).text, hostile);
});

Deno.test("encodeJsonEvent is the line without its newline, made anew each time", () => {
  for (const event of SHOWN) {
    assert.equal(encodeJsonEvent(event) + "\n", line(event));
  }
  const event: ServerEvent = { type: "joined", room: "dev", nick: "bob" };
  assert.equal(encodeJsonEvent(event), encodeJsonEvent({ ...event }));
});
