import assert from "node:assert/strict";
import type { ChatMessage, ServerEvent } from "../core/types.ts";
import { codecContract } from "./codec_contract.ts";
import { ALL_SAMPLE_EVENTS } from "./codec_samples.ts";
import { encodeEvent, formatEvent, HELP, parseTextLine, textCodec } from "./text.ts";

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

/** parseTextLine with keys whose value is undefined left out, so `{ room: undefined }` = `{}`. */
function parse(line: string): unknown {
  const result = parseTextLine(line);
  if (result === null) return null;
  return Object.fromEntries(Object.entries(result).filter(([, v]) => v !== undefined));
}

function usage(message: string) {
  return { type: "parse_error", code: "bad_request", message };
}

function unknown(word: string) {
  return {
    type: "parse_error",
    code: "unknown_command",
    message: `unknown command /${word} (try /help)`,
  };
}

// --- parseTextLine: plain lines ---------------------------------------------------------------

Deno.test("a blank or whitespace-only line parses to null", () => {
  for (const line of ["", " ", "   ", "\t", " \t \t "]) assert.equal(parseTextLine(line), null);
});

Deno.test("plain text is a say with the text unchanged", () => {
  assert.deepEqual(parse("hello world"), { type: "say", text: "hello world" });
  assert.deepEqual(parse("  indented  and  spaced  "), {
    type: "say",
    text: "  indented  and  spaced  ",
  });
  assert.deepEqual(parse("café 日本 😀"), { type: "say", text: "café 日本 😀" });
  assert.deepEqual(parse("a /join b"), { type: "say", text: "a /join b" });
});

Deno.test("//text says /text", () => {
  assert.deepEqual(parse("//text"), { type: "say", text: "/text" });
  assert.deepEqual(parse("//join dev"), { type: "say", text: "/join dev" });
  assert.deepEqual(parse("//"), { type: "say", text: "/" });
  assert.deepEqual(parse("  //shrug"), { type: "say", text: "/shrug" });
});

// --- parseTextLine: the command table ---------------------------------------------------------

Deno.test("/help parses, whatever follows it", () => {
  assert.deepEqual(parse("/help"), { type: "help" });
  assert.deepEqual(parse("  /help  "), { type: "help" });
  assert.deepEqual(parse("/HELP"), { type: "help" });
  assert.deepEqual(parse("/help me"), { type: "help" });
});

Deno.test("/nick takes a name, then optionally the nick's password (the rest of the line)", () => {
  assert.deepEqual(parse("/nick bob"), { type: "nick", nick: "bob" });
  assert.deepEqual(parse("   /nick    Bob_2   "), { type: "nick", nick: "Bob_2" });
  assert.deepEqual(parse("/nick\tbob"), { type: "nick", nick: "bob" });
  assert.deepEqual(parse("/nick"), usage("usage: /nick <name> [<password>]"));
  assert.deepEqual(parse("/nick   "), usage("usage: /nick <name> [<password>]"));
  assert.deepEqual(parse("/nick a b"), { type: "nick", nick: "a", password: "b" });
  assert.deepEqual(parse("/nick a  two words "), {
    type: "nick",
    nick: "a",
    password: "two words",
  });
});

Deno.test("/join takes a room, then optionally its password", () => {
  assert.deepEqual(parse("/join dev"), { type: "join", room: "dev" });
  assert.deepEqual(parse("  /join   dev  "), { type: "join", room: "dev" });
  assert.deepEqual(parse("/join"), usage("usage: /join <room> [<password>]"));
  assert.deepEqual(parse("/join dev ops"), { type: "join", room: "dev", password: "ops" });
});

Deno.test("account and operator commands", () => {
  assert.deepEqual(parse("/pass  s3cret word "), { type: "pass", password: "s3cret word" });
  assert.deepEqual(parse("/pass"), usage("usage: /pass <password>"));
  assert.deepEqual(parse("/register pw"), { type: "register", password: "pw" });
  assert.deepEqual(parse("/admin pw"), { type: "admin", password: "pw" });
  assert.deepEqual(parse("/stats"), { type: "stats" });
  assert.deepEqual(parse("/kick bob"), { type: "kick", nick: "bob" });
  assert.deepEqual(parse("/kick bob be nice"), { type: "kick", nick: "bob", reason: "be nice" });
  assert.deepEqual(parse("/kick"), usage("usage: /kick <nick> [<reason>]"));
  assert.deepEqual(parse("/ban bob"), { type: "ban", nick: "bob" });
  assert.deepEqual(parse("/ban bob x"), usage("usage: /ban <nick>"));
  assert.deepEqual(parse("/unban bob"), { type: "unban", nick: "bob" });
  assert.deepEqual(parse("/op bob"), { type: "op", nick: "bob" });
  assert.deepEqual(parse("/deop bob"), { type: "deop", nick: "bob" });
  assert.deepEqual(parse("/topic"), { type: "topic" });
  assert.deepEqual(parse("/topic  Release day "), { type: "topic", text: "Release day" });
  assert.deepEqual(parse("/topic -"), { type: "topic", text: "" });
  assert.deepEqual(parse("/lock hunter2"), { type: "lock", password: "hunter2" });
  assert.deepEqual(parse("/lock off"), { type: "unlock" });
  assert.deepEqual(parse("/unlock"), { type: "unlock" });
  assert.deepEqual(parse("/lock"), usage("usage: /lock <password> (or /lock off)"));
});

