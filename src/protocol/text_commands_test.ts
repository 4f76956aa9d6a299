import assert from "node:assert/strict";
import { HELP, parseTextLine } from "./text_commands.ts";

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
