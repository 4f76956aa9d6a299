/**
 * Message semantics on the IRC door, over real sockets: `REDACT`
 * (`draft/message-redaction`) and its notice for clients without the cap,
 * reactions (`+draft/react` on `TAGMSG`) and their digest for clients
 * without tags, replies (`+draft/reply`) live and in history, typing
 * (`+typing`), read markers (`draft/read-marker` `MARKREAD`), and edits
 * and deletions made on the text door. Every wait is bounded.
 *
 * @module
 */

import assert from "node:assert/strict";
import { LineClient, withServer } from "./helpers.ts";
import { type IrcLine, nickOf, RawIrc } from "./irc_client.ts";

const SERVER = "chat.local";
const TAGS = ["message-tags", "echo-message", "labeled-response", "batch"];
const REDACT = [...TAGS, "draft/message-redaction"];

/** A server with an IRC listener on an ephemeral loopback port; `irc` is its port. */
function ircServer(historyOnJoin?: number) {
  const server = withServer({
    irc: { hostname: "127.0.0.1", port: 0 },
    ...(historyOnJoin === undefined ? {} : { historyOnJoin }),
  });
  return Object.assign(server, { irc: server.ircAddr!.port });
}

/** Registers with `caps` and joins `channel`; the lines so far are skipped. */
async function member(port: number, nick: string, caps: string[], channel = "#dev") {
  const client = await RawIrc.register(port, nick, { caps });
  await client.send(`JOIN ${channel}`);
  await client.expect("366");
  await client.sync();
  return client;
}

/** Says `text` (with `tags`, as `@a=b;c=d`) and returns its msgid, from the echo. */
async function say(client: RawIrc, target: string, text: string, tags = ""): Promise<string> {
  await client.send(`${tags === "" ? "" : `@${tags} `}PRIVMSG ${target} :${text}`);
  const echo = await client.waitFor((m) => m.command === "PRIVMSG" && m.params[1] === text);
  assert.ok(echo.tags.msgid, `an msgid on ${echo.raw}`);
  return echo.tags.msgid;
}

/** The lines up to a PING's PONG: everything caused by what was sent before. */
const settled = (client: RawIrc) => client.sync();

/** Asserts a `FAIL` line's command, code and parameters (before its text). */
function assertFail(line: IrcLine, ...params: string[]): void {
  assert.equal(line.command, "FAIL", line.raw);
  assert.deepEqual(line.params.slice(0, params.length), params, line.raw);
  assert.equal(line.params.length, params.length + 1, `a FAIL ends with its text: ${line.raw}`);
}

/** The messages of a `CHATHISTORY` batch (`BATCH` lines left out). */
async function history(client: RawIrc, line: string): Promise<IrcLine[]> {
  await client.send(line);
  const open = await client.waitFor((m) => m.command === "BATCH" && m.params[0].startsWith("+"));
  const id = open.params[0].slice(1);
  const lines: IrcLine[] = [];
  for (;;) {
    const next = await client.waitFor(() => true);
    if (next.command === "BATCH" && next.params[0] === `-${id}`) return lines;
    lines.push(next);
  }
}