Deno.test("command words are case-insensitive and arguments keep their case", () => {
  assert.deepEqual(parse("/JOIN dev"), { type: "join", room: "dev" });
  assert.deepEqual(parse("/Join Dev"), { type: "join", room: "Dev" });
  assert.deepEqual(parse("/NiCk Alice"), { type: "nick", nick: "Alice" });
  assert.deepEqual(parse("/MSG Bob Hi"), { type: "msg", to: "Bob", text: "Hi" });
  assert.deepEqual(parse("/PART"), { type: "leave" });
  assert.deepEqual(parse("/LIST"), { type: "rooms" });
});

Deno.test("/leave and /part take an optional room", () => {
  for (const word of ["leave", "part"]) {
    assert.deepEqual(parse(`/${word}`), { type: "leave" }, word);
    assert.deepEqual(parse(`/${word}   `), { type: "leave" }, word);
    assert.deepEqual(parse(` /${word}  dev `), { type: "leave", room: "dev" }, word);
    assert.deepEqual(parse(`/${word} a b`), usage("usage: /leave [<room>]"), word);
  }
  assert.equal((parseTextLine("/leave") as { room?: string }).room, undefined);
});

Deno.test("/rooms and /list list the rooms", () => {
  assert.deepEqual(parse("/rooms"), { type: "rooms" });
  assert.deepEqual(parse("  /list  "), { type: "rooms" });
});

Deno.test("/who takes an optional room", () => {
  assert.deepEqual(parse("/who"), { type: "who" });
  assert.deepEqual(parse("/who   dev  "), { type: "who", room: "dev" });
  assert.deepEqual(parse("/who a 2"), { type: "who", room: "a", limit: 100, offset: 100 });
  assert.deepEqual(parse("/who a 1"), { type: "who", room: "a", limit: 100, offset: 0 });
  assert.deepEqual(parse("/who a b"), usage("usage: /who [<room> [<page>]]"));
  assert.deepEqual(parse("/who a 0"), usage("usage: /who [<room> [<page>]]"));
  assert.deepEqual(parse("/who a 2 3"), usage("usage: /who [<room> [<page>]]"));
});

Deno.test("/msg takes a nick and a text, the text keeping its inner spaces", () => {
  assert.deepEqual(parse("/msg bob hi there"), { type: "msg", to: "bob", text: "hi there" });
  assert.deepEqual(parse("  /msg   bob    hi   there  "), {
    type: "msg",
    to: "bob",
    text: "hi   there",
  });
  assert.deepEqual(parse("/msg bob"), usage("usage: /msg <nick> <text>"));
  assert.deepEqual(parse("/msg bob    "), usage("usage: /msg <nick> <text>"));
  assert.deepEqual(parse("/msg"), usage("usage: /msg <nick> <text>"));
});

Deno.test("/me takes a text", () => {
  assert.deepEqual(parse("/me waves"), { type: "me", text: "waves" });
  assert.deepEqual(parse("/me   waves  at  you  "), { type: "me", text: "waves  at  you" });
  assert.deepEqual(parse("/me"), usage("usage: /me <text>"));
  assert.deepEqual(parse("/me    "), usage("usage: /me <text>"));
});

const HISTORY_USAGE = usage("usage: /history [<n>] [before #<id>] (n from 1 to 1000)");

Deno.test("/history takes an optional positive count", () => {
  assert.deepEqual(parse("/history"), { type: "history" });
  assert.deepEqual(parse("  /history   5  "), { type: "history", limit: 5 });
  assert.deepEqual(parse("/history 1"), { type: "history", limit: 1 });
  assert.deepEqual(parse("/history 1000"), { type: "history", limit: 1000 });
});

Deno.test("/history rejects a count that is not a positive whole number", () => {
  for (const arg of ["0", "abc", "-1", "1.5", "05", "1e3", "0x10", "5 6"]) {
    assert.deepEqual(parse(`/history ${arg}`), HISTORY_USAGE, arg);
  }
});

