/**
 * Message semantics over real sockets: edit, delete, react, reply, typing,
 * read markers, scrollback and search, on the text and JSON doors, and
 * across doors.
 */
import assert from "node:assert/strict";
import { LineClient, spawnServer, withHttpServer, withServer } from "./helpers.ts";
import { RawIrc } from "./irc_client.ts";
import { type JsonEvent, WsClient } from "./ws_client.ts";

/** The id `/ids` shows for the message whose text ends with `text`. */
async function idOf(c: LineClient, text: string): Promise<number> {
  c.skip();
  await c.send("/ids 50");
  await c.waitFor((l) => l.startsWith("* history") && l.endsWith(" end"));
  const line = c.lines.findLast((l) => /^\* #\d+ /.test(l) && l.endsWith(`: ${text}`));
  assert.ok(line !== undefined, `no id for ${text} in:\n${c.tail()}`);
  return Number(/^\* #(\d+)/.exec(line)![1]);
}

Deno.test("text door: the author edits and deletes; others are refused; history shows it", async () => {
  await using server = withServer({ historyOnJoin: 0 });
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await a.send("helo wrold");
  await b.expect(`[lobby] ${a.nick}: helo wrold`);
  const id = await idOf(a, "helo wrold");
  await b.send(`/edit #${id} mine now`);
  await b.expect(`! message ${id} is not yours to edit`);
  await b.send(`/delete #${id}`);
  await b.expect(`! message ${id} is not yours to delete (operators may delete any)`);
  // Without an id: the author's last message.
  await a.send("/edit hello world");
  await b.expect(`* ${a.nick} edited #${id} in lobby: hello world`);
  await a.expect(`* ${a.nick} edited #${id} in lobby: hello world`);
  await b.send("/history");
  await b.expect(`[lobby] ${a.nick}: hello world (edited)`);
  await a.send(`/delete #${id} typo`);
  await b.expect(`* ${a.nick} deleted #${id} in lobby (typo)`);
  b.skip();
  await b.send("/history");
  await b.expect("* history lobby end");
  assert.ok(!b.rest().some((l) => l.includes("hello world")), b.tail());
  await a.send(`/edit #${id} again`, "/edit #999 nothing");
  await a.expect(`! no message ${id} in lobby (kept ones only)`);
  await a.expect("! no message 999 in lobby (kept ones only)");
  await a.send(`/edit #${id}`, "/delete #x");
  await a.expect("! usage: /edit [#<id>] <text>");
  // `#x` is not an id: it is the reason, and a's last message is gone already.
  await a.expect("! no message of yours in lobby among the last 200");
});

Deno.test("text door: an operator deletes anyone's message; replies name what they answer", async () => {
  await using server = withServer({ historyOnJoin: 0 });
  await using op = await LineClient.chat(server.port);
  await op.send("/join dev"); // the first member of a new room is its operator
  await op.expect("* you are an operator of dev");
  await using b = await LineClient.chat(server.port);
  await b.send("/join dev", "spam spam");
  await op.expect(`[dev] ${b.nick}: spam spam`);
  const id = await idOf(op, "spam spam");
  await b.send(`/reply #${id} answering myself`);
  await op.expect(`[dev] ${b.nick}: (re #${id}) answering myself`);
  await b.send("/reply #4242 into the void");
  await b.expect("! no message 4242 in dev to reply to (kept ones only)");
  await op.send(`/delete #${id} spam`);
  await b.expect(`* ${op.nick} deleted #${id} in dev (spam)`);
  await b.send(`/reply #${id} too late`);
  await b.expect(`! no message ${id} in dev to reply to (kept ones only)`);
});

Deno.test("text door: reactions are summed up in one line, not one per click", async () => {
  await using server = withServer({ historyOnJoin: 0 });
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await using c = await LineClient.chat(server.port);
  await a.send("ship it");
  await c.expect(`[lobby] ${a.nick}: ship it`);
  const id = await idOf(a, "ship it");
  await b.send(`/react #${id} 👍`);
  await c.send(`/react #${id} 👍`, `/react #${id} 🎉`, `/unreact #${id} 🎉`);
  await b.send(`/react #${id} 👍`);
  await b.expect("! you already reacted with 👍");
  await b.send(`/unreact #${id} 🎉`);
  await b.expect("! you have not reacted with 🎉");
  await b.send(`/react #${id} ${"x".repeat(65)}`);
  await b.expect("! reaction too long (max 64 bytes)");
  const digest = `* reactions to #${id} in lobby (${a.nick}: ship it): 👍 2`;
  await a.expect(digest);
  assert.equal(a.lines.filter((l) => l.startsWith("* reactions")).length, 1, a.tail());
  a.skip();
  await a.send("/history 1");
  await a.expect(`[lobby] ${a.nick}: ship it [👍 2]`);
});

Deno.test("text door: /history before pages back; /search finds words, never deleted ones", async () => {
  await using server = withServer({ historyOnJoin: 0 });
  await using a = await LineClient.chat(server.port);
  await a.send("/join notes");
  for (let i = 1; i <= 6; i++) await a.send(`note ${i} deploy`);
  await a.send("明日の会議は東京で", "secret plan");
  await a.expect(`[notes] ${a.nick}: secret plan`);
  const five = await idOf(a, "note 5 deploy");
  const from = a.lines.length;
  await a.send(`/history 2 before #${five}`);
  await a.expect("* history notes end");
  assert.deepEqual(a.lines.slice(from).filter((l) => l.startsWith("[notes]")), [
    `[notes] ${a.nick}: note 3 deploy`,
    `[notes] ${a.nick}: note 4 deploy`,
  ]);
  const searched = a.lines.length;
  await a.send("/search DEPLOY note");
  await a.expect("* search: 6 results, newest first");
  await a.waitFor((l) => l.includes("note 1 deploy"));
  const found = a.lines.slice(searched).filter((l) => l.startsWith("* #"));
  assert.equal(found.length, 6, a.tail());
  assert.match(found[0], /note 6 deploy$/, "newest first");
  await a.send("/search 東京");
  await a.waitFor((l) => l.endsWith("明日の会議は東京で"));
  // Every character is text: no query syntax, no SQL error.
  await a.send('/search "plan" OR (*) NEAR');
  await a.expect("* search: nothing found");
  const secret = await idOf(a, "secret plan");
  await a.send(`/delete #${secret}`);
  await a.expect(`* ${a.nick} deleted #${secret} in notes`);
  await a.send("/search secret");
  await a.expect("* search: nothing found");
  await a.send("/search");
  await a.expect("! usage: /search <words>");
});

Deno.test("text door: a registered nick comes back to its unread count", async () => {
  await using server = withServer({ historyOnJoin: 0 });
  await using b = await LineClient.chat(server.port);
  await b.send("/join dev");
  {
    await using a = await LineClient.chat(server.port);
    await a.send("/nick alice", "/register pw", "/join dev");
    await a.expect("* alice joined dev");
    await b.send("before you left");
    await a.expect(`[dev] ${b.nick}: before you left`);
    await a.send("/quit");
    await a.waitClosed();
  }
  await b.expect("* alice left dev (quit)");
  await b.send("one", "two", "three");
  await b.expect(`[dev] ${b.nick}: three`);
  await using again = await LineClient.chat(server.port);
  await again.send("/nick alice pw", "/join dev");
  await again.expect("* alice joined dev");
  const unread = await again.waitFor((l) => l.includes("unread in dev"));
  assert.match(unread, /^\* 3 unread in dev since \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
});

Deno.test("edits, deletions, reactions and a registered nick's read marker survive kill -9", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-semantics-" });
  const db = `${dir}/chat.db`;
  try {
    {
      await using server = await spawnServer(["--db", db, "--history-on-join", "0"]);
      await using a = await LineClient.chat(server.port);
      await using b = await LineClient.chat(server.port);
      await a.send("/nick alice", "/register pw", "/join d");
      await a.expect("* alice joined d");
      await b.send("/join d");
      await a.expect(`* ${b.nick} joined d`);
      await a.send("one", "two", "three");
      await a.expect("[d] alice: three");
      const [one, two] = [await idOf(a, "one"), await idOf(a, "two")];
      await a.send(`/edit #${one} one, fixed`, `/react #${one} 👍`, `/delete #${two}`);
      await b.expect(`* alice deleted #${two} in d`);
      await a.send("/leave d"); // a door that shows every line: read up to "three"
      await b.expect("* alice left d");
      await b.send("four", "five");
      await b.expect(`[d] ${b.nick}: five`);
      server.kill("SIGKILL");
      await server.status;
    }
    await using server = await spawnServer(["--db", db, "--history-on-join", "0"]);
    await using a = await LineClient.chat(server.port);
    await a.send("/nick alice pw", "/join d");
    const unread = await a.waitFor((l) => l.includes("unread in d"));
    assert.match(unread, /^\* 2 unread in d since /);
    await a.send("/history");
    await a.expect("* history d end");
    const from = a.lines.lastIndexOf("* history d begin");
    const [other] = a.lines.slice(from).filter((l) => l.endsWith(": five")).map((l) =>
      l.split(" ")[1]
    );
    assert.deepEqual(a.lines.slice(from + 1, -1), [
      "[d] alice: one, fixed (edited) [👍 1]",
      "[d] alice: three",
      `[d] ${other} four`,
      `[d] ${other} five`,
    ]);
    server.kill("SIGTERM");
    await server.status;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A JSON client with the nick `nick` (registered with `password` when given). */
async function jsonAs(httpPort: number, nick: string, password?: string): Promise<WsClient> {
  const c = await WsClient.jsonClient(httpPort);
  c.sendJson({ type: "nick", nick, ...(password === undefined ? {} : { password }), ref: "n" });
  await c.waitForEvent((e) => e.ref === "n");
  return c;
}

Deno.test("json door: edit, delete, react, unreact and reply events, with their errors", async () => {
  await using server = await withHttpServer({ historyOnJoin: 0 });
  await using a = await jsonAs(server.httpPort, "ann");
  await using b = await jsonAs(server.httpPort, "ben");
  a.sendJson({ type: "join", room: "dev" });
  b.sendJson({ type: "join", room: "dev" });
  await a.waitForEvent((e) => e.type === "joined" && e.nick === "ben");
  a.sendJson({ type: "say", room: "dev", text: "frist", ref: 1 });
  const said = await a.waitForEvent((e) => e.ref === 1);
  const id = said.id as number;
  a.sendJson({ type: "edit", room: "dev", id, text: "first", ref: 2 });
  const edit = await b.waitForEvent((e) => e.type === "edit");
  assert.deepEqual({ ...edit, ts: 0 }, {
    type: "edit",
    room: "dev",
    id,
    nick: "ann",
    text: "first",
    ts: 0,
  });
  b.sendJson({ type: "edit", room: "dev", id, text: "mine", ref: 3 });
  assert.equal((await b.waitForEvent((e) => e.ref === 3)).code, "not_author");
  b.sendJson({ type: "say", room: "dev", text: "agreed", reply_to: id, ref: 4 });
  const reply = await a.waitForEvent((e) => e.type === "message" && e.text === "agreed");
  assert.equal(reply.reply_to, id);
  b.sendJson({ type: "say", room: "dev", text: "x", reply_to: 9999, ref: 5 });
  assert.equal((await b.waitForEvent((e) => e.ref === 5)).code, "no_such_message");
  b.sendJson({ type: "react", room: "dev", id, emoji: "👍", ref: 6 });
  assert.deepEqual(await a.waitForEvent((e) => e.type === "react"), {
    type: "react",
    room: "dev",
    id,
    nick: "ben",
    emoji: "👍",
    on: true,
  });
  b.sendJson({ type: "react", room: "dev", id, emoji: "👍", ref: 7 });
  assert.equal((await b.waitForEvent((e) => e.ref === 7)).code, "bad_request");
  b.sendJson({ type: "react", room: "dev", id, emoji: "🎉".repeat(17), ref: 8 });
  assert.equal((await b.waitForEvent((e) => e.ref === 8)).code, "bad_request");
  a.sendJson({ type: "history", room: "dev", limit: 10, ref: 9 });
  const history = await a.waitForEvent((e) => e.ref === 9);
  const kept = history.messages.find((m: JsonEvent) => m.id === id);
  assert.equal(kept.text, "first");
  assert.equal(typeof kept.edited, "number");
  assert.deepEqual(kept.reactions, { "👍": ["ben"] });
  assert.equal(history.messages.find((m: JsonEvent) => m.text === "agreed").reply_to, id);
  b.sendJson({ type: "unreact", room: "dev", id, emoji: "👍", ref: 10 });
  assert.equal((await a.waitForEvent((e) => e.type === "react" && e.on === false)).nick, "ben");
  b.sendJson({ type: "delete", room: "dev", id, ref: 11 });
  assert.equal((await b.waitForEvent((e) => e.ref === 11)).code, "not_author");
  a.sendJson({ type: "delete", room: "dev", id, ref: 12 });
  assert.deepEqual(await b.waitForEvent((e) => e.type === "delete"), {
    type: "delete",
    room: "dev",
    id,
    nick: "ann",
  });
  a.sendJson({ type: "history", room: "dev", limit: 10, ref: 13 });
  const after = await a.waitForEvent((e) => e.ref === 13);
  assert.ok(!after.messages.some((m: JsonEvent) => m.id === id), "deleted: gone from history");
  a.sendJson({ type: "edit", room: "lobby", id, text: "other room", ref: 14 });
  assert.equal((await a.waitForEvent((e) => e.ref === 14)).code, "no_such_message");
});

Deno.test("json door: the sender deletes a kept DM; both ends hear it, history forgets it", async () => {
  await using server = await withHttpServer({ historyOnJoin: 0 });
  {
    await using setup = await WsClient.jsonClient(server.httpPort);
    for (const nick of ["ann", "ben"]) {
      setup.sendJson({ type: "nick", nick }, { type: "register", password: "pw", ref: nick });
      await setup.waitForEvent((e) => e.ref === nick);
    }
  }
  await using a = await jsonAs(server.httpPort, "ann", "pw");
  await using b = await jsonAs(server.httpPort, "ben", "pw");
  a.sendJson({ type: "msg", to: "ben", text: "my pin is 1234", ref: 1 });
  const sent = await a.waitForEvent((e) => e.ref === 1);
  assert.equal(typeof sent.id, "number", "kept: both ends are registered");
  await b.waitForEvent((e) => e.type === "dm" && e.id === sent.id);
  b.sendJson({ type: "delete", with: "ann", id: sent.id, ref: 2 });
  assert.equal((await b.waitForEvent((e) => e.ref === 2)).code, "not_author");
  a.sendJson({ type: "delete", with: "BEN", id: 999, ref: 3 });
  assert.equal((await a.waitForEvent((e) => e.ref === 3)).code, "no_such_message");
  a.sendJson({ type: "delete", with: "ben", id: sent.id, reason: "oops", ref: 4 });
  const gone = { type: "delete", to: "ben", id: sent.id, nick: "ann", reason: "oops" };
  assert.deepEqual(await a.waitForEvent((e) => e.ref === 4), { ...gone, ref: 4 });
  assert.deepEqual(await b.waitForEvent((e) => e.type === "delete"), gone);
  b.sendJson({ type: "history", with: "ann", ref: 5 });
  assert.deepEqual((await b.waitForEvent((e) => e.ref === 5)).messages, []);
});

Deno.test("json door: typing reaches the others, at most once per 3 s, never nc users", async () => {
  await using server = await withHttpServer({ historyOnJoin: 0 });
  await using a = await jsonAs(server.httpPort, "ann");
  await using b = await jsonAs(server.httpPort, "ben");
  await using nc = await LineClient.chat(server.port);
  a.sendJson({ type: "typing", room: "lobby", state: "active" });
  assert.deepEqual(await b.waitForEvent((e) => e.type === "typing"), {
    type: "typing",
    nick: "ann",
    room: "lobby",
    state: "active",
  });
  a.sendJson({ type: "typing", room: "lobby", state: "active", ref: 1 });
  assert.equal((await a.waitForEvent((e) => e.ref === 1)).code, "slow_down");
  a.sendJson({ type: "typing", room: "lobby", state: "done" });
  assert.equal(
    (await b.waitForEvent((e) => e.type === "typing" && e.state === "done")).nick,
    "ann",
  );
  a.sendJson({ type: "typing", room: "lobby", state: "shouting", ref: 2 });
  assert.equal((await a.waitForEvent((e) => e.ref === 2)).code, "bad_request");
  a.sendJson({ type: "say", room: "lobby", text: "done" });
  await nc.expect("[lobby] ann: done");
  assert.ok(!a.restEvents().some((e) => e.type === "typing"), "the typist hears no echo");
  assert.ok(!nc.lines.some((l) => l.includes("typing")), nc.tail());
});

Deno.test("json door: read markers move forward only, give unread counts, survive a reconnect", async () => {
  await using server = await withHttpServer({ historyOnJoin: 0 });
  await using b = await jsonAs(server.httpPort, "ben");
  for (let i = 1; i <= 5; i++) b.sendJson({ type: "say", room: "lobby", text: `m${i}`, ref: i });
  const ids: number[] = [];
  for (let i = 1; i <= 5; i++) ids.push((await b.waitForEvent((e) => e.ref === i)).id);
  {
    await using a = await jsonAs(server.httpPort, "ann");
    a.sendJson({ type: "register", password: "pw", ref: "r" });
    await a.waitForEvent((e) => e.ref === "r");
    a.sendJson({ type: "read", room: "lobby", id: ids[2], ref: 1 });
    assert.deepEqual(
      { ...(await a.waitForEvent((e) => e.ref === 1)), ts: 0 },
      { type: "read", room: "lobby", id: ids[2], ts: 0, ref: 1 },
    );
    a.sendJson({ type: "read", room: "lobby", id: ids[0], ref: 2 });
    assert.equal((await a.waitForEvent((e) => e.ref === 2)).id, ids[2], "backwards: ignored");
    a.sendJson({ type: "read", room: "lobby", id: 10_000, ref: 3 });
    assert.equal((await a.waitForEvent((e) => e.ref === 3)).code, "no_such_message");
    a.sendJson({ type: "rooms", ref: 4 });
    const rooms = await a.waitForEvent((e) => e.ref === 4);
    assert.equal(rooms.rooms.find((r: JsonEvent) => r.room === "lobby").unread, 2);
  }
  await using again = await WsClient.jsonClient(server.httpPort);
  again.sendJson({ type: "nick", nick: "ann", password: "pw" }, { type: "join", room: "dev" });
  again.sendJson({ type: "leave", room: "lobby" }, { type: "join", room: "lobby", ref: 5 });
  const joined = await again.waitForEvent((e) => e.ref === 5);
  assert.equal(joined.read, ids[2]);
  assert.equal(joined.unread, 2);
  again.sendJson({ type: "read", room: "lobby", ref: 6 });
  assert.equal((await again.waitForEvent((e) => e.ref === 6)).id, ids[2]);
});

Deno.test("json door: scrollback with before, search newest first in the client's rooms", async () => {
  await using server = await withHttpServer({ historyOnJoin: 0 });
  await using a = await jsonAs(server.httpPort, "ann");
  await using b = await jsonAs(server.httpPort, "ben");
  b.sendJson({ type: "join", room: "private" });
  b.sendJson({ type: "say", room: "private", text: "deploy friday secret", ref: "p" });
  await b.waitForEvent((e) => e.ref === "p");
  for (let i = 1; i <= 4; i++) a.sendJson({ type: "say", text: `deploy friday ${i}`, ref: i });
  const ids: number[] = [];
  for (let i = 1; i <= 4; i++) ids.push((await a.waitForEvent((e) => e.ref === i)).id);
  a.sendJson({ type: "history", room: "lobby", before: ids[3], limit: 2, ref: 5 });
  const page = await a.waitForEvent((e) => e.ref === 5);
  assert.deepEqual(page.messages.map((m: JsonEvent) => m.id), [ids[1], ids[2]]);
  a.sendJson({ type: "search", text: "friday deploy", ref: 6 });
  const found = await a.waitForEvent((e) => e.ref === 6);
  assert.deepEqual(found.results.map((m: JsonEvent) => m.text), [
    "deploy friday 4",
    "deploy friday 3",
    "deploy friday 2",
    "deploy friday 1",
  ], "newest first, and not from a room ann is not in");
  a.sendJson({ type: "search", text: "friday", limit: 1, ref: 7 });
  assert.equal((await a.waitForEvent((e) => e.ref === 7)).results.length, 1);
  a.sendJson({ type: "search", text: "   ", ref: 8 });
  assert.equal((await a.waitForEvent((e) => e.ref === 8)).code, "bad_request");
  a.sendJson({ type: "search", text: "')); DROP TABLE messages; --", ref: 9 });
  assert.deepEqual((await a.waitForEvent((e) => e.ref === 9)).results, []);
});

Deno.test("across doors: an nc user's message, edited from a browser session of the same nick, reads as edited on IRC", async () => {
  await using server = await withHttpServer({
    historyOnJoin: 0,
    irc: { hostname: "127.0.0.1", port: 0 },
  });
  await using irc = await RawIrc.register(server.ircAddr!.port, "watcher");
  await irc.send("JOIN #dev");
  await irc.expect("366");
  let id: number;
  {
    await using nc = await LineClient.chat(server.port);
    await nc.send("/nick alice", "/register pw", "/join dev", "teh plan");
    await irc.waitFor((m) => m.command === "PRIVMSG" && m.params[1] === "teh plan");
    id = await idOf(nc, "teh plan");
    await nc.send("/quit");
    await nc.waitClosed();
  }
  await using web = await jsonAs(server.httpPort, "alice", "pw");
  web.sendJson({ type: "join", room: "dev" });
  web.sendJson({ type: "edit", room: "dev", id, text: "the plan", ref: "e" });
  await web.waitForEvent((e) => e.ref === "e" && e.type === "edit");
  const notice = await irc.waitFor((m) => m.command === "NOTICE" && m.params[0] === "#dev");
  assert.match(notice.params[1], /alice.*edited.*the plan/);
});

Deno.test("one nick, several connections: the room sees one member; DMs and lines reach all", async () => {
  await using server = withServer({ historyOnJoin: 0 });
  await using bob = await LineClient.chat(server.port);
  await bob.send("/nick bob");
  await bob.waitFor((l) => l.endsWith("is now known as bob"));
  await using laptop = await LineClient.chat(server.port);
  await laptop.send("/nick alice", "/register pw");
  await laptop.waitFor((l) => l.startsWith("* nick alice is registered"));
  await using phone = await LineClient.chat(server.port);
  const guest = phone.nick;
  await phone.send("/nick alice pw");
  await phone.expect(`* ${guest} is now known as alice`);
  // alice was in the lobby already: the phone's guest nick leaves it, nobody joins.
  await bob.expect(`* ${guest} left lobby`);
  bob.skip();
  await bob.send("/who lobby");
  await bob.expect("* members of lobby: bob, alice");
  await laptop.send("from the laptop");
  await phone.expect("[lobby] alice: from the laptop");
  await bob.send("/msg alice psst");
  await laptop.expect("[dm] bob -> alice: psst");
  await phone.expect("[dm] bob -> alice: psst");
  await laptop.send("/msg bob yes?");
  await phone.expect("[dm] alice -> bob: yes?", 5000);
  // A guest never shares a nick; a registered one needs its password.
  await using mallory = await LineClient.chat(server.port);
  await mallory.send("/nick alice", "/nick bob");
  await mallory.expect("! nick alice is registered (/nick alice <password>)");
  await mallory.expect("! nick taken: bob");
  await phone.send("/nick zed");
  await phone.expect(
    "! alice is connected more than once: the nick cannot change while it is shared",
  );
  // One connection leaving a room the other stays in: only it hears.
  await phone.send("/leave lobby");
  await phone.expect("* alice left lobby");
  await bob.send("/who lobby");
  await bob.expect("* members of lobby: bob, alice, " + mallory.nick);
  assert.ok(!bob.lines.includes("* alice left lobby"), bob.tail());
  await laptop.send("/quit");
  await bob.expect("* alice left lobby (quit)");
  await phone.send("/nick zed");
  await phone.expect("* alice is now known as zed");
});

Deno.test("one nick, several connections: read markers move on all of them", async () => {
  await using server = await withHttpServer({ historyOnJoin: 0 });
  await using laptop = await jsonAs(server.httpPort, "ann");
  laptop.sendJson({ type: "register", password: "pw", ref: "r" });
  await laptop.waitForEvent((e) => e.ref === "r");
  await using phone = await jsonAs(server.httpPort, "ann", "pw");
  laptop.sendJson({ type: "say", text: "one", ref: 1 });
  const id = (await laptop.waitForEvent((e) => e.ref === 1)).id;
  await phone.waitForEvent((e) => e.type === "message" && e.id === id);
  laptop.sendJson({ type: "read", room: "lobby", id, ref: 2 });
  await laptop.waitForEvent((e) => e.ref === 2);
  const moved = await phone.waitForEvent((e) => e.type === "read");
  assert.deepEqual([moved.room, moved.id, moved.ref], ["lobby", id, undefined]);
});

Deno.test("one nick, several connections: an IRC client logs in with SASL beside an nc one", async () => {
  await using server = withServer({ historyOnJoin: 0, irc: { hostname: "127.0.0.1", port: 0 } });
  await using nc = await LineClient.chat(server.port);
  await nc.send("/nick alice", "/register pw", "/join dev");
  await nc.expect("* alice joined dev");
  await using irc = await RawIrc.register(server.ircAddr!.port, "alice", { sasl: "pw" });
  assert.equal(irc.lines.find((m) => m.command === "001")?.params[0], "alice");
  await irc.send("JOIN #dev");
  await irc.expect("366");
  await nc.send("/join dev", "said on nc");
  const line = await irc.waitFor((m) => m.command === "PRIVMSG" && m.params[1] === "said on nc");
  assert.equal(line.params[0], "#dev");
  assert.ok(!nc.lines.includes("* alice joined dev\n* alice joined dev"));
  assert.equal(nc.lines.filter((l) => l === "* alice joined dev").length, 1, nc.tail());
});