Deno.test("REDACT deletes one's own message, an operator's deletes another's, others are refused", async () => {
  await using server = ircServer();
  await using alice = await member(server.irc, "alice", REDACT); // first: the operator
  await using bob = await member(server.irc, "bob", REDACT);
  await using carol = await member(server.irc, "carol", []); // no caps: the notice instead
  await alice.sync();

  // Her own, labeled: the REDACT is her labeled reply; bob gets it too, carol a notice.
  const mine = await say(alice, "#dev", "oops");
  assert.match(mine, /^dev-\d+$/);
  await alice.send(`@label=r1 REDACT #dev ${mine}`);
  const redact = await alice.expect("REDACT");
  assert.equal(redact.tags.label, "r1", redact.raw);
  assert.equal(nickOf(redact.source), "alice");
  assert.deepEqual(redact.params, ["#dev", mine]);
  const toBob = await bob.waitFor((m) => m.command === "REDACT");
  assert.equal(nickOf(toBob.source), "alice");
  assert.deepEqual(toBob.params, ["#dev", mine]);
  const notice = await carol.waitFor((m) => m.command === "NOTICE" && m.params[0] === "#dev");
  assert.equal(notice.source, SERVER);
  assert.equal(notice.params[1], "alice deleted a message");
  assert.ok(
    !(await settled(carol)).some((m) => m.command === "REDACT"),
    "no REDACT without the cap",
  );

  // Bob's message: bob, not an operator, may not delete hers; she, an operator, deletes his.
  const hers = await say(alice, "#dev", "mine to keep");
  const his = await say(bob, "#dev", "buy cheap stuff");
  await alice.sync();
  await bob.send(`REDACT #dev ${hers}`);
  assertFail(await bob.expect("FAIL"), "REDACT", "REDACT_FORBIDDEN", "#dev", hers);
  assert.ok(!(await settled(alice)).some((m) => m.command === "REDACT"), "refused: nothing sent");
  await alice.send(`REDACT #dev ${his} :spam`);
  assert.deepEqual((await alice.expect("REDACT")).params, ["#dev", his, "spam"]);
  assert.deepEqual((await bob.expect("REDACT")).params, ["#dev", his, "spam"]);
  const spam = await carol.waitFor((m) => m.command === "NOTICE" && m.params[0] === "#dev");
  assert.equal(spam.params[1], "alice deleted a message: spam");

  // Gone (again), another channel's, not an msgid of ours, a channel not joined, too few params.
  await alice.send(`REDACT #dev ${his}`);
  assertFail(await alice.expect("FAIL"), "REDACT", "UNKNOWN_MSGID", "#dev", his);
  await alice.send("REDACT #dev ops-1", "REDACT #dev nonexistent123", "REDACT #dev dev-0");
  assertFail(await alice.expect("FAIL"), "REDACT", "UNKNOWN_MSGID", "#dev", "ops-1");
  assertFail(await alice.expect("FAIL"), "REDACT", "UNKNOWN_MSGID", "#dev", "nonexistent123");
  assertFail(await alice.expect("FAIL"), "REDACT", "UNKNOWN_MSGID", "#dev", "dev-0");
  await alice.send("REDACT #elsewhere elsewhere-1", "REDACT #elsewhere whatever");
  assertFail(await alice.expect("FAIL"), "REDACT", "INVALID_TARGET", "#elsewhere");
  assertFail(await alice.expect("FAIL"), "REDACT", "INVALID_TARGET", "#elsewhere");
  await alice.send("REDACT #dev");
  assert.equal((await alice.expect("461")).params[1], "REDACT");

  // Deleted messages are gone from history; the one kept is there.
  await alice.send("CAP REQ draft/chathistory");
  await alice.expect("CAP");
  const kept = await history(alice, "CHATHISTORY LATEST #dev * 10");
  assert.deepEqual(kept.map((m) => m.params[1]), ["mine to keep"]);
});

