import assert from "node:assert/strict";
import type { ChatMessage } from "../core/types.ts";
import type { ServerEvent } from "../core/events.ts";
import { codecContract } from "./codec_contract.ts";
import { ALL_SAMPLE_EVENTS } from "./codec_samples.ts";
import { encodeEvent, formatEvent, textCodec } from "./text.ts";
import { HELP, parseTextLine } from "./text_commands.ts";

codecContract(textCodec, {
  silent: ["tagmsg", "presence", "react", "typing"],
  junk: ["/frobnicate", "/", "/nick", "/history x", "/msg bob", "/who a b", "/constructor"],
  valid: [
    "hello world",
    "/join dev pw",
    "/msg bob hi there",
    "/history 5",
    "/who big 2",
    "/kick bob be nice",
    "/me waves",
    "//slash",
  ],
});

function message(overrides: Partial<ChatMessage> = {}): ChatMessage {
  return {
    room: "dev",
    nick: "alice",
    text: "hello",
    id: 1,
    ts: 1_700_000_000_000,
    kind: "say",
    ...overrides,
  };
}

Deno.test("a message is formatted as [room] nick: text", () => {
  assert.equal(formatEvent({ type: "message", message: message() }), "[dev] alice: hello\n");
  assert.equal(
    formatEvent({ type: "message", message: message({ text: "café 😀: ok" }) }),
    "[dev] alice: café 😀: ok\n",
  );
});

Deno.test("an action is formatted as [room] * nick text", () => {
  assert.equal(
    formatEvent({ type: "message", message: message({ kind: "action", text: "waves" }) }),
    "[dev] * alice waves\n",
  );
});

Deno.test("a direct message is formatted as [dm] from -> to: text", () => {
  assert.equal(
    formatEvent({ type: "dm", from: "a", to: "b", text: "psst", ts: 0 }),
    "[dm] a -> b: psst\n",
  );
});

Deno.test("welcome names the server, the nick and the room", () => {
  assert.equal(
    formatEvent({ type: "welcome", server: "chat", nick: "guest-1", room: "lobby" }),
    "* welcome to chat, you are guest-1 in lobby (/nick <name> to change it, /help for commands)\n",
  );
});

Deno.test("joined is formatted as * nick joined room", () => {
  assert.equal(formatEvent({ type: "joined", room: "dev", nick: "bob" }), "* bob joined dev\n");
});

Deno.test("left is formatted with the part or quit reason", () => {
  const left = (reason: Extract<ServerEvent, { type: "left" }>["reason"]) =>
    formatEvent({ type: "left", room: "dev", nick: "bob", reason });
  assert.equal(left({ kind: "part" }), "* bob left dev\n");
  assert.equal(left({ kind: "quit" }), "* bob left dev (quit)\n");
  assert.equal(left({ kind: "quit", message: "see you" }), "* bob left dev (quit: see you)\n");
});

Deno.test("a nick change is formatted as * old is now known as new", () => {
  assert.equal(
    formatEvent({ type: "nick", old: "old", nick: "new" }),
    "* old is now known as new\n",
  );
  assert.equal(
    formatEvent({ type: "nick", old: "same", nick: "same" }),
    "* you are already known as same\n",
  );
});

Deno.test("current names the room, or says there is none", () => {
  assert.equal(formatEvent({ type: "current", room: "dev" }), "* now talking in dev\n");
  assert.equal(
    formatEvent({ type: "current", room: null }),
    "* you are in no room now (try /join <room>)\n",
  );
});

Deno.test("rooms gives one line per room with its member count, one member in the singular", () => {
  assert.equal(
    formatEvent({
      type: "rooms",
      rooms: [{ room: "dev", members: 3 }, { room: "lobby", members: 12 }, {
        room: "empty",
        members: 0,
      }, { room: "solo", members: 1 }],
    }),
    "* dev (3 members)\n* lobby (12 members)\n* empty (0 members)\n* solo (1 member)\n",
  );
  assert.equal(formatEvent({ type: "rooms", rooms: [] }), "* no rooms\n");
});

Deno.test("a page of a big room's members says where it is and how to go on", () => {
  const members = Array.from({ length: 100 }, (_, i) => `n${i + 101}`);
  assert.equal(
    formatEvent({ type: "who", room: "big", members, total: 250, offset: 100 }),
    `* members of big (101-200 of 250; /who big 3 for more): ${members.join(", ")}\n`,
  );
  assert.equal(
    formatEvent({ type: "who", room: "big", members: ["z"], total: 201, offset: 200 }),
    "* members of big (201-201 of 201): z\n",
  );
  assert.equal(
    formatEvent({ type: "who", room: "big", members: [], total: 201, offset: 300 }),
    "* members of big: none past 201\n",
  );
});

Deno.test("who lists the members separated by commas", () => {
  assert.equal(
    formatEvent({ type: "who", room: "dev", members: ["a", "b"] }),
    "* members of dev: a, b\n",
  );
  assert.equal(
    formatEvent({ type: "who", room: "dev", members: ["solo"] }),
    "* members of dev: solo\n",
  );
});

Deno.test("history is framed by begin and end lines", () => {
  assert.equal(
    formatEvent({
      type: "history",
      room: "dev",
      messages: [message({ text: "one" }), message({ nick: "bob", kind: "action", text: "two" })],
    }),
    "* history dev begin\n[dev] alice: one\n[dev] * bob two\n* history dev end\n",
  );
  assert.equal(
    formatEvent({ type: "history", room: "dev", messages: [] }),
    "* history dev begin\n* history dev end\n",
  );
});

