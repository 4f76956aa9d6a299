/**
 * The WebSocket endpoint in both formats, over real sockets: text frames
 * behave like TCP lines, JSON requests get their documented events, and
 * WebSocket clients share rooms, history, backpressure and shutdown with
 * TCP clients.
 */
import assert from "node:assert/strict";
import { lastGuest, LineClient, withHttpServer } from "./helpers.ts";
import {
  type JsonEvent,
  type JsonVia,
  rawHandshake,
  readFrames,
  readWithTimeout,
  WsClient,
  wsUrl,
} from "./ws_client.ts";

const decoder = new TextDecoder();

/** An event without its `ts` (checked separately), for exact comparisons. */
function withoutTs(event: JsonEvent): JsonEvent {
  const { ts: _, ...rest } = event;
  return rest as JsonEvent;
}

/** Asserts `ts` is a plausible millisecond epoch taken between `from` and now. */
function assertTs(event: JsonEvent, from: number): void {
  assert.equal(typeof event.ts, "number");
  assert.ok(Number.isInteger(event.ts), `ts ${event.ts} is whole milliseconds`);
  assert.ok(event.ts >= from - 1 && event.ts <= Date.now() + 1, `ts ${event.ts} is now`);
}

// --- text format ---------------------------------------------------------------------------------

Deno.test("a text WebSocket client is welcomed with a guest nick and put in the lobby", async () => {
  await using server = await withHttpServer();
  await using a = await WsClient.open(wsUrl(server.httpPort));
  assert.equal(a.ws.protocol, "");
  const welcome = await a.waitFor((l) => l.startsWith("* welcome"));
  assert.match(
    welcome,
    /^\* welcome to chat, you are guest-\d+ in lobby \(\/nick <name> to change it, \/help for commands\)$/,
  );
  await a.expect(`* ${a.nick} joined lobby`);
  await using t = await LineClient.chat(server.port);
  assert.notEqual(a.nick, t.nick, "guest nicks are unique across transports");
  await a.expect(`* ${t.nick} joined lobby`);
  await t.send("from tcp");
  await a.expect(`[lobby] ${t.nick}: from tcp`);
  a.send("from ws");
  await t.expect(`[lobby] ${a.nick}: from ws`);
  await a.expect(`[lobby] ${a.nick}: from ws`);
});

/** Every kind of line and command, for comparing transports. */
const SCRIPT = [
  "/join #Dev",
  "hello dev",
  "//slash text",
  "  spaced  out  ",
  "/me waves",
  "/nick   alice  ",
  "/nick bad!name",
  "/nick",
  "/who",
  "/who lobby",
  "/who nowhere",
  "/rooms",
  "/x",
  "/history 3",
  "/history 0",
  "/msg alice to myself",
  "/msg nobody hi",
  "",
  "/join dev",
  "/leave",
  "in lobby now",
  "/leave lobby",
  "nowhere",
  "/history",
  "/help",
  "/join end",
];
// The first member of a new room is its operator: the last line of the script.
const LAST = "* you are an operator of end";

/** Runs SCRIPT on a fresh server as its only client; returns everything the client got. */
async function transcript(how: "tcp" | "ws-one-frame" | "ws-frame-per-line"): Promise<string[]> {
  await using server = await withHttpServer();
  if (how === "tcp") {
    await using c = await LineClient.chat(server.port);
    await c.send(...SCRIPT); // one write
    await c.expect(LAST);
    return [...c.lines];
  }
  await using c = await WsClient.text(server.httpPort);
  if (how === "ws-one-frame") c.send(...SCRIPT);
  else for (const line of SCRIPT) c.send(line);
  await c.expect(LAST);
  return [...c.items];
}

Deno.test("text frames behave exactly like TCP lines, several lines per frame or one", async () => {
  const tcp = await transcript("tcp");
  const oneFrame = await transcript("ws-one-frame");
  const perLine = await transcript("ws-frame-per-line");
  // Each is the first client of its own server: the same guest nick.
  assert.deepEqual(oneFrame, tcp);
  assert.deepEqual(perLine, tcp);
  // And what they all got is the documented text protocol, in order.
  const nick = /you are (\S+)/.exec(tcp[0])![1];
  const expected = [
    `* ${nick} joined lobby`,
    `* ${nick} joined dev`,
    `[dev] ${nick}: hello dev`,
    `[dev] ${nick}: /slash text`,
    `[dev] ${nick}:   spaced  out  `,
    `[dev] * ${nick} waves`,
    `* ${nick} is now known as alice`,
    "! invalid nick: bad!name (1 to 32 of A-Z a-z 0-9 _ -)",
    "! usage: /nick <name> [<password>]",
    "* members of dev: alice",
    "* members of lobby: alice",
    "! no such room: nowhere",
    "* dev (1 member)",
    "* lobby (1 member)",
    "! unknown command /x (try /help)",
    "* history dev begin",
    `[dev] ${nick}: /slash text`,
    `[dev] ${nick}:   spaced  out  `,
    `[dev] * ${nick} waves`,
    "* history dev end",
    "! usage: /history [<n>] [before #<id>] (n from 1 to 1000)",
    "[dm] alice -> alice: to myself",
    "! no such nick: nobody",
    "* now talking in dev",
    "* alice left dev",
    "* now talking in lobby",
    "[lobby] alice: in lobby now",
    "* alice left lobby",
    "* you are in no room now (try /join <room>)",
    "! you are not in a room (try /join <room>)",
    "! you are not in a room (try /join <room>)",
    "* commands:",
  ];
  let at = 0;
  for (const line of expected) {
    const found = tcp.indexOf(line, at);
    assert.ok(found !== -1, `missing (in order): ${line}\n${tcp.join("\n")}`);
    at = found + 1;
  }
  assert.equal(tcp.at(-1), LAST);
});