Deno.test("a reaction is a TAGMSG to clients with tags and a digest notice to the others", async () => {
  await using server = ircServer();
  await using alice = await member(server.irc, "alice", [...TAGS, "server-time"]);
  await using bob = await member(server.irc, "bob", ["message-tags", "labeled-response"]);
  await using carol = await member(server.irc, "carol", []);
  await alice.sync();
  const hi = await say(alice, "#dev", "hi");
  await bob.waitFor((m) => m.params[1] === "hi");

  // Bob reacts (no echo-message: his labeled TAGMSG is ACKed); alice sees his TAGMSG.
  await bob.send(`@label=b1;+draft/react=👍;+draft/reply=${hi} TAGMSG #dev`);
  assert.equal((await bob.expect("ACK")).tags.label, "b1");
  const react = await alice.waitFor((m) => m.command === "TAGMSG");
  assert.equal(nickOf(react.source), "bob");
  assert.deepEqual(react.params, ["#dev"]);
  assert.equal(react.tags["+draft/react"], "👍");
  assert.equal(react.tags["+draft/reply"], hi);
  assert.ok(react.tags.msgid && react.tags.time, react.raw);

  // Alice reacts twice and takes one back: her echo and bob's copy share each msgid.
  await alice.send(`@+draft/react=🎉;+draft/reply=${hi} TAGMSG #dev`);
  const echo = await alice.waitFor((m) => m.command === "TAGMSG");
  const copy = await bob.waitFor((m) => m.command === "TAGMSG");
  assert.equal(echo.tags["+draft/react"], "🎉");
  assert.equal(copy.tags.msgid, echo.tags.msgid);
  await alice.send(`@+draft/react=👀;+draft/reply=${hi} TAGMSG #dev`);
  await alice.send(`@+draft/unreact=👀;+draft/reply=${hi} TAGMSG #dev`);
  const unreact = await bob.waitFor((m) => m.command === "TAGMSG" && "+draft/unreact" in m.tags);
  assert.equal(unreact.tags["+draft/unreact"], "👀");
  assert.equal(unreact.tags["+draft/reply"], hi);

  // Carol sees no TAGMSG, and after the burst one notice with the counts as they stand.
  const digest = await carol.waitFor((m) => m.command === "NOTICE", 9000);
  assert.equal(digest.source, SERVER);
  assert.deepEqual(digest.params, ["#dev", `reactions to alice's "hi": 👍 1, 🎉 1`]);
  const lines = [...carol.lines];
  assert.ok(!lines.some((m) => m.command === "TAGMSG"), "no TAGMSG without message-tags");
  // The clients with tags saw each reaction: no digest for them.
  for (const client of [alice, bob]) {
    assert.ok(!(await settled(client)).some((m) => m.command === "NOTICE"), "no digest with tags");
  }

  // Refused: a message not kept, twice the same reaction, taking back one not given.
  await alice.send("@+draft/react=👍;+draft/reply=dev-99 TAGMSG #dev");
  assertFail(await alice.expect("FAIL"), "TAGMSG", "UNKNOWN_MSGID", "#dev", "dev-99");
  await bob.send(`@+draft/react=👍;+draft/reply=${hi} TAGMSG #dev`);
  assertFail(await bob.expect("FAIL"), "TAGMSG", "INVALID_PARAMS", "#dev");
  // Not a kept message's msgid: relayed as the tags they are.
  await alice.send("@+draft/react=👍;+draft/reply=somewhere-else TAGMSG #dev");
  const relayed = await bob.waitFor((m) => m.command === "TAGMSG");
  assert.equal(relayed.tags["+draft/reply"], "somewhere-else");

  // History: the message, then the reactions that stand, as TAGMSGs.
  await alice.send("CAP REQ draft/chathistory");
  await alice.expect("CAP");
  const kept = await history(alice, "CHATHISTORY LATEST #dev * 10");
  assert.deepEqual(kept.map((m) => [m.command, nickOf(m.source), m.tags["+draft/react"]]), [
    ["PRIVMSG", "alice", undefined],
    ["TAGMSG", "bob", "👍"],
    ["TAGMSG", "alice", "🎉"],
  ]);
  assert.ok(kept.slice(1).every((m) => m.tags["+draft/reply"] === hi));
});

