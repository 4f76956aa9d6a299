import assert from "node:assert/strict";
import { escapeTag, formatMessage, MAX_BODY_BYTES, parseMessage } from "./message.ts";

Deno.test("irc message: command, params and trailing", () => {
  assert.deepEqual(parseMessage("privmsg #dev :hello there"), {
    tags: {},
    command: "PRIVMSG",
    params: ["#dev", "hello there"],
  });
  assert.deepEqual(parseMessage("NICK bob"), { tags: {}, command: "NICK", params: ["bob"] });
  assert.deepEqual(parseMessage("USER u 0 *  :Real Name"), {
    tags: {},
    command: "USER",
    params: ["u", "0", "*", "Real Name"],
  });
  assert.deepEqual(parseMessage("PRIVMSG #a :"), {
    tags: {},
    command: "PRIVMSG",
    params: ["#a", ""],
  });
  assert.deepEqual(parseMessage(":nick!u@h QUIT"), {
    tags: {},
    source: "nick!u@h",
    command: "QUIT",
    params: [],
  });
});

Deno.test("irc message: tags are unescaped, and escaped back", () => {
  const m = parseMessage("@label=a\\sb\\:c;+draft/reply=12;flag :x PRIVMSG #d :hi");
  assert.ok(typeof m !== "string");
  assert.deepEqual(m.tags, { label: "a b;c", "+draft/reply": "12", flag: "" });
  assert.equal(m.source, "x");
  assert.equal(escapeTag("a b;c\\\r\n"), "a\\sb\\:c\\\\\\r\\n");
  assert.deepEqual(parseMessage("@k=ab\\ PING x"), {
    tags: { k: "ab" },
    command: "PING",
    params: ["x"],
  });
});

Deno.test("irc message: formatting adds the trailing colon only where needed", () => {
  assert.equal(
    formatMessage({ tags: {}, source: "srv", command: "001", params: ["bob", "Welcome bob"] }),
    ":srv 001 bob :Welcome bob",
  );
  assert.equal(formatMessage({ tags: {}, command: "PING", params: ["tok"] }), "PING tok");
  assert.equal(formatMessage({ tags: {}, command: "PRIVMSG", params: ["#a", ""] }), "PRIVMSG #a :");
  assert.equal(
    formatMessage({ tags: {}, command: "PRIVMSG", params: ["#a", ":)"] }),
    "PRIVMSG #a ::)",
  );
  assert.equal(
    formatMessage({
      tags: { time: "2026-01-01T00:00:00.000Z", msgid: "7" },
      command: "X",
      params: [],
    }),
    "@time=2026-01-01T00:00:00.000Z;msgid=7 X",
  );
});

Deno.test("irc message: limits on the body and the client's tags", () => {
  assert.equal(parseMessage(""), "empty");
  assert.equal(parseMessage("   "), "empty");
  assert.equal(parseMessage("@a=b"), "empty");
  const body = "PRIVMSG #a :" + "x".repeat(MAX_BODY_BYTES - 14);
  assert.ok(typeof parseMessage(body) !== "string", "510 bytes + CRLF fit");
  assert.equal(parseMessage(body + "x"), "body_too_long");
  assert.equal(parseMessage("@t=" + "v".repeat(5000) + " PING x"), "tags_too_long");
});