Deno.test("text WebSocket clients share rooms, nick changes and /who with TCP clients", async () => {
  await using server = await withHttpServer();
  await using w = await WsClient.text(server.httpPort);
  await using t = await LineClient.chat(server.port);
  w.send("/join dev");
  await w.expect(`* ${w.nick} joined dev`);
  await t.send("/join dev");
  await w.expect(`* ${t.nick} joined dev`);
  const old = w.nick;
  w.send("/nick wanda", "hi from ws", "/who");
  await t.expect(`* ${old} is now known as wanda`);
  await t.expect("[dev] wanda: hi from ws");
  await w.expect(`* members of dev: wanda, ${t.nick}`);
  await t.send("/nick WANDA");
  await t.expect("! nick taken: WANDA");
  w.send("/x");
  await w.expect("! unknown command /x (try /help)");
  w.send("/quit see you");
  await w.expect("* bye");
  const closed = await w.waitClosed();
  assert.equal(closed.code, 1000);
  await t.expect("* wanda left dev (quit: see you)");
});

// --- JSON format ---------------------------------------------------------------------------------

for (const via of ["query", "protocol"] as JsonVia[]) {
  const how = via === "query" ? "?format=json" : "the chat.json subprotocol";
  Deno.test(`${how} selects JSON: the welcome and the lobby join are JSON events`, async () => {
    await using server = await withHttpServer();
    await using a = await WsClient.jsonClient(server.httpPort, via);
    assert.equal(a.ws.protocol, via === "protocol" ? "chat.json" : "");
    assert.match(a.nick, /^guest-\d+$/);
    assert.deepEqual(a.events.slice(0, 2), [
      { type: "welcome", nick: a.nick, room: "lobby", server: "chat", maxLineBytes: 4096 },
      { type: "joined", room: "lobby", nick: a.nick, read: 0, unread: 0 },
    ]);
    a.sendJson({ type: "say", text: "hi", ref: "r1" });
    const own = await a.waitForEvent((e) => e.type === "message");
    assert.deepEqual(withoutTs(own), {
      type: "message",
      room: "lobby",
      nick: a.nick,
      text: "hi",
      id: 1,
      kind: "say",
      ref: "r1",
    });
    // A text client in the same room sees it as a line.
    await using t = await WsClient.text(server.httpPort);
    a.sendJson({ type: "say", text: "to text" });
    await t.expect(`[lobby] ${a.nick}: to text`);
  });
}