Deno.test("a reply carries +draft/reply live, in its echo, in CHATHISTORY and in the join replay", async () => {
  await using server = ircServer(10);
  await using alice = await member(server.irc, "alice", TAGS);
  await using bob = await member(server.irc, "bob", TAGS);
  await using carol = await member(server.irc, "carol", []);
  await alice.sync();
  const question = await say(alice, "#dev", "lunch?");
  await bob.waitFor((m) => m.params[1] === "lunch?");

  const answer = await say(bob, "#dev", "yes", `+draft/reply=${question};+mood=hungry`);
  const echo = bob.lines.findLast((m) => m.params[1] === "yes")!;
  assert.equal(echo.tags["+draft/reply"], question);
  const live = await alice.waitFor((m) => m.params[1] === "yes");
  assert.equal(live.tags["+draft/reply"], question);
  assert.equal(live.tags["+mood"], "hungry", "the other client tags go along");
  assert.equal(live.tags.msgid, answer);
  const plain = await carol.waitFor((m) => m.params[1] === "yes");
  assert.deepEqual(plain.tags, {}, "no tags without message-tags");

  // Kept: CHATHISTORY has the link (the other client tags were live only).
  await bob.send("CAP REQ draft/chathistory");
  await bob.expect("CAP");
  const page = await history(bob, "CHATHISTORY LATEST #dev * 10");
  assert.deepEqual(page.map((m) => [m.params[1], m.tags["+draft/reply"]]), [
    ["lunch?", undefined],
    ["yes", question],
  ]);
  // A client that gets the replay on join sees it too.
  await using dave = await RawIrc.register(server.irc, "dave", { caps: ["message-tags"] });
  await dave.send("JOIN #dev");
  const replayed = await dave.waitFor((m) => m.params[1] === "yes");
  assert.equal(replayed.tags["+draft/reply"], question);

  // Not a kept message of this channel: an msgid of another is relayed as it is; a gone one fails.
  await say(bob, "#dev", "elsewhere", "+draft/reply=ops-3");
  assert.equal(
    (await alice.waitFor((m) => m.params[1] === "elsewhere")).tags["+draft/reply"],
    "ops-3",
  );
  await bob.send("@+draft/reply=dev-999 PRIVMSG #dev :into the void");
  assertFail(await bob.expect("FAIL"), "PRIVMSG", "UNKNOWN_MSGID", "#dev", "dev-999");
  assert.ok(!(await settled(alice)).some((m) => m.params[1] === "into the void"), "not sent");
});

Deno.test("typing reaches clients with tags (not the others); too many are dropped in silence", async () => {
  await using server = ircServer();
  await using alice = await member(server.irc, "alice", TAGS);
  await using bob = await member(server.irc, "bob", ["message-tags"]);
  await using carol = await member(server.irc, "carol", []);
  await alice.sync();

  await alice.send("@label=t1;+typing=active TAGMSG #dev");
  const echo = await alice.expect("TAGMSG");
  assert.equal(echo.tags.label, "t1", "the echo is the labeled reply");
  assert.equal(echo.tags["+typing"], "active");
  const typing = await bob.expect("TAGMSG");
  assert.equal(nickOf(typing.source), "alice");
  assert.deepEqual(typing.params, ["#dev"]);
  assert.equal(typing.tags["+typing"], "active");

  // Again at once: past the limit, dropped (no FAIL, no echo: an ACK for the label).
  await alice.send("@label=t2;+typing=active TAGMSG #dev");
  const ack = await alice.waitFor((m) => m.tags.label === "t2");
  assert.equal(ack.command, "ACK", ack.raw);
  // Ending it always goes.
  await alice.send("@+typing=done TAGMSG #dev");
  assert.equal((await bob.expect("TAGMSG")).tags["+typing"], "done");
  const after = await settled(alice);
  assert.ok(!after.some((m) => m.command === "FAIL" || m.command === "NOTICE"), "nothing shown");
  assert.ok(
    !(await settled(bob)).some((m) => m.command === "TAGMSG"),
    "the dropped one is not sent",
  );
  assert.ok(!(await settled(carol)).some((m) => m.command === "TAGMSG"), "nothing without tags");

  // To a nick: the recipient's TAGMSG names it; a nick not there is 401.
  await bob.send("@+typing=paused TAGMSG alice");
  const direct = await alice.waitFor((m) => m.command === "TAGMSG" && nickOf(m.source) === "bob");
  assert.deepEqual(direct.params, ["alice"]);
  assert.equal(direct.tags["+typing"], "paused");
  await bob.send("@+typing=active TAGMSG nobody");
  assert.equal((await bob.expect("401")).params[1], "nobody");
});

