/** Every event encodes to one JSON line, in the shape docs/protocol.md shows. */
import assert from "node:assert/strict";
import type { ChatMessage } from "../core/types.ts";
import type { ServerEvent } from "../core/events.ts";
import { ALL_SAMPLE_EVENTS, SAMPLE_EVENTS } from "./codec_samples.ts";
import { encodeJsonEvent, eventToJson, jsonCodec, REQUEST_TYPES } from "./json.ts";

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
  const stats: ServerEvent = { ...SAMPLE_EVENTS.stats[0], ref: 8 };
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