Deno.test("every JSON request gets its documented events, with ref on the replies only", async () => {
  await using server = await withHttpServer();
  await using a = await WsClient.jsonClient(server.httpPort, "query");
  await using b = await WsClient.jsonClient(server.httpPort, "protocol");
  const start = Date.now();
  const reply = (c: WsClient, ref: unknown) => c.waitForEvent((e) => e.ref === ref);

  // join: the joiner's reply carries the ref, the other members' copy does not.
  a.sendJson({ type: "join", room: "#Dev", ref: 1 });
  assert.deepEqual(await reply(a, 1), {
    type: "joined",
    room: "dev",
    nick: a.nick,
    read: 0,
    unread: 0,
    ref: 1,
  });
  b.sendJson({ type: "join", room: "dev", ref: "b1" });
  assert.deepEqual(await reply(b, "b1"), {
    type: "joined",
    room: "dev",
    nick: b.nick,
    read: 0,
    unread: 0,
    ref: "b1",
  });
  assert.deepEqual(
    await a.waitForEvent((e) => e.type === "joined" && e.nick === b.nick),
    { type: "joined", room: "dev", nick: b.nick },
  );

  // say with a room, and without (the current room).
  a.sendJson({ type: "say", room: "dev", text: "hello", ref: 2 });
  const own = await reply(a, 2);
  assertTs(own, start);
  assert.deepEqual(withoutTs(own), {
    type: "message",
    room: "dev",
    nick: a.nick,
    text: "hello",
    id: 1,
    kind: "say",
    ref: 2,
  });
  const copy = await b.waitForEvent((e) => e.type === "message" && e.text === "hello");
  assert.deepEqual(copy, withoutRef(own));
  a.sendJson({ type: "say", text: "second", ref: 3 });
  assert.deepEqual(withoutTs(await reply(a, 3)), {
    type: "message",
    room: "dev",
    nick: a.nick,
    text: "second",
    id: 2,
    kind: "say",
    ref: 3,
  });

  // join of a room one is in already only makes it current.
  a.sendJson({ type: "join", room: "lobby", ref: 4 });
  assert.deepEqual(await reply(a, 4), { type: "current", room: "lobby", ref: 4 });
  a.sendJson({ type: "say", text: "in lobby" }); // no ref: the own copy has none either
  const lobbyMsg = await a.waitForEvent((e) => e.type === "message" && e.text === "in lobby");
  assert.deepEqual(withoutTs(lobbyMsg), {
    type: "message",
    room: "lobby",
    nick: a.nick,
    text: "in lobby",
    id: 1,
    kind: "say",
  });
  await b.waitForEvent((e) => e.type === "message" && e.text === "in lobby");

  // me: an action.
  a.sendJson({ type: "me", room: "dev", text: "waves", ref: 5 });
  assert.deepEqual(withoutTs(await reply(a, 5)), {
    type: "message",
    room: "dev",
    nick: a.nick,
    text: "waves",
    id: 3,
    kind: "action",
    ref: 5,
  });
  const action = await b.waitForEvent((e) => e.type === "message" && e.text === "waves");
  assert.equal(action.kind, "action");
  assert.equal("ref" in action, false);

  // msg: a direct message reaches both ends.
  a.sendJson({ type: "msg", to: b.nick.toUpperCase(), text: "psst", ref: 6 });
  const dmA = await a.waitForEvent((e) => e.type === "dm");
  const dmB = await b.waitForEvent((e) => e.type === "dm");
  assertTs(dmB, start);
  assert.deepEqual(withoutTs(dmB), { type: "dm", from: a.nick, to: b.nick, text: "psst" });
  assert.deepEqual(withoutRef(withoutTs(dmA)), withoutTs(dmB));

  // nick: the client's reply has the ref, the room's copy does not.
  const old = a.nick;
  a.sendJson({ type: "nick", nick: "alice", ref: 7 });
  assert.deepEqual(await reply(a, 7), { type: "nick", old, nick: "alice", ref: 7 });
  assert.deepEqual(
    await b.waitForEvent((e) => e.type === "nick"),
    { type: "nick", old, nick: "alice" },
  );
  assert.equal(b.restEvents().filter((e) => e.type === "nick").length, 0, "told once");

  // who, with a room and without (the current room: lobby).
  a.sendJson({ type: "who", room: "dev", ref: 8 }, { type: "who", ref: 9 });
  assert.deepEqual(await reply(a, 8), {
    type: "who",
    room: "dev",
    members: ["alice", b.nick],
    ref: 8,
  });
  assert.deepEqual(await reply(a, 9), {
    type: "who",
    room: "lobby",
    members: ["alice", b.nick],
    ref: 9,
  });

  // rooms.
  a.sendJson({ type: "rooms", ref: 10 });
  assert.deepEqual(await reply(a, 10), {
    type: "rooms",
    // Unread: the kept messages above a's read marker (none set: all of them).
    rooms: [{ room: "dev", members: 2, unread: 3 }, { room: "lobby", members: 2, unread: 1 }],
    ref: 10,
  });

  // history: after/limit, limit alone, and past the end.
  a.sendJson({ type: "history", room: "dev", after: 1, limit: 1, ref: 11 });
  const h1 = await reply(a, 11);
  assert.equal(h1.type, "history");
  assert.equal(h1.room, "dev");
  assert.deepEqual(h1.messages.map(withoutTs), [
    { room: "dev", nick: old, text: "second", id: 2, kind: "say" },
  ]);
  a.sendJson({ type: "history", room: "dev", limit: 2, ref: 12 });
  assert.deepEqual((await reply(a, 12)).messages.map((m: JsonEvent) => m.id), [2, 3]);
  a.sendJson({ type: "history", room: "dev", after: 0, limit: 1000, ref: 13 });
  const all = await reply(a, 13);
  assert.deepEqual(all.messages.map((m: JsonEvent) => [m.id, m.text, m.kind]), [
    [1, "hello", "say"],
    [2, "second", "say"],
    [3, "waves", "action"],
  ]);
  for (const m of all.messages) assertTs(m, start);
  a.sendJson({ type: "history", room: "dev", after: 3, ref: 14 });
  assert.deepEqual(await reply(a, 14), { type: "history", room: "dev", messages: [], ref: 14 });
  a.sendJson({ type: "history", ref: 15 }); // the current room
  const h5 = await reply(a, 15);
  assert.equal(h5.room, "lobby");
  assert.deepEqual(h5.messages.map((m: JsonEvent) => m.text), ["in lobby"]);

  // help.
  a.sendJson({ type: "help", ref: 16 });
  const help = await reply(a, 16);
  assert.equal(help.type, "help");
  for (
    const t of ["say", "me", "msg", "nick", "join", "leave", "rooms", "who", "history", "quit"]
  ) {
    assert.ok(help.requests.includes(t), `help lists ${t}`);
  }

  // leave a named room; then the current one, which leaves no room current.
  a.sendJson({ type: "leave", room: "dev", ref: 17 });
  assert.deepEqual(await reply(a, 17), {
    type: "left",
    room: "dev",
    nick: "alice",
    reason: "part",
    ref: 17,
  });
  assert.deepEqual(
    await b.waitForEvent((e) => e.type === "left"),
    { type: "left", room: "dev", nick: "alice", reason: "part" },
  );
  a.sendJson({ type: "leave", ref: 18 });
  assert.deepEqual(await reply(a, 18), {
    type: "left",
    room: "lobby",
    nick: "alice",
    reason: "part",
    ref: 18,
  });
  assert.deepEqual(await reply(a, 18), { type: "current", room: null, ref: 18 });
  await b.waitForEvent((e) => e.type === "left" && e.room === "lobby" && !("ref" in e));

  // quit: bye with the ref, then the server closes; the rooms see the reason.
  a.sendJson({ type: "join", room: "dev", ref: 19 });
  await reply(a, 19);
  a.sendJson({ type: "quit", reason: "done for today", ref: 20 });
  assert.deepEqual(await reply(a, 20), { type: "bye", ref: 20 });
  assert.equal((await a.waitClosed()).code, 1000);
  assert.deepEqual(
    await b.waitForEvent((e) => e.type === "left" && e.nick === "alice"),
    { type: "left", room: "dev", nick: "alice", reason: "quit", message: "done for today" },
  );
  // No reply to a request ever reached the other member.
  assert.ok(!b.events.some((e) => typeof e.ref === "number"), "b never got a's refs");
});

function withoutRef(event: JsonEvent): JsonEvent {
  const { ref: _, ...rest } = event;
  return rest as JsonEvent;
}