Deno.test("MARKREAD sets, gets and never moves back; JOIN shows it before the names end", async () => {
  await using server = ircServer();
  await using alice = await RawIrc.register(server.irc, "alice", {
    caps: ["draft/read-marker", "labeled-response"],
  });
  await using bob = await RawIrc.register(server.irc, "bob");
  await alice.send("JOIN #dev");
  const join = await alice.waitFor((m) => m.command === "MARKREAD" || m.command === "366");
  assert.equal(join.command, "MARKREAD", "before 366");
  assert.equal(join.source, SERVER);
  assert.deepEqual(join.params, ["#dev", "*"]);
  await alice.expect("366");

  const newer = "2024-06-01T12:00:00.000Z";
  const older = "2024-01-01T00:00:00.000Z";
  await alice.send(`@label=m1 MARKREAD #dev timestamp=${newer}`);
  const set = await alice.expect("MARKREAD");
  assert.equal(set.tags.label, "m1");
  assert.deepEqual(set.params, ["#dev", `timestamp=${newer}`]);
  await alice.send("MARKREAD #dev");
  assert.deepEqual((await alice.expect("MARKREAD")).params, ["#dev", `timestamp=${newer}`]);
  await alice.send(`MARKREAD #dev timestamp=${older}`);
  assert.deepEqual((await alice.expect("MARKREAD")).params, ["#dev", `timestamp=${newer}`]);
  // A time to come is now at most.
  await alice.send("MARKREAD #dev timestamp=2999-01-01T00:00:00.000Z");
  const now = await alice.expect("MARKREAD");
  assert.ok(Date.parse(now.params[1].slice(10)) <= Date.now(), now.raw);

  // Part and join again: the marker comes with the JOIN; a channel never read is `*`.
  await alice.send("PART #dev", "JOIN #dev");
  assert.deepEqual((await alice.expect("MARKREAD")).params, ["#dev", now.params[1]]);
  await alice.send("MARKREAD #never");
  assert.deepEqual((await alice.expect("MARKREAD")).params, ["#never", "*"]);
  // The DMs with a nick.
  await alice.send(`MARKREAD bob timestamp=${older}`);
  assert.deepEqual((await alice.expect("MARKREAD")).params, ["bob", `timestamp=${older}`]);

  // Errors, as the spec names them.
  await alice.send("MARKREAD", "MARKREAD #dev *", "MARKREAD #dev timestamp=yesterday");
  assertFail(await alice.expect("FAIL"), "MARKREAD", "NEED_MORE_PARAMS");
  assertFail(await alice.expect("FAIL"), "MARKREAD", "INVALID_PARAMS", "*");
  assertFail(await alice.expect("FAIL"), "MARKREAD", "INVALID_PARAMS", "timestamp=yesterday");

  // Without the cap: no MARKREAD on join.
  await bob.send("JOIN #dev");
  await bob.expect("366");
  assert.ok(!(await settled(bob)).some((m) => m.command === "MARKREAD"));
});

Deno.test("a registered nick's marker reaches its other connection with the cap", async () => {
  await using server = ircServer();
  {
    await using c = await LineClient.chat(server.port);
    await c.send("/nick alice");
    await c.waitFor((l) => l.includes("is now known as alice"));
    await c.send("/register sesame12");
    await c.waitFor((l) => l.includes("nick alice is registered"));
  }
  const caps = ["draft/read-marker"];
  await using one = await RawIrc.register(server.irc, "alice", { caps, sasl: "sesame12" });
  await using two = await RawIrc.register(server.irc, "alice", { caps, sasl: "sesame12" });
  await one.send("JOIN #dev");
  await one.expect("366");
  const ts = "2024-03-15T10:00:00.000Z";
  await one.send(`MARKREAD #dev timestamp=${ts}`);
  assert.deepEqual((await one.expect("MARKREAD")).params, ["#dev", `timestamp=${ts}`]);
  assert.deepEqual((await two.expect("MARKREAD")).params, ["#dev", `timestamp=${ts}`]);
});

