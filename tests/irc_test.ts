/**
 * The IRC door end to end: an irc-framework client (the library behind Kiwi
 * IRC) in the same rooms as nc-style text clients and WebSocket JSON
 * clients; the error numerics over a raw socket; IRC on the text port; and
 * the door in `/metrics`. Every wait is bounded and waits for a condition.
 *
 * @module
 */

import assert from "node:assert/strict";
import { LineClient, WAIT_MS, withHttpServer, withServer } from "./helpers.ts";
import { type IrcLine, Kiwi, nickOf, RawIrc } from "./irc_client.ts";
import { WsClient } from "./ws_client.ts";
import type { Config } from "../src/config.ts";

const SERVER = "chat.local";

/** Config overrides for a server with its IRC listener on an ephemeral port. */
function withIrc(overrides: Partial<Config> = {}): Partial<Config> {
  return { irc: { hostname: "127.0.0.1", port: 0 }, ...overrides };
}

/** A server with an IRC listener; `irc` is its port. */
function ircServer(overrides: Partial<Config> = {}) {
  const server = withServer(withIrc(overrides));
  return Object.assign(server, { irc: server.ircAddr!.port });
}

/** A text client in the lobby that has joined `room` (creating it makes it the operator). */
async function textIn(port: number, room: string, nick?: string): Promise<LineClient> {
  const client = await LineClient.chat(port);
  if (nick !== undefined) {
    await client.send(`/nick ${nick}`);
    await client.waitFor((l) => l.includes(` is now known as ${nick}`));
  }
  await client.send(`/join ${room}`);
  await client.waitFor((l) => l.endsWith(` joined ${room}`));
  return client;
}

/** Asserts a numeric's code and the parameters between the client's nick and the text. */
function assertNumeric(line: IrcLine, code: string, target: string, ...about: string[]): void {
  assert.equal(line.command, code, `expected ${code}, got: ${line.raw}`);
  assert.equal(line.source, SERVER, line.raw);
  assert.deepEqual(line.params.slice(0, 1 + about.length), [target, ...about], line.raw);
  assert.ok(line.params.length === 2 + about.length, `a numeric ends with its text: ${line.raw}`);
}

// --- irc-framework with the other doors --------------------------------------------------------

Deno.test("irc-framework, nc and a JSON WebSocket client talk in #dev, each in its door's form", async () => {
  await using server = await withHttpServer(withIrc());
  await using nc = await textIn(server.port, "dev");
  const ncNick = nc.nick;
  await using ws = await WsClient.jsonClient(server.httpPort);
  const wsNick = ws.nick;
  ws.sendJson({ type: "join", room: "dev", ref: 1 });
  await ws.waitForEvent((e) => e.type === "joined" && e.room === "dev" && e.nick === wsNick);
  await using irc = await Kiwi.connect(server.ircAddr!.port, "ircnick");
  await irc.join("#dev");
  await nc.expect("* ircnick joined dev");
  await ws.waitForEvent((e) => e.type === "joined" && e.room === "dev" && e.nick === "ircnick");

  // IRC says: nc sees a line, JSON a message event.
  irc.client.say("#dev", "hi");
  await nc.expect("[dev] ircnick: hi");
  const fromIrc = await ws.waitForEvent((e) => e.type === "message" && e.nick === "ircnick");
  assert.equal(fromIrc.room, "dev");
  assert.equal(fromIrc.text, "hi");
  assert.equal(fromIrc.kind, "say");

  // nc says: IRC gets a PRIVMSG to the channel, JSON an event.
  await nc.send("hello from nc");
  const ncToIrc = await irc.waitEvent("privmsg", (e) => e.nick === ncNick);
  assert.equal(ncToIrc.target, "#dev");
  assert.equal(ncToIrc.message, "hello from nc");
  const ncToWs = await ws.waitForEvent((e) => e.type === "message" && e.nick === ncNick);
  assert.equal(ncToWs.text, "hello from nc");

  // JSON says: IRC and nc.
  ws.sendJson({ type: "say", room: "dev", text: "hello from ws" });
  const wsToIrc = await irc.waitEvent("privmsg", (e) => e.nick === wsNick);
  assert.equal(wsToIrc.target, "#dev");
  assert.equal(wsToIrc.message, "hello from ws");
  await nc.expect(`[dev] ${wsNick}: hello from ws`);

  // IRC ACTION: nc's `* nick text`, JSON's kind "action".
  irc.client.action("#dev", "waves");
  await nc.expect("[dev] * ircnick waves");
  const action = await ws.waitForEvent((e) => e.type === "message" && e.nick === "ircnick");
  assert.equal(action.kind, "action");
  assert.equal(action.text, "waves");

  // /me on nc and on JSON: an ACTION on IRC.
  await nc.send("/me dances");
  const ncAction = await irc.waitEvent("action", (e) => e.nick === ncNick);
  assert.equal(ncAction.target, "#dev");
  assert.equal(ncAction.message, "dances");
  ws.sendJson({ type: "me", room: "dev", text: "bows" });
  const wsAction = await irc.waitEvent("action", (e) => e.nick === wsNick);
  assert.equal(wsAction.message, "bows");

  // Without echo-message, the IRC client never got its own lines back.
  assert.ok(
    !irc.events.some(([name, e]) =>
      (name === "privmsg" || name === "action") && e.nick === "ircnick"
    ),
    "no echo without echo-message",
  );
});