// BUG (dm reply without ref): PROTOCOL.md says "A request's reply or error carries its
// `ref`", and every other request's reply does, but the sender's own `dm` event, the only
// reply to a `msg` request, never carries it: {"type":"msg","to":"guest-2","text":"psst",
// "ref":6} gets {"type":"dm","from":"guest-1","to":"guest-2","text":"psst","ts":...} with
// no ref, so a client cannot match the acknowledgement to its request. (Hub#directMessage
// takes the ref but only uses it for errors; the `dm` ServerEvent has no ref field.)
Deno.test({
  name: "the sender's copy of a direct message carries the msg request's ref",
  fn: async () => {
    await using server = await withHttpServer();
    await using a = await WsClient.jsonClient(server.httpPort);
    await using b = await WsClient.jsonClient(server.httpPort);
    a.sendJson({ type: "msg", to: b.nick, text: "psst", ref: 6 });
    const own = await a.waitForEvent((e) => e.type === "dm");
    assert.equal(own.ref, 6);
    const copy = await b.waitForEvent((e) => e.type === "dm");
    assert.equal("ref" in copy, false);
  },
});

Deno.test("a frame of several JSON requests is handled item by item, in order", async () => {
  await using server = await withHttpServer();
  await using a = await WsClient.jsonClient(server.httpPort);
  a.skip();
  a.send(
    JSON.stringify({ type: "join", room: "batch", ref: 1 }),
    JSON.stringify({ type: "say", text: "one", ref: 2 }),
    "{oops",
    "",
    JSON.stringify({ type: "say", text: "two", ref: 3 }) + "\r",
    JSON.stringify({ type: "who", ref: 4 }),
  );
  const got: JsonEvent[] = [];
  for (let i = 0; i < 6; i++) got.push(await a.next());
  assert.deepEqual(got.map((e) => [e.type, e.ref, e.text ?? e.code ?? e.room]), [
    ["joined", 1, "batch"],
    ["notice", undefined, "you are an operator of batch"],
    ["message", 2, "one"],
    ["error", undefined, "bad_request"],
    ["message", 3, "two"],
    ["who", 4, "batch"],
  ]);
  assert.deepEqual(got.filter((e) => e.type === "message").map((e) => e.id), [1, 2]);
});

Deno.test("newlines and controls in JSON text cannot forge lines for text clients", async () => {
  await using server = await withHttpServer();
  await using t = await LineClient.chat(server.port);
  await using w = await WsClient.text(server.httpPort);
  await using j = await WsClient.jsonClient(server.httpPort);
  j.sendJson(
    { type: "say", text: "one\n[lobby] admin: forged\u001b[31m\u0085!" },
    { type: "me", text: "two\r\nthree" },
    { type: "quit", reason: "bye\n* admin is now known as root" },
  );
  for (const c of [t, w]) {
    await c.expect(`[lobby] ${j.nick}: one[lobby] admin: forged!`);
    await c.expect(`[lobby] * ${j.nick} twothree`);
    await c.expect(`* ${j.nick} left lobby (quit: bye* admin is now known as root)`);
  }
  assert.ok(!t.lines.some((l) => l.startsWith("[lobby] admin") || l.startsWith("* admin")));
  assert.ok(!w.items.some((l) => l.startsWith("[lobby] admin") || l.startsWith("* admin")));
});

// --- errors keep the connection open ------------------------------------------------------------

Deno.test("bad JSON requests get an error event, with their ref, and the connection stays open", async () => {
  await using server = await withHttpServer();
  await using a = await WsClient.jsonClient(server.httpPort);
  const cases: [string, { code: string; message: string | RegExp; ref?: unknown }][] = [
    ["{not json", { code: "bad_request", message: "malformed JSON" }],
    ["[1,2,3]", { code: "bad_request", message: "expected a JSON object" }],
    ['[{"type":"say","text":"x"}]', { code: "bad_request", message: "expected a JSON object" }],
    ['"say"', { code: "bad_request", message: "expected a JSON object" }],
    ["null", { code: "bad_request", message: "expected a JSON object" }],
    ['{"type":"dance","ref":7}', {
      code: "unknown_type",
      message: /^unknown type 'dance'/,
      ref: 7,
    }],
    ['{"type":"dance"}', { code: "unknown_type", message: /^unknown type 'dance'/ }],
    ['{"ref":"x"}', { code: "bad_request", message: "field 'type' must be a string", ref: "x" }],
    [
      '{"type":"say","text":5,"ref":"t"}',
      { code: "bad_request", message: "field 'text' must be a string", ref: "t" },
    ],
    [
      '{"type":"say","text":"hi","room":[],"ref":2}',
      { code: "bad_request", message: "field 'room' must be a string", ref: 2 },
    ],
    [
      '{"type":"history","after":-1,"ref":3}',
      { code: "bad_request", message: "field 'after' must be a whole number", ref: 3 },
    ],
    [
      '{"type":"history","after":1.5,"ref":4}',
      { code: "bad_request", message: "field 'after' must be a whole number", ref: 4 },
    ],
    [
      '{"type":"history","limit":"10","ref":5}',
      { code: "bad_request", message: "field 'limit' must be a whole number", ref: 5 },
    ],
    [
      '{"type":"history","limit":0,"ref":6}',
      { code: "bad_request", message: "field 'limit' must be at least 1", ref: 6 },
    ],
    ['{"type":"say","ref":8}', {
      code: "bad_request",
      message: "field 'text' is required",
      ref: 8,
    }],
    ['{"type":"nick","nick":"bad!","ref":9}', {
      code: "invalid_nick",
      message: /^invalid nick/,
      ref: 9,
    }],
    [
      '{"type":"join","room":"bad.room","ref":10}',
      { code: "invalid_room", message: /^invalid room name: bad\.room/, ref: 10 },
    ],
    [
      '{"type":"say","room":"elsewhere","text":"x","ref":11}',
      { code: "not_in_room", message: "you are not in room elsewhere", ref: 11 },
    ],
    [
      '{"type":"msg","to":"nobody","text":"x","ref":12}',
      { code: "no_such_nick", message: "no such nick: nobody", ref: 12 },
    ],
    ['{"type":"say","text":"   ","ref":13}', {
      code: "empty_message",
      message: "empty message",
      ref: 13,
    }],
    [
      '{"type":"who","room":"nowhere","ref":14}',
      { code: "no_such_room", message: "no such room: nowhere", ref: 14 },
    ],
  ];
  let n = 0;
  for (const [item, want] of cases) {
    a.send(item);
    const error = await a.next();
    assert.equal(error.type, "error", `${item}: ${JSON.stringify(error)}`);
    assert.equal(error.code, want.code, item);
    if (typeof want.message === "string") assert.equal(error.message, want.message, item);
    else assert.match(error.message, want.message, item);
    if (want.ref === undefined) assert.equal("ref" in error, false, `${item}: no ref`);
    else assert.equal(error.ref, want.ref, item);
    // A normal request still works.
    a.sendJson({ type: "say", text: `still here ${++n}`, ref: `ok${n}` });
    const ok = await a.next();
    assert.equal(ok.type, "message", `after ${item}: ${JSON.stringify(ok)}`);
    assert.equal(ok.text, `still here ${n}`);
    assert.equal(ok.ref, `ok${n}`);
  }
  assert.equal(a.closed, false);
});