Deno.test("edits and deletions made on the text door reach IRC clients in their forms", async () => {
  await using server = ircServer();
  await using tags = await member(server.irc, "alice", REDACT);
  await using plain = await member(server.irc, "carol", []);
  await using nc = await LineClient.chat(server.port);
  await nc.send("/join dev");
  await nc.waitFor((l) => l.endsWith(" joined dev"));
  await nc.send("first try");
  const said = await tags.waitFor((m) => m.params[1] === "first try");
  await plain.waitFor((m) => m.params[1] === "first try");

  await nc.send("/edit fixed");
  for (const client of [tags, plain]) {
    const edit = await client.waitFor((m) => m.command === "NOTICE" && m.params[0] === "#dev");
    assert.equal(edit.source, SERVER);
    assert.equal(edit.params[1], `${nc.nick} edited a message: fixed`);
  }
  await nc.send("/delete");
  const redact = await tags.expect("REDACT");
  assert.equal(nickOf(redact.source), nc.nick);
  assert.deepEqual(redact.params, ["#dev", said.tags.msgid]);
  const notice = await plain.waitFor((m) => m.command === "NOTICE" && m.params[0] === "#dev");
  assert.equal(notice.params[1], `${nc.nick} deleted a message`);
});

Deno.test("a logged-in IRC client is back in its channels, read markers included, when it returns", async () => {
  await using server = ircServer();
  {
    await using c = await LineClient.chat(server.port);
    await c.send("/nick alice", "/register sesame12");
    await c.waitFor((l) => l.includes("nick alice is registered"));
  }
  const caps = ["draft/read-marker"];
  const ts = "2024-03-15T10:00:00.000Z";
  {
    await using first = await RawIrc.register(server.irc, "alice", { caps, sasl: "sesame12" });
    await first.send("JOIN #dev,#ops");
    await first.waitFor((m) => m.command === "366" && m.params[1] === "#ops");
    await first.send(`MARKREAD #dev timestamp=${ts}`, "PART #ops");
    await first.waitFor((m) => m.command === "PART");
    await first.send("QUIT :bye");
    await first.waitFor((m) => m.command === "ERROR");
  }
  await using again = await RawIrc.register(server.irc, "alice", { caps, sasl: "sesame12" });
  const join = await again.waitFor((m) => m.command === "JOIN");
  assert.deepEqual(join.params, ["#dev"], "parted channels are not rejoined");
  assert.deepEqual((await again.expect("MARKREAD")).params, ["#dev", `timestamp=${ts}`]);
  await again.waitFor((m) => m.command === "366" && m.params[1] === "#dev");
  // A guest (no SASL) is in nothing until it joins.
  await using guest = await RawIrc.register(server.irc, "bob", { caps });
  await guest.sync();
  assert.ok(!guest.lines.some((m) => m.command === "JOIN"), guest.tail());
});

Deno.test("REDACT takes back one's own kept DM; both ends see it, the other end cannot", async () => {
  await using server = ircServer();
  {
    await using c = await LineClient.chat(server.port);
    for (const nick of ["alice", "bob"]) {
      await c.send(`/nick ${nick}`, "/register sesame12");
      await c.waitFor((l) => l.includes(`nick ${nick} is registered`));
    }
  }
  const caps = [...REDACT, "echo-message"];
  await using alice = await RawIrc.register(server.irc, "alice", { caps, sasl: "sesame12" });
  await using bob = await RawIrc.register(server.irc, "bob", { caps, sasl: "sesame12" });
  await alice.send("PRIVMSG bob :my pin is 1234");
  const echo = await alice.expect("PRIVMSG");
  await bob.expect("PRIVMSG");
  const msgid = echo.tags.msgid!;
  await bob.send(`REDACT bob ${msgid}`);
  const refused = await bob.expect("FAIL");
  assert.equal(refused.params[0], "REDACT");
  await alice.send(`REDACT bob ${msgid} :wrong window`);
  for (const end of [alice, bob]) {
    const redact = await end.expect("REDACT");
    assert.equal(nickOf(redact.source), "alice");
    assert.deepEqual(redact.params, ["bob", msgid, "wrong window"]);
  }
});