Deno.test("irc-framework gets the history on join after its JOIN, with server-time tags", async () => {
  await using server = ircServer();
  await using nc = await textIn(server.port, "dev");
  await nc.send("first words", "/me second");
  await nc.waitFor((l) => l.endsWith(" second"));
  await using irc = await Kiwi.connect(server.irc, "latecomer");
  irc.client.join("#dev");
  const join = await irc.waitRaw((m) => m.command === "JOIN");
  assert.equal(nickOf(join.source), "latecomer");
  await irc.waitRaw((m) => m.command === "366");
  const first = await irc.waitEvent("privmsg", (e) => e.message === "first words");
  assert.equal(first.nick, nc.nick);
  assert.equal(first.target, "#dev");
  assert.ok(first.tags.time, "a replayed line has its server-time");
  assert.ok(Math.abs(Date.parse(first.tags.time) - Date.now()) < 60_000, first.tags.time);
  const second = await irc.waitEvent("action", (e) => e.message === "second");
  assert.ok(second.tags.time);
  // irc-framework asks for batch: the replay is one chathistory batch, after the names.
  const lines = irc.raw.slice(irc.raw.findIndex((l) => / 366 /.test(l)));
  const open = lines.find((l) => / BATCH \+\S+ chathistory #dev$/.test(l));
  assert.ok(open, `a chathistory batch; got:\n${lines.join("\n")}`);
});

Deno.test("history on join without server-time has no tags; with it, each line has its time", async () => {
  await using server = ircServer();
  await using nc = await textIn(server.port, "dev");
  await nc.send("before anyone");
  await nc.expect(`[dev] ${nc.nick}: before anyone`);
  await using plain = await RawIrc.register(server.irc, "plain");
  await plain.send("JOIN #dev");
  await plain.waitFor((m) => m.command === "JOIN");
  await plain.expect("366");
  const replay = await plain.waitFor((m) => m.command === "PRIVMSG");
  assert.equal(replay.raw, `:${nc.nick}!${nc.nick}@${SERVER} PRIVMSG #dev :before anyone`);
  await using timed = await RawIrc.register(server.irc, "timed", { caps: ["server-time"] });
  await timed.send("JOIN #dev");
  await timed.expect("366");
  const tagged = await timed.waitFor((m) => m.command === "PRIVMSG");
  assert.match(tagged.tags.time ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(tagged.params[1], "before anyone");
});

Deno.test("irc-framework is kicked by the room operator (a text client) and sees the KICK", async () => {
  await using server = ircServer();
  await using op = await textIn(server.port, "ops");
  await using irc = await Kiwi.connect(server.irc, "kickme");
  await irc.join("#ops");
  await op.expect("* kickme joined ops");
  await op.send("/kick kickme enough now");
  const kick = await irc.waitEvent("kick");
  assert.equal(kick.kicked, "kickme");
  assert.equal(kick.nick, op.nick);
  assert.equal(kick.channel, "#ops");
  assert.equal(kick.message, "enough now");
  await op.waitFor((l) => l.startsWith(`* kickme was kicked from ops by ${op.nick}`));
  // Out of the channel: what it says there is refused, and reaches nobody.
  irc.client.say("#ops", "still here?");
  const refused = await irc.waitRaw((m) => m.command === "404");
  assert.deepEqual(refused.params.slice(0, 2), ["kickme", "#ops"]);
  assert.ok(!op.lines.some((l) => l.includes("still here?")));
});

Deno.test("DMs: /msg from nc reaches irc-framework as a PRIVMSG to its nick, and back as [dm]", async () => {
  await using server = ircServer();
  await using nc = await LineClient.chat(server.port);
  await using irc = await Kiwi.connect(server.irc, "ircnick");
  await nc.send("/msg ircnick hi");
  const dm = await irc.waitEvent("privmsg", (e) => e.message === "hi");
  assert.equal(dm.nick, nc.nick);
  assert.equal(dm.target, "ircnick");
  irc.client.say(nc.nick, "hello back");
  await nc.expect(`[dm] ircnick -> ${nc.nick}: hello back`);
  irc.client.action(nc.nick, "nods");
  await nc.expect(`[dm] ircnick -> ${nc.nick}: * ircnick nods`);
});

Deno.test("CTCP VERSION to a nick is not relayed, to IRC or to nc", async () => {
  await using server = ircServer();
  await using nc = await LineClient.chat(server.port);
  await using a = await RawIrc.register(server.irc, "asker");
  await using b = await RawIrc.register(server.irc, "answerer");
  await a.send("PRIVMSG answerer :\x01VERSION\x01", "PRIVMSG answerer :after");
  const after = await b.waitFor((m) => m.command === "PRIVMSG");
  assert.equal(after.params[1], "after", `the VERSION request came first: ${after.raw}`);
  await a.send(`PRIVMSG ${nc.nick} :\x01VERSION\x01`, `PRIVMSG ${nc.nick} :after`);
  const line = await nc.waitFor((l) => l.startsWith("[dm]"));
  assert.equal(line, `[dm] asker -> ${nc.nick}: after`);
});

Deno.test("an IRC client's user@host is the same in its prefix, NAMES, WHO, WHOIS and USERHOST", async () => {
  await using server = ircServer();
  await using c = await RawIrc.connect(server.irc);
  await c.send(
    "CAP LS 302",
    "CAP REQ :userhost-in-names",
    "NICK nick1",
    "USER ident1 0 * :Real Name",
    "CAP END",
  );
  await c.expect("001");
  await c.send("JOIN #dev", "NAMES #dev", "WHO #dev", "WHOIS nick1", "USERHOST nick1");
  const join = await c.waitFor((m) => m.command === "JOIN");
  const names = await c.expect("353");
  const who = await c.expect("352");
  const whois = await c.expect("311");
  const userhost = await c.expect("302");
  const fromNames = names.params[3].replace(/^[@+]+/, "");
  const fromWho = `nick1!${who.params[2]}@${who.params[3]}`;
  const fromWhois = `nick1!${whois.params[2]}@${whois.params[3]}`;
  const fromUserhost = "nick1!" + userhost.params[1].replace(/^nick1\*?=[+-]/, "");
  assert.deepEqual(
    { names: fromNames, who: fromWho, whois: fromWhois, userhost: fromUserhost },
    { names: join.source, who: join.source, whois: join.source, userhost: join.source },
    `JOIN came from ${join.source}`,
  );
});

// --- error numerics over a raw socket ----------------------------------------------------------

Deno.test("451 before registration; PING is answered before it", async () => {
  await using server = ircServer();
  await using c = await RawIrc.connect(server.irc);
  await c.send("PING early", "JOIN #dev", "PRIVMSG #dev :hi");
  const pong = await c.expect("PONG");
  assert.deepEqual(pong.params, [SERVER, "early"]);
  assertNumeric(await c.expect("451"), "451", "*");
  assertNumeric(await c.expect("451"), "451", "*");
  assert.ok(!c.closed);
});

Deno.test("421 for an unknown command, 461 for missing parameters", async () => {
  await using server = ircServer();
  await using c = await RawIrc.register(server.irc, "alice");
  await c.send("FROBNICATE now");
  assertNumeric(await c.expect("421"), "421", "alice", "FROBNICATE");
  for (const [line, command] of [["JOIN", "JOIN"], ["KICK #x", "KICK"], ["TOPIC", "TOPIC"]]) {
    await c.send(line);
    assertNumeric(await c.expect("461"), "461", "alice", command);
  }
  await using early = await RawIrc.connect(server.irc);
  await early.send("USER onlyone");
  assertNumeric(await early.expect("461"), "461", "*", "USER");
});

Deno.test("432 for an erroneous nick, before and after registration", async () => {
  await using server = ircServer();
  await using c = await RawIrc.connect(server.irc);
  await c.send("NICK bad.nick!", "USER u 0 * :Real");
  assertNumeric(await c.expect("432"), "432", "*", "bad.nick!");
  await c.send("NICK fine");
  await c.expect("001");
  await c.send("NICK #nope");
  assertNumeric(await c.expect("432"), "432", "fine", "#nope");
});

Deno.test("433 for a nick in use: by an IRC client, by a text client, and on NICK after registration", async () => {
  await using server = ircServer();
  await using first = await RawIrc.register(server.irc, "taken");
  await using second = await RawIrc.connect(server.irc);
  await second.send("NICK taken", "USER u 0 * :Real");
  const unregistered = [await second.expect("433")];
  assert.equal(unregistered[0].params[1], "taken");
  await second.send("NICK other");
  const welcome = await second.expect("001");
  assert.equal(welcome.params[0], "other");

  await using nc = await LineClient.chat(server.port);
  await nc.send("/nick textuser");
  await nc.waitFor((l) => l.endsWith(" is now known as textuser"));
  await using third = await RawIrc.connect(server.irc);
  await third.send("NICK textuser", "USER u 0 * :Real");
  unregistered.push(await third.expect("433"));
  assert.equal(unregistered[1].params[1], "textuser");

  await second.send("NICK taken");
  assertNumeric(await second.expect("433"), "433", "other", "taken");
  await second.send("NICK TAKEN");
  assertNumeric(await second.expect("433"), "433", "other", "TAKEN");
  const whois = await first.sync();
  assert.ok(!whois.some((m) => m.command === "NICK"), "the first holder keeps its nick");
  // Before registration the client has no nick: a numeric's target is `*` (RFC 2812, ergo).
  assertNumeric(unregistered[0], "433", "*", "taken");
  assertNumeric(unregistered[1], "433", "*", "textuser");
});

Deno.test("401 no such nick, 403 no such channel", async () => {
  await using server = ircServer();
  await using c = await RawIrc.register(server.irc, "alice");
  await c.send("PRIVMSG nobody :hi");
  assertNumeric(await c.expect("401"), "401", "alice", "nobody");
  await c.send("WHOIS nobody");
  assertNumeric(await c.expect("401"), "401", "alice", "nobody");
  const whoisEnd = await c.sync();
  await c.send("JOIN nohash");
  assertNumeric(await c.expect("403"), "403", "alice", "nohash");
  await c.send("PART #nowhere");
  assertNumeric(await c.expect("403"), "403", "alice", "#nowhere");
  await c.send("PRIVMSG #nowhere :hi");
  assertNumeric(await c.expect("403"), "403", "alice", "#nowhere");
  await c.send("TOPIC #nowhere");
  assertNumeric(await c.expect("403"), "403", "alice", "#nowhere");
  // A WHOIS reply always ends with 318, after a 401 too (RFC 2812 3.6.2, ergo).
  assert.deepEqual(whoisEnd.map((m) => [m.command, m.params[1]]), [["318", "nobody"]]);
});

Deno.test("WHOWAS of an unknown nick: 406 then 369 (irssi sends it after a WHOIS gets 401)", async () => {
  await using server = ircServer();
  await using c = await RawIrc.register(server.irc, "alice");
  await c.send("WHOWAS nobody 1");
  const reply = await c.sync();
  // RFC 2812 3.6.3: the end is marked with 369 even when the only reply is an error.
  const got = reply.map((m) => `${m.command} ${m.params[1]}`);
  assert.deepEqual(got, ["406 nobody", "369 nobody"], reply.map((m) => m.raw).join("\n"));
});

Deno.test("404 cannot send to a channel it is not in, 442 not on channel, 482 not operator", async () => {
  await using server = ircServer();
  await using op = await textIn(server.port, "club");
  await using c = await RawIrc.register(server.irc, "alice");
  await c.send("PRIVMSG #club :let me in");
  assertNumeric(await c.expect("404"), "404", "alice", "#club");
  await c.send("PART #club");
  assertNumeric(await c.expect("442"), "442", "alice", "#club");
  await c.send("JOIN #club");
  await c.expect("366");
  await c.send(`KICK #club ${op.nick}`);
  assertNumeric(await c.expect("482"), "482", "alice", "#club");
  await c.send("TOPIC #club :mine now");
  assertNumeric(await c.expect("482"), "482", "alice", "#club");
  await c.send("MODE #club +k secret");
  assertNumeric(await c.expect("482"), "482", "alice", "#club");
  await op.send("say something");
  await c.waitFor((m) => m.command === "PRIVMSG" && m.params[1] === "say something");
  assert.ok(!op.lines.some((l) => l.includes("let me in") || l.includes("mine now")));
});

Deno.test("474 banned, 475 locked room without its key", async () => {
  await using server = ircServer();
  await using op = await textIn(server.port, "club");
  await using c = await RawIrc.register(server.irc, "alice");
  await c.send("JOIN #club");
  await c.expect("366");
  await op.send("/ban alice");
  const kick = await c.waitFor((m) => m.command === "KICK");
  assert.deepEqual(kick.params.slice(0, 2), ["#club", "alice"]);
  await c.send("JOIN #club");
  assertNumeric(await c.expect("474"), "474", "alice", "#club");

  await op.send("/join vault", "/lock sesame");
  await op.waitFor((l) => l.endsWith("locked vault"));
  await c.send("JOIN #vault");
  assertNumeric(await c.expect("475"), "475", "alice", "#vault");
  await c.send("JOIN #vault wrong");
  assertNumeric(await c.expect("475"), "475", "alice", "#vault");
  await c.send("JOIN #vault sesame");
  const join = await c.waitFor((m) => m.command === "JOIN");
  assert.deepEqual([nickOf(join.source), join.params[0]], ["alice", "#vault"]);
});

Deno.test("417 for a line over 512 bytes; the connection goes on", async () => {
  await using server = ircServer();
  await using nc = await textIn(server.port, "dev");
  await using c = await RawIrc.register(server.irc, "alice");
  await c.send("JOIN #dev");
  await c.expect("366");
  await c.send(`PRIVMSG #dev :${"x".repeat(600)}`);
  assertNumeric(await c.expect("417"), "417", "alice");
  await c.send("PRIVMSG #dev :short one");
  await nc.expect("[dev] alice: short one");
  assert.ok(!nc.lines.some((l) => l.includes("xxxxxxxxxx")), "the long line was not said");
  await c.sync();
});

Deno.test("FAIL * INVALID_UTF8 for a line that is not UTF-8; a PING after it gets its PONG", async () => {
  await using server = ircServer();
  await using nc = await textIn(server.port, "dev");
  await using c = await RawIrc.register(server.irc, "alice");
  await c.send("JOIN #dev");
  await c.expect("366");
  await c.write(
    new Uint8Array([...new TextEncoder().encode("PRIVMSG #dev :"), 0xff, 0xfe, 13, 10]),
  );
  const fail = await c.expect("FAIL");
  assert.deepEqual(fail.params.slice(0, 2), ["*", "INVALID_UTF8"]);
  await c.sync();
  assert.ok(!c.closed);
  await c.send("PRIVMSG #dev :valid again");
  await nc.expect("[dev] alice: valid again");
});

Deno.test("464 with a server password: a wrong PASS, or none, is refused and closed", async () => {
  await using server = ircServer({ password: "secret" });
  await using wrong = await RawIrc.connect(server.irc);
  await wrong.send("PASS nope", "NICK alice", "USER u 0 * :Real");
  const refusals = [await wrong.expect("464")];
  await wrong.expect("ERROR");
  await wrong.waitClosed();
  assert.ok(!wrong.lines.some((m) => m.command === "001"));

  await using none = await RawIrc.connect(server.irc);
  await none.send("NICK bob", "USER u 0 * :Real");
  refusals.push(await none.expect("464"));
  await none.waitClosed();

  await using right = await RawIrc.register(server.irc, "carol", { pass: "secret" });
  await right.sync();
  // Not registered: the target is `*` (RFC 2812, ergo).
  for (const line of refusals) assertNumeric(line, "464", "*");
});

Deno.test("every line the door sends ends in CRLF", async () => {
  await using server = ircServer();
  await using c = await RawIrc.register(server.irc, "alice", {
    caps: ["server-time", "message-tags", "batch", "echo-message"],
  });
  await c.send("JOIN #dev", "PRIVMSG #dev :hi", "TOPIC #dev :a topic", "NAMES #dev", "WHOIS alice");
  await c.send("LIST", "WHO #dev", "QUIT :done");
  await c.waitClosed();
  assert.deepEqual(c.bareLines, []);
});

// --- IRC on the text port ----------------------------------------------------------------------

Deno.test("irc-framework on the text port works as on --irc, and nothing it sent is said in lobby", async () => {
  await using server = withServer();
  await using lobby = await LineClient.chat(server.port);
  await using nc = await textIn(server.port, "dev");
  await using irc = await Kiwi.connect(server.port, "ircnick");
  await irc.join("#dev");
  await nc.expect("* ircnick joined dev");
  irc.client.say("#dev", "hi from the text port");
  await nc.expect("[dev] ircnick: hi from the text port");
  await nc.send("hello back");
  const back = await irc.waitEvent("privmsg", (e) => e.message === "hello back");
  assert.equal(back.target, "#dev");
  // The lobby client says something and sees it: all the IRC client did came before.
  await lobby.send("marker");
  await lobby.expect(`[lobby] ${lobby.nick}: marker`);
  const leaked = lobby.lines.filter((l) =>
    /CAP|NICK|USER|ircnick/.test(l) && !l.includes(` joined lobby`)
  );
  assert.deepEqual(leaked, [], "the IRC client's lines reached the lobby");
  assert.ok(!lobby.lines.some((l) => l.includes("ircnick")), "the IRC client is not in lobby");
  assert.ok(!irc.raw.some((l) => l.startsWith("* ")), "no text-door line to the IRC client");
});

// --- metrics -----------------------------------------------------------------------------------

Deno.test('/metrics counts an IRC client as chat_connections{transport="irc"}', async () => {
  await using server = await withHttpServer(withIrc());
  const gauge = async () => {
    const body = await (await fetch(`${server.origin}/metrics`)).text();
    const line = body.split("\n").find((l) => l.startsWith('chat_connections{transport="irc"} '));
    return line === undefined ? null : Number(line.split(" ")[1]);
  };
  const irc = await Kiwi.connect(server.ircAddr!.port, "counted");
  try {
    assert.equal(await gauge(), 1, "one IRC connection while it is connected");
  } finally {
    await irc.close();
  }
  // The server notices the close asynchronously: poll briefly for the gauge to fall.
  const deadline = Date.now() + WAIT_MS;
  let now = await gauge();
  while (now !== 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    now = await gauge();
  }
  assert.equal(now, 0);
});

Deno.test("WHOIS: @ and + per channel, secret channels only to their members, 330 when logged in", async () => {
  await using server = ircServer();
  await using reg = await LineClient.chat(server.port);
  await reg.send("/nick carol", "/register carolpw");
  await reg.waitFor((l) => l.includes("nick carol is registered"));
  await reg.send("/quit");
  await using alice = await RawIrc.register(server.irc, "alice");
  await using bob = await RawIrc.register(server.irc, "bob");
  await alice.send("JOIN #open", "JOIN #hidden", "MODE #hidden +s", "JOIN #talk");
  await alice.waitFor((m) => m.command === "MODE" && m.params[1] === "+s");
  await bob.send("JOIN #talk");
  await bob.waitFor((m) => m.command === "366");
  await alice.send("MODE #talk +v bob");
  await bob.waitFor((m) => m.command === "MODE" && m.params[1] === "+v");
  alice.skip();
  await bob.send("WHOIS alice", "WHOIS bob");
  const aliceRooms = (await bob.expect("319")).params[2].split(" ").sort();
  assert.deepEqual(aliceRooms, ["@#open", "@#talk"], "#hidden is secret, and bob is not in it");
  const bobRooms = (await bob.expect("319")).params[2];
  assert.equal(bobRooms, "+#talk");
  await alice.send("WHOIS alice");
  assert.deepEqual((await alice.expect("319")).params[2].split(" ").sort(), [
    "@#hidden",
    "@#open",
    "@#talk",
  ]);
  const lines = await alice.sync();
  assert.ok(!lines.some((m) => m.command === "330"), "a guest is not logged in");
  await using _carol = await RawIrc.register(server.irc, "carol", { sasl: "carolpw" });
  await alice.send("WHOIS carol");
  assertNumeric(await alice.expect("330"), "330", "alice", "carol", "carol");
});

Deno.test("USERHOST marks away users with '-'; LUSERS gives 265/266 with the peak", async () => {
  await using server = ircServer();
  await using alice = await RawIrc.register(server.irc, "alice");
  {
    await using bob = await RawIrc.register(server.irc, "bob");
    await bob.send("AWAY :lunch");
    await bob.expect("306");
    await alice.send("USERHOST alice bob");
    const hosts = (await alice.expect("302")).params[1].split(" ").sort();
    assert.deepEqual(hosts, ["alice=+alice@chat.local", "bob=-bob@chat.local"]);
    await bob.send("QUIT");
    await bob.waitClosed();
  }
  await alice.send("LUSERS");
  assertNumeric(await alice.expect("265"), "265", "alice", "1", "2");
  assertNumeric(await alice.expect("266"), "266", "alice", "1", "2");
});

Deno.test("MODE +k with a space in the key gets 696 and leaves the channel open", async () => {
  await using server = ircServer();
  await using alice = await RawIrc.register(server.irc, "alice");
  await alice.send("JOIN #c");
  await alice.expect("366");
  await alice.send("MODE #c +k :two words");
  assertNumeric(await alice.expect("696"), "696", "alice", "#c", "k", "*");
  await using bob = await RawIrc.register(server.irc, "bob");
  await bob.send("JOIN #c");
  await bob.waitFor((m) => m.command === "JOIN" && m.params[0] === "#c");
});

Deno.test("MODE +m: 404 to a member without a voice, +v lets it speak, the mode is in 324", async () => {
  await using server = ircServer();
  await using op = await RawIrc.register(server.irc, "alice");
  await op.send("JOIN #mod");
  await op.expect("366");
  await op.send("MODE #mod +m");
  await op.waitFor((m) => m.command === "MODE" && m.params.join(" ") === "#mod +m");
  await using bob = await RawIrc.register(server.irc, "bob");
  await bob.send("JOIN #mod");
  await bob.expect("366");
  await bob.send("PRIVMSG #mod :hi from bob");
  assertNumeric(await bob.expect("404"), "404", "bob", "#mod");
  await using text = await textIn(server.port, "mod", "carol");
  await text.send("and from nc");
  await text.expect("! mod is moderated: only its operators and voiced members speak");
  await op.send("MODE #mod +v bob");
  await bob.waitFor((m) => m.command === "MODE" && m.params.join(" ") === "#mod +v bob");
  await bob.send("PRIVMSG #mod :hi again");
  const relayed = await op.waitFor((m) => m.command === "PRIVMSG" && m.params[0] === "#mod");
  assert.equal(relayed.params[1], "hi again", "nothing said without a voice reached the room");
  await op.send("MODE #mod");
  assert.equal((await op.expect("324")).params[2], "+mnt");
});