Deno.test("a binary frame gets binary_frame and the connection stays open (both formats)", async () => {
  await using server = await withHttpServer();
  await using j = await WsClient.jsonClient(server.httpPort);
  await using t = await WsClient.text(server.httpPort);
  j.skip();
  t.skip();
  j.ws.send(new Uint8Array([0x7b, 0x7d, 0x0a]));
  assert.deepEqual(await j.next(), {
    type: "error",
    code: "binary_frame",
    message: "binary frames are not supported (send text frames)",
  });
  j.sendJson({ type: "say", text: "after binary", ref: 1 });
  assert.equal((await j.next()).text, "after binary");
  t.ws.send(new TextEncoder().encode("binary hello\n"));
  await t.expect("! binary frames are not supported (send text frames)");
  t.send("after binary");
  await t.expect(`[lobby] ${t.nick}: after binary`);
  assert.ok(!t.items.some((l) => l.includes("binary hello")), "the binary frame reached no one");
});

Deno.test("a frame over max-line-bytes gets line_too_long; one at the limit is fine", async () => {
  await using server = await withHttpServer();
  await using j = await WsClient.jsonClient(server.httpPort);
  await using t = await WsClient.text(server.httpPort);
  j.skip();
  t.skip();
  // Exactly 4096 bytes (with a two-byte character in it): accepted.
  const head = '{"type":"say","text":"é';
  const exact = head + "x".repeat(4096 - new TextEncoder().encode(head).length - 2) + '"}';
  assert.equal(new TextEncoder().encode(exact).length, 4096);
  j.send(exact);
  const ok = await j.waitForEvent((e) => e.type === "message" && e.nick === j.nick);
  assert.equal(ok.text, JSON.parse(exact).text);
  // One byte more (the é makes the UTF-8 length larger than the string length).
  j.send(exact.replace("é", "éé").replace("xx", "x"));
  assert.deepEqual(await j.next(), {
    type: "error",
    code: "line_too_long",
    message: "frame too long (max 4096 bytes)",
  });
  j.sendJson({ type: "say", text: "y".repeat(10_000), ref: "big" });
  assert.deepEqual(await j.next(), {
    type: "error",
    code: "line_too_long",
    message: "frame too long (max 4096 bytes)",
  });
  j.sendJson({ type: "say", text: "small again", ref: 2 });
  const again = await j.waitForEvent((e) => e.ref === 2);
  assert.equal(again.text, "small again");
  const before = server.stats.rejected.too_long;
  t.send("z".repeat(5000));
  await t.expect("! frame too long (max 4096 bytes)");
  t.send("short");
  await t.expect(`[lobby] ${t.nick}: short`);
  assert.equal(server.stats.rejected.too_long, before + 1);
  assert.ok(!t.items.some((l) => l.includes("zzzz") || l.includes("yyyy")));
});

// --- mixed transports ----------------------------------------------------------------------------