Deno.test("/history accepts counts above 1000 up to 7 digits: the hub clamps them", () => {
  assert.deepEqual(parse("/history 1001"), { type: "history", limit: 1001 });
  assert.deepEqual(parse("/history 9999999"), { type: "history", limit: 9999999 });
  assert.deepEqual(parse("/history 10000000"), HISTORY_USAGE);
});

Deno.test("/history before pages back from a message", () => {
  assert.deepEqual(parse("/history before #41"), { type: "history", before: 41 });
  assert.deepEqual(parse("/history 50 before 41"), { type: "history", limit: 50, before: 41 });
  assert.deepEqual(parse("/history before"), HISTORY_USAGE);
  assert.deepEqual(parse("/history 5 after 3"), HISTORY_USAGE);
});

Deno.test("messages are named #<id>: /ids, /edit, /delete, /react, /unreact, /reply, /search", () => {
  assert.deepEqual(parse("/ids"), { type: "history", limit: 10, ids: true });
  assert.deepEqual(parse("/ids 3"), { type: "history", limit: 3, ids: true });
  assert.deepEqual(parse("/ids x"), usage("usage: /ids [<n>] (n from 1 to 1000)"));
  assert.deepEqual(parse("/edit #41 fixed it"), { type: "edit", id: 41, text: "fixed it" });
  // Without an id: your last message. A number without # is text.
  assert.deepEqual(parse("/edit 42 is the answer"), {
    type: "edit",
    id: 0,
    text: "42 is the answer",
  });
  assert.deepEqual(parse("/edit #41"), usage("usage: /edit [#<id>] <text>"));
  assert.deepEqual(parse("/delete"), { type: "delete", id: 0 });
  assert.deepEqual(parse("/del #7 spam"), { type: "delete", id: 7, reason: "spam" });
  assert.deepEqual(parse("/react #41 👍"), { type: "react", id: 41, emoji: "👍" });
  assert.deepEqual(parse("/react 🎉"), { type: "react", id: 0, emoji: "🎉" });
  assert.deepEqual(parse("/unreact #41 👍"), { type: "unreact", id: 41, emoji: "👍" });
  assert.deepEqual(parse("/react #41 a b"), usage("usage: /react [#<id>] <emoji>"));
  assert.deepEqual(parse("/reply #41 yes"), { type: "say", text: "yes", replyTo: 41 });
  assert.deepEqual(parse("/reply yes"), usage("usage: /reply #<id> <text>"));
  assert.deepEqual(parse("/search deploy friday"), { type: "search", text: "deploy friday" });
  assert.deepEqual(parse("/search"), usage("usage: /search <words>"));
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

Deno.test("/quit takes an optional reason, kept with its inner spaces", () => {
  assert.deepEqual(parse("/quit"), { type: "quit" });
  assert.deepEqual(parse("/quit   "), { type: "quit" });
  assert.deepEqual(parse("/quit  see you   later  "), { type: "quit", reason: "see you   later" });
  assert.equal((parseTextLine("/quit") as { reason?: string }).reason, undefined);
});

Deno.test("an unknown command is a parse_error naming it", () => {
  assert.deepEqual(parse("/x"), unknown("x"));
  assert.deepEqual(parse("/x"), {
    type: "parse_error",
    code: "unknown_command",
    message: "unknown command /x (try /help)",
  });
  assert.deepEqual(parse("  /frobnicate  now "), unknown("frobnicate"));
  assert.deepEqual(parse("/FOO"), unknown("FOO"));
  assert.deepEqual(parse("/"), unknown(""));
});

Deno.test("names of Object.prototype members are unknown commands, not crashes", () => {
  for (const word of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
    assert.deepEqual(parse(`/${word}`), unknown(word));
  }
});

Deno.test("/help lists every command of the table, and every command it lists parses", () => {
  const listed = new Set(HELP.join("\n").match(/(?<![/\w])\/[a-z]+/g));
  // Not a command: the example of "//text says /text".
  listed.delete("/text");
  assert.deepEqual(
    [...listed].sort(),
    [
      "/admin",
      "/away",
      "/ban",
      "/delete",
      "/deop",
      "/edit",
      "/help",
      "/history",
      "/ids",
      "/invite",
      "/join",
      "/kick",
      "/leave",
      "/list",
      "/lock",
      "/me",
      "/msg",
      "/nick",
      "/op",
      "/part",
      "/pass",
      "/quit",
      "/react",
      "/register",
      "/rehash",
      "/reply",
      "/rooms",
      "/search",
      "/stats",
      "/topic",
      "/unban",
      "/unreact",
      "/who",
      "/whois",
    ],
  );
  for (const word of listed) {
    const result = parseTextLine(`${word} a b`);
    assert.notEqual(result, null, word);
    if (result?.type === "parse_error") assert.notEqual(result.code, "unknown_command", word);
  }
});

// --- formatEvent ------------------------------------------------------------------------------

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