Deno.test("help gives every help line prefixed with * ", () => {
  const out = formatEvent({ type: "help" });
  assert.equal(out, HELP.map((l) => `* ${l}\n`).join(""));
  assert.equal(out.split("\n").length - 1, HELP.length);
  assert.ok(HELP.length > 5);
});

Deno.test("bye and shutdown have their fixed lines", () => {
  assert.equal(formatEvent({ type: "bye" }), "* bye\n");
  assert.equal(formatEvent({ type: "shutdown" }), "* server shutting down\n");
});

Deno.test("an error is formatted as ! message", () => {
  assert.equal(
    formatEvent({ type: "error", code: "nick_taken", message: "nick bob is taken" }),
    "! nick bob is taken\n",
  );
});

Deno.test("control characters in an error message are stripped", () => {
  assert.equal(
    formatEvent({
      type: "error",
      code: "unknown_command",
      message: "unknown command /\x1b[31mred\x1b]0;title\x07x\r\n\x00 (try /help)",
    }),
    "! unknown command /redx (try /help)\n",
  );
});

Deno.test("edits, deletes, reaction digests, replies, unread and search read as lines", () => {
  const at = Date.UTC(2026, 11, 5, 14, 2);
  assert.equal(
    formatEvent({ type: "edit", room: "dev", id: 41, nick: "alice", text: "fixed", ts: at }),
    "* alice edited #41 in dev: fixed\n",
  );
  assert.equal(
    formatEvent({ type: "delete", room: "dev", id: 41, nick: "op", reason: "spam" }),
    "* op deleted #41 in dev (spam)\n",
  );
  assert.equal(
    formatEvent({
      type: "reactions",
      room: "dev",
      id: 41,
      nick: "alice",
      text: "ship it",
      reactions: { "👍": ["bob", "carol"], "🎉": ["dan"] },
    }),
    "* reactions to #41 in dev (alice: ship it): 👍 2, 🎉 1\n",
  );
  assert.equal(
    formatEvent({ type: "message", message: message({ replyTo: 41, text: "yes" }) }),
    "[dev] alice: (re #41) yes\n",
  );
  assert.equal(
    formatEvent({
      type: "history",
      room: "dev",
      messages: [message({ edited: at, reactions: { "👍": ["bob"] } })],
    }),
    "* history dev begin\n[dev] alice: hello (edited) [👍 1]\n* history dev end\n",
  );
  assert.equal(
    formatEvent({ type: "history", room: "dev", messages: [message({ ts: at })], ids: true }),
    "* history dev begin\n* #1 14:02 alice: hello\n* history dev end\n",
  );
  assert.equal(
    formatEvent({ type: "joined", room: "dev", nick: "bob", read: 40, readAt: at, unread: 12 }),
    "* bob joined dev\n* 12 unread in dev since 2026-12-05 14:02 UTC\n",
  );
  assert.equal(
    formatEvent({ type: "joined", room: "dev", nick: "bob", read: 0, unread: 12 }),
    "* bob joined dev\n",
    "nothing read yet: no count of the whole history",
  );
  assert.equal(
    formatEvent({ type: "search", results: [message({ id: 7, ts: at })] }),
    "* search: 1 result, newest first\n* #7 [dev] 14:02 alice: hello\n",
  );
  assert.equal(formatEvent({ type: "search", results: [] }), "* search: nothing found\n");
});

// --- encodeEvent ------------------------------------------------------------------------------

Deno.test("encodeEvent returns the UTF-8 bytes of formatEvent", () => {
  const event: ServerEvent = { type: "message", message: message({ text: "é€😀" }) };
  assert.deepEqual(encodeEvent(event), new TextEncoder().encode("[dev] alice: é€😀\n"));
});

Deno.test("encodeEvent encodes on every call: sharing one encoding is a Broadcast's job", () => {
  const event: ServerEvent = { type: "joined", room: "dev", nick: "bob" };
  const first = encodeEvent(event);
  assert.notEqual(encodeEvent(event), first);
  assert.deepEqual(encodeEvent(event), first);
  assert.equal(new TextDecoder().decode(first), "* bob joined dev\n");
});

Deno.test("encodeEvent encodes a different event object anew, even with the same content", () => {
  const a: ServerEvent = { type: "joined", room: "dev", nick: "bob" };
  const b: ServerEvent = { type: "joined", room: "dev", nick: "bob" };
  const c: ServerEvent = { type: "joined", room: "ops", nick: "carol" };
  const bytesA = encodeEvent(a);
  const bytesB = encodeEvent(b);
  assert.notEqual(bytesB, bytesA);
  assert.deepEqual(bytesB, bytesA);
  assert.equal(new TextDecoder().decode(encodeEvent(c)), "* carol joined ops\n");
  assert.equal(new TextDecoder().decode(encodeEvent(a)), "* bob joined dev\n");
});

// --- textCodec --------------------------------------------------------------------------------

Deno.test("textCodec decodes like parseTextLine and encodes like formatEvent", () => {
  assert.equal(textCodec.name, "text");
  for (const line of ["", "hi", "/join dev", "/x", "/history 0"]) {
    assert.deepEqual(textCodec.decode(line), parseTextLine(line), line);
  }
  for (const event of ALL_SAMPLE_EVENTS) {
    assert.equal(textCodec.encode(event), formatEvent(event), event.type);
  }
});