Deno.test("TCP, text WebSocket and JSON WebSocket clients in one room see each other", async () => {
  await using server = await withHttpServer();
  await using t = await LineClient.chat(server.port);
  await using w = await WsClient.text(server.httpPort);
  await using j = await WsClient.jsonClient(server.httpPort, "protocol");
  await t.send("/join mix");
  await t.expect(`* ${t.nick} joined mix`);
  w.send("/join mix");
  await t.expect(`* ${w.nick} joined mix`);
  j.sendJson({ type: "join", room: "mix", ref: "j" });
  await j.waitForEvent((e) => e.ref === "j");
  await t.expect(`* ${j.nick} joined mix`);
  await w.expect(`* ${j.nick} joined mix`);

  // Each speaks once the previous line has arrived, so every member sees the same order.
  await t.send("from tcp");
  await w.expect(`[mix] ${t.nick}: from tcp`);
  w.send("from ws text");
  await t.expect(`[mix] ${w.nick}: from ws text`);
  await w.expect(`[mix] ${w.nick}: from ws text`);
  j.sendJson({ type: "say", room: "mix", text: "from json" });
  for (const c of [t, w]) await c.expect(`[mix] ${j.nick}: from json`);
  const texts: string[] = [];
  for (let i = 0; i < 3; i++) {
    const m = await j.waitForEvent((e) => e.type === "message");
    assert.equal(m.room, "mix");
    texts.push(`${m.nick}: ${m.text}`);
  }
  assert.deepEqual(texts, [
    `${t.nick}: from tcp`,
    `${w.nick}: from ws text`,
    `${j.nick}: from json`,
  ]);

  await t.send("/me dances");
  const act = await j.waitForEvent((e) => e.type === "message" && e.kind === "action");
  assert.deepEqual([act.nick, act.text], [t.nick, "dances"]);
  await w.expect(`[mix] * ${t.nick} dances`);

  // Nick changes, told once to everyone sharing a room.
  const [tOld, wOld, jOld] = [t.nick, w.nick, j.nick];
  w.send("/nick wally");
  await t.expect(`* ${wOld} is now known as wally`);
  assert.deepEqual(
    await j.waitForEvent((e) => e.type === "nick"),
    { type: "nick", old: wOld, nick: "wally" },
  );
  j.sendJson({ type: "nick", nick: "jay" });
  await t.expect(`* ${jOld} is now known as jay`);
  await w.expect(`* ${jOld} is now known as jay`);
  await t.send("/nick tom");
  await w.expect(`* ${tOld} is now known as tom`);
  await j.waitForEvent((e) => e.type === "nick" && e.nick === "tom" && e.old === tOld);
  j.sendJson({ type: "say", text: "as jay" });
  await t.expect("[mix] jay: as jay");
  await w.expect("[mix] jay: as jay");

  // Leaves: a part, then a quit by closing the connection.
  await t.send("/leave mix");
  await w.expect("* tom left mix");
  assert.deepEqual(
    await j.waitForEvent((e) => e.type === "left"),
    { type: "left", room: "mix", nick: "tom", reason: "part" },
  );
  await j.close();
  await w.expect("* jay left mix (quit)");
  await t.expect("* jay left lobby (quit)");
  w.send("/quit bye all");
  await t.expect("* wally left lobby (quit: bye all)");
});

// --- reconnect and gap fill ----------------------------------------------------------------------

Deno.test("a JSON client that reconnects fills its gap with history after its last id", async () => {
  await using server = await withHttpServer();
  let lastId: number;
  {
    await using j = await WsClient.jsonClient(server.httpPort);
    j.sendJson({ type: "join", room: "r", ref: 1 });
    await j.waitForEvent((e) => e.ref === 1);
    for (let i = 0; i < 5; i++) j.sendJson({ type: "say", text: `before ${i}`, ref: `b${i}` });
    const last = await j.waitForEvent((e) => e.ref === "b4");
    lastId = last.id;
    assert.equal(lastId, 5);
  } // disconnected
  await using t = await LineClient.chat(server.port);
  await t.send("/join r");
  await t.expect(`* ${t.nick} joined r`);
  for (let i = 0; i < 30; i += 10) {
    await t.send(...Array.from({ length: 10 }, (_, k) => `missed ${i + k}`));
  }
  await t.expect(`[r] ${t.nick}: missed 29`);
  await using j = await WsClient.jsonClient(server.httpPort);
  j.sendJson({ type: "history", room: "r", after: lastId, limit: 1000, ref: "gap" });
  const history = await j.waitForEvent((e) => e.ref === "gap");
  assert.equal(history.type, "history");
  assert.equal(history.room, "r");
  const messages: JsonEvent[] = history.messages;
  assert.equal(messages.length, 30);
  assert.deepEqual(
    messages.map((m) => m.id),
    Array.from({ length: 30 }, (_, k) => lastId + 1 + k),
    "consecutive ids right after the last one seen: no gap, no duplicate",
  );
  assert.deepEqual(
    messages.map((m) => m.text),
    Array.from({ length: 30 }, (_, k) => `missed ${k}`),
  );
  assert.ok(messages.every((m) => m.room === "r" && m.nick === t.nick && m.kind === "say"));
  // Then live messages continue the sequence.
  j.sendJson({ type: "join", room: "r", ref: "rejoin" });
  await j.waitForEvent((e) => e.ref === "rejoin");
  await t.send("live again");
  const live = await j.waitForEvent((e) => e.type === "message" && e.text === "live again");
  assert.equal(live.id, lastId + 31);
});

// --- many clients --------------------------------------------------------------------------------

Deno.test("500 WebSocket clients (text and JSON) each receive every line once and in order", async () => {
  const MEMBERS = 500;
  const SENDERS = 5;
  const PER_SENDER = 20;
  const deadline = Date.now() + 60_000;
  const left = () => Math.max(1, deadline - Date.now());
  await using server = await withHttpServer({ quietRoomSize: 1000 });
  const clients: WsClient[] = [];
  try {
    for (let i = 0; i < MEMBERS; i += 50) {
      clients.push(
        ...await Promise.all(
          Array.from(
            { length: Math.min(50, MEMBERS - i) },
            (_, k) =>
              (i + k) % 2 === 0
                ? WsClient.text(server.httpPort)
                : WsClient.jsonClient(server.httpPort, (i + k) % 4 === 1 ? "query" : "protocol"),
          ),
        ),
      );
    }
    // The room is complete once everyone has seen the last member join.
    const last = lastGuest(clients);
    await Promise.all(
      clients.filter((c) => c !== last).map((c) =>
        c.json
          ? c.waitForEvent((e) => e.type === "joined" && e.nick === last.nick, left())
          : c.expect(`* ${last.nick} joined lobby`, left())
      ),
    );
    for (const c of clients) c.clear();
    // Senders 0..4 alternate formats; each sends its lines in frames of several.
    for (let s = 0; s < SENDERS; s++) {
      const c = clients[s];
      const texts = Array.from({ length: PER_SENDER }, (_, n) => `m ${s} ${n}`);
      for (let i = 0; i < texts.length; i += 7) {
        const chunk = texts.slice(i, i + 7);
        if (c.json) c.sendJson(...chunk.map((text) => ({ type: "say", text })));
        else c.send(...chunk);
      }
    }
    const expected = SENDERS * PER_SENDER;
    const numbered = (c: WsClient): [number, number][] =>
      c.json
        ? c.events.filter((e) => e.type === "message" && /^m \d+ \d+$/.test(e.text)).map((e) =>
          e.text.split(" ").slice(1).map(Number) as [number, number]
        )
        : c.items.filter((l) => /^\[lobby\] \S+: m \d+ \d+$/.test(l)).map((l) =>
          l.split(" ").slice(-2).map(Number) as [number, number]
        );
    await Promise.all(
      clients.map((c) =>
        c.until(() => numbered(c).length >= expected, left(), `${expected} lines at ${c.nick}`)
      ),
    );
    // A last line from sender 0 arrives after its others: anything duplicated would be in by now.
    clients[0].send("done");
    await Promise.all(
      clients.map((c) =>
        c.json
          ? c.waitForEvent((e) => e.type === "message" && e.text === "done", left())
          : c.waitFor((l) => l.endsWith(": done"), left())
      ),
    );
    for (const c of clients) {
      const got = numbered(c);
      assert.equal(got.length, expected, `${c.nick} got ${got.length} lines`);
      for (let s = 0; s < SENDERS; s++) {
        assert.deepEqual(
          got.filter(([from]) => from === s).map(([, n]) => n),
          Array.from({ length: PER_SENDER }, (_, n) => n),
          `${c.nick}: sender ${s}'s lines once each and in order`,
        );
      }
      if (c.json) {
        const msgs = c.events.filter((e) => e.type === "message");
        for (const m of msgs) assert.equal("ref" in m, false);
        const ids = msgs.map((m) => m.id);
        assert.deepEqual(ids, [...ids].sort((x, y) => x - y), "ids increase");
      }
    }
    assert.equal(server.stats.connections.get("ws"), MEMBERS);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});

// --- backpressure --------------------------------------------------------------------------------

Deno.test("a WebSocket client that never reads is cut off; the others get every line", async () => {
  await using server = await withHttpServer({ maxQueueBytes: 256 * 1024 });
  // A client `WebSocket` always reads: do the handshake by hand, then stop reading.
  const raw = await rawHandshake(server.httpPort);
  try {
    assert.equal(raw.status, 101, raw.head);
    let welcome = "";
    await readFrames(raw.conn, raw.rest, (frame) => {
      const text = new TextDecoder().decode(frame.payload);
      if (text.includes("* welcome")) welcome = text;
      return / joined lobby$/m.test(text);
    });
    const lazyNick = /you are (\S+)/.exec(welcome)![1];
    await using reader = await LineClient.chat(server.port);
    await using sender = await LineClient.chat(server.port);
    await reader.send("/who");
    await reader.expect(`* members of lobby: ${lazyNick}, ${reader.nick}, ${sender.nick}`);
    const TOO_SLOW = `* ${lazyNick} left lobby (quit: too slow)`;
    let cutOff = false;
    const line = "p".repeat(3000);
    const total = 8000; // 24 MB to each member: more than the kernel buffers hold
    const prefix = `[lobby] ${sender.nick}: `;
    for (let i = 0; i < total; i += 50) {
      await sender.send(...Array.from({ length: 50 }, (_, k) => `${i + k} ${line}`));
      await reader.waitFor((l) => l.startsWith(`${prefix}${i + 49} `), 30_000);
      // Every line of the batch, in order, nothing lost.
      const got = reader.lines.filter((l) => l.startsWith(prefix));
      assert.deepEqual(
        got.map((l) => Number(l.slice(prefix.length, l.indexOf(" ", prefix.length)))),
        Array.from({ length: 50 }, (_, k) => i + k),
      );
      assert.ok(got.every((l) => l.endsWith(line)));
      if (reader.lines.includes(TOO_SLOW)) cutOff = true;
      reader.lines.length = 0; // keep the test's memory low
      reader.skip();
    }
    if (!cutOff) await reader.expect(TOO_SLOW, 20_000);
    assert.equal(server.stats.slowConsumers, 1);
    // Once it reads again, what is in the socket buffers ends with a close frame (1008).
    const close = await readFrames(raw.conn, new Uint8Array(0), (f) => f.opcode === 8, 20_000);
    assert.ok(close !== null, "a close frame, not just the end of the connection");
    const code = (close.payload[0] << 8) | close.payload[1];
    assert.equal(code, 1008);
    assert.equal(new TextDecoder().decode(close.payload.subarray(2)), "disconnected: too slow");
  } finally {
    raw.conn.close();
  }
  // Its connection is gone from the gauge once the server saw the TCP close.
  const until = Date.now() + 10_000;
  while (server.stats.connections.get("ws") !== 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(server.stats.connections.get("ws"), 0);
});

// BUG (a WebSocket cut off as too slow is never actually disconnected): on overflow
// WsConnection#tooSlow makes the client leave its rooms and calls `socket.close(1008)`, but
// Deno's server-side close only sends a close frame and waits for the peer's; a peer that
// does not read never gets it, so the TCP connection (with the server's buffered frames)
// stays open for as long as the peer likes. Steps: as in the test above, stop reading after
// the handshake and get cut off (`slowConsumers === 1`, `left lobby (quit: too slow)`); then,
// still not reading, wait: `stats.connections.get("ws")` (= /metrics
// chat_connections{transport="ws"}, /healthz connections) stays 1 (observed for 90 s; the 30 s
// idle ping timeout does not end it either). A TCP client in the same case is closed at once.
// PROTOCOL.md: "when the bound is passed it is disconnected".
Deno.test({
  name:
    "a WebSocket client cut off as too slow is gone for the chat and its socket even if it never reads",
  fn: async () => {
    await using server = await withHttpServer({ maxQueueBytes: 256 * 1024 });
    const raw = await rawHandshake(server.httpPort);
    try {
      await using reader = await LineClient.chat(server.port);
      await using sender = await LineClient.chat(server.port);
      const line = "p".repeat(3000);
      const tooSlow = (l: string) => l.endsWith(" left lobby (quit: too slow)");
      let cutOff = false;
      for (let i = 0; i < 8000 && !cutOff; i += 50) {
        await sender.send(...Array.from({ length: 50 }, (_, k) => `${i + k} ${line}`));
        await reader.waitFor((l) => l.startsWith(`[lobby] ${sender.nick}: ${i + 49} `), 30_000);
        cutOff = reader.lines.some(tooSlow);
        reader.lines.length = 0;
        reader.skip();
      }
      if (!cutOff) await reader.waitFor(tooSlow, 20_000);
      assert.equal(server.stats.slowConsumers, 1);
      // The peer still does not read: the server must drop the connection anyway.
      const until = Date.now() + 10_000;
      while (server.stats.connections.get("ws") !== 0 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(server.stats.connections.get("ws"), 0, "the stalled connection was closed");
      // Still not reading, past the close handshake's grace (1 s): the server has let go of the
      // TCP connection too. What the kernel held arrives, then the end, though this client never
      // answered the close.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const chunk = new Uint8Array(1 << 20);
      const readUntil = Date.now() + 10_000;
      let n: number | null = 0;
      while (n !== null) n = await readWithTimeout(raw.conn, chunk, readUntil - Date.now());
    } finally {
      raw.conn.close();
    }
  },
});

// --- shutdown ------------------------------------------------------------------------------------

Deno.test("on shutdown WebSocket clients are told, in their format, then closed with 1001", async () => {
  await using server = await withHttpServer();
  await using t = await WsClient.text(server.httpPort);
  await using j = await WsClient.jsonClient(server.httpPort);
  await using p = await WsClient.jsonClient(server.httpPort, "protocol");
  t.send("last words");
  await j.waitForEvent((e) => e.type === "message" && e.text === "last words");
  await p.waitForEvent((e) => e.type === "message" && e.text === "last words");
  await server.shutdown();
  const tClose = await t.waitClosed();
  assert.equal(t.items.at(-1), "* server shutting down");
  assert.equal(tClose.code, 1001);
  for (const c of [j, p]) {
    const closed = await c.waitClosed();
    assert.deepEqual(c.events.at(-1), { type: "shutdown" });
    assert.equal(closed.code, 1001);
    assert.equal(closed.reason, "server shutting down");
  }
  assert.equal(server.stats.openConnections(), 0);
});

// BUG (shutdown waits forever for a WebSocket peer that does not answer the close): the
// drain deadline (`drainTimeoutMs`) does not bound WebSocket clients. goingAway() calls
// `socket.close(1001)`; after the deadline forceClose() calls `socket.close()` again, which
// is a no-op on a closing socket, and startServer's shutdown then awaits
// `Promise.all(handlers)` (and `http.shutdown()`), which wait for the peer's close frame.
// Steps: withHttpServer({ drainTimeoutMs: 500 }); a raw WebSocket client completes the
// handshake, reads its welcome, then neither reads nor sends again (or reads but never
// answers the close frame); `await server.shutdown()` does not return until the peer closes
// its TCP connection (observed: 40 s, i.e. for as long as the peer waited). The same case
// over TCP returns after ~500 ms (shutdown_test.ts). A SIGTERM'd server would hang likewise.
Deno.test({
  name: "shutdown does not wait past the drain deadline for a WebSocket peer that never answers",
  fn: async () => {
    await using server = await withHttpServer({ drainTimeoutMs: 500 });
    const raw = await rawHandshake(server.httpPort);
    let finished = false;
    let stopping: Promise<void> | null = null;
    try {
      await readFrames(
        raw.conn,
        raw.rest,
        (f) => / joined lobby$/m.test(decoder.decode(f.payload)),
      );
      const started = performance.now();
      stopping = server.shutdown().then(() => void (finished = true));
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        stopping,
        new Promise((resolve) => (timer = setTimeout(resolve, 3000))),
      ]);
      clearTimeout(timer);
      assert.ok(finished, `shutdown still running after ${performance.now() - started} ms`);
    } finally {
      raw.conn.close();
      await stopping;
    }
  },
});

Deno.test("a WebSocket peer that stops answering pings is dropped and leaves its rooms", async () => {
  await using server = await withHttpServer({ wsPingTimeoutS: 1 });
  await using watcher = await LineClient.chat(server.port);
  // A raw client that completes the handshake and then never answers anything (no pong).
  const raw = await rawHandshake(server.httpPort);
  try {
    await watcher.waitFor((l) => / joined lobby$/.test(l));
    await watcher.waitFor((l) => / left lobby \(quit\)$/.test(l), 10_000);
    assert.equal(server.stats.connections.get("ws"), 0);
  } finally {
    raw.conn.close();
  }
});
