/**
 * Every command and line form of the text protocol, over real sockets.
 */
import assert from "node:assert/strict";
import { LineClient, withServer } from "./helpers.ts";

Deno.test("a new client is welcomed with a guest nick and put in the lobby", async () => {
  await using server = withServer();
  await using a = await LineClient.connect(server.port);
  const welcome = await a.waitFor((l) => l.startsWith("* welcome"));
  assert.match(welcome, /you are guest-\d+ in lobby/);
  await a.expect(`* ${a.nick} joined lobby`);
  await using b = await LineClient.chat(server.port);
  assert.notEqual(a.nick, b.nick, "guest nicks are unique");
  await a.expect(`* ${b.nick} joined lobby`);
});

Deno.test("a plain line reaches every member of the room, the sender included", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await a.send("hello there");
  await a.expect(`[lobby] ${a.nick}: hello there`);
  await b.expect(`[lobby] ${a.nick}: hello there`);
  await a.send("//etc/passwd is a path");
  await b.expect(`[lobby] ${a.nick}: /etc/passwd is a path`);
});

Deno.test("a client alone in a room sees its line come back", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await a.send("/join solo", "anyone?");
  await a.expect(`[solo] ${a.nick}: anyone?`);
});

Deno.test("/nick renames, tells the room once, refuses bad and taken names", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  const old = a.nick;
  await a.send("/join dev"); // shares lobby and dev with nobody else but b in lobby
  await b.send("/join dev");
  await a.expect(`* ${b.nick} joined dev`);
  await a.send("/nick   Alice  ");
  await a.expect(`* ${old} is now known as Alice`);
  await b.expect(`* ${old} is now known as Alice`);
  await b.send("/nick alice");
  await b.expect("! nick taken: alice");
  await b.send("/nick bad!name");
  await b.waitFor((l) => l.startsWith("! invalid nick: bad!name"));
  await b.send(`/nick ${"x".repeat(33)}`);
  await b.waitFor((l) => l.startsWith("! invalid nick"));
  await b.send("/nick");
  await b.expect("! usage: /nick <name> [<password>]");
  // Told once although they share two rooms.
  await b.send("/nick bob", "/who");
  await b.expect(`* members of dev: Alice, bob`);
  assert.equal(b.lines.filter((l) => l.endsWith("is now known as Alice")).length, 1);
  // Case changes of one's own nick are allowed.
  await a.send("/nick ALICE");
  await a.expect("* Alice is now known as ALICE");
});

Deno.test("/join creates rooms, folds case and #, and tells the members", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await a.send("/join #Dev");
  await a.expect(`* ${a.nick} joined dev`);
  await b.send("/join  dev ");
  await a.expect(`* ${b.nick} joined dev`);
  await b.expect(`* ${b.nick} joined dev`);
  await b.send("in dev");
  await a.expect(`[dev] ${b.nick}: in dev`);
  await a.send("/join bad.room");
  await a.waitFor((l) => l.startsWith("! invalid room name: bad.room"));
  await a.send("/join");
  await a.expect("! usage: /join <room> [<password>]");
  // Joining a room again only makes it current.
  await a.send("/join lobby");
  await a.expect("* now talking in lobby");
  await a.send("back in lobby");
  await b.expect(`[lobby] ${a.nick}: back in lobby`);
});

Deno.test("/join replays the room's recent messages between history markers", async () => {
  await using server = withServer({ historyOnJoin: 2 });
  await using a = await LineClient.chat(server.port);
  await a.send("/join dev", "one", "two", "three");
  await a.expect(`[dev] ${a.nick}: three`);
  await using b = await LineClient.chat(server.port);
  await b.send("/join dev");
  await b.expect(`* ${b.nick} joined dev`);
  await b.expect("* history dev begin");
  await b.expect(`[dev] ${a.nick}: two`);
  await b.expect(`[dev] ${a.nick}: three`);
  await b.expect("* history dev end");
});

Deno.test("/leave and /part leave a room; members see it; current room moves on", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await a.send("/join dev");
  await b.send("/join dev");
  await a.expect(`* ${b.nick} joined dev`);
  await b.send("/leave");
  await a.expect(`* ${b.nick} left dev`);
  await b.expect(`* ${b.nick} left dev`);
  await b.expect("* now talking in lobby");
  await b.send("/part lobby");
  await a.expect(`* ${b.nick} left lobby`);
  await b.expect("* you are in no room now (try /join <room>)");
  await b.send("anyone?");
  await b.expect("! you are not in a room (try /join <room>)");
  await b.send("/leave dev");
  await b.expect("! you are not in room dev");
});

Deno.test("/rooms and /list list rooms with member counts", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await a.send("/join dev");
  await a.expect(`* ${a.nick} joined dev`);
  await b.send("/rooms");
  await b.expect("* dev (1 member)");
  await b.expect("* lobby (2 members)");
  await b.send("/list");
  await b.expect("* dev (1 member)");
});

Deno.test("/who lists the members of the current or a named room", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await a.send("/nick ann", "/join dev");
  await a.expect("* ann joined dev");
  await b.send("/nick bo", "/who", "/who dev", "/who nowhere");
  await b.expect("* members of lobby: ann, bo");
  await b.expect("* members of dev: ann");
  await b.expect("! no such room: nowhere");
});

Deno.test("/msg sends a direct message to both ends only", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await using c = await LineClient.chat(server.port);
  const guest = a.nick;
  await a.send("/nick ann");
  await b.expect(`* ${guest} is now known as ann`);
  await b.send("/nick bo");
  await a.expect(`* ${b.nick} is now known as bo`);
  await a.send("/msg BO  psst, over here ");
  await a.expect("[dm] ann -> bo: psst, over here");
  await b.expect("[dm] ann -> bo: psst, over here");
  await a.send("/msg nobody hi", "/msg bo");
  await a.expect("! no such nick: nobody");
  await a.expect("! usage: /msg <nick> <text>");
  await c.send("/rooms");
  await c.expect("* lobby (3 members)");
  assert.ok(!c.lines.some((l) => l.startsWith("[dm]")), "a third client sees no DM");
});

Deno.test("/me sends an action to the current room", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await a.send("/nick ann", "/me waves  hello");
  await b.expect("[lobby] * ann waves  hello");
  await a.send("/me");
  await a.expect("! usage: /me <text>");
});

Deno.test("/history shows the last n messages oldest first between markers", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await a.send("/nick ann", "/join h");
  for (let i = 1; i <= 25; i++) await a.send(`m${i}`);
  await a.expect("[h] ann: m25");
  await a.send("/history 3");
  await a.expect("* history h begin");
  assert.deepEqual(
    [await a.waitFor(() => true), await a.waitFor(() => true), await a.waitFor(() => true)],
    ["[h] ann: m23", "[h] ann: m24", "[h] ann: m25"],
  );
  await a.expect("* history h end");
  await a.send("/history");
  await a.expect("* history h begin");
  await a.expect("[h] ann: m6"); // default 20: m6..m25
  await a.expect("* history h end");
  await a.send("/history 0", "/history lots");
  await a.expect("! usage: /history [<n>] [before #<id>] (n from 1 to 1000)");
  await a.expect("! usage: /history [<n>] [before #<id>] (n from 1 to 1000)");
  await a.send("/me is done", "/history 1");
  await a.expect("* history h begin");
  await a.expect("[h] * ann is done");
});

Deno.test("/help lists the commands; unknown commands point to it", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await a.send("/help");
  for (
    const command of [
      "/nick",
      "/join",
      "/leave",
      "/rooms",
      "/who",
      "/msg",
      "/me",
      "/history",
      "/quit",
    ]
  ) {
    await a.waitFor((l) => l.startsWith("* ") && l.includes(command));
  }
  await a.send("/frobnicate now");
  await a.expect("! unknown command /frobnicate (try /help)");
});

Deno.test("/quit says bye, closes, and the rooms see the reason", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await using c = await LineClient.chat(server.port);
  await a.send("/nick ann", "/join dev", "/quit  gone fishing ");
  await a.expect("* bye");
  await a.waitClosed();
  await b.expect("* ann left lobby (quit: gone fishing)");
  await c.send("/nick cy", "/quit");
  await c.waitClosed();
  await b.expect("* cy left lobby (quit)");
});

Deno.test("a client that disconnects leaves its rooms at once", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  await using b = await LineClient.chat(server.port);
  await a.send("/nick ann", "/join dev");
  await a.expect("* ann joined dev");
  await b.send("/join dev");
  await a.expect(`* ${b.nick} joined dev`);
  await a.close();
  await b.expect("* ann left lobby (quit)");
  await b.expect("* ann left dev (quit)");
});

Deno.test("a half-closed client still gets the replies to its last lines", async () => {
  await using server = withServer();
  await using b = await LineClient.chat(server.port);
  await using a = await LineClient.chat(server.port);
  await a.send("/nick ann", "last words", "/rooms");
  await a.conn.closeWrite();
  await a.expect("[lobby] ann: last words");
  await a.expect("* lobby (2 members)");
  await a.waitClosed();
  await b.expect("[lobby] ann: last words");
  await b.expect("* ann left lobby (quit)");
});

Deno.test("a last line without a newline before EOF still counts", async () => {
  await using server = withServer();
  await using b = await LineClient.chat(server.port);
  await using a = await LineClient.chat(server.port);
  await a.write(new TextEncoder().encode("/nick ann\r\nno newline"));
  await a.conn.closeWrite();
  await b.expect("[lobby] ann: no newline");
});

Deno.test("a client's requests take effect in the order it sent them", async () => {
  await using server = withServer();
  await using a = await LineClient.chat(server.port);
  // One write: the message must be delivered before the leave takes effect.
  await a.send("/join x", "first", "/leave", "/bogus", "/join x", "second");
  await a.expect(`[x] ${a.nick}: first`);
  await a.expect(`* ${a.nick} left x`);
  await a.expect("* now talking in lobby");
  await a.expect("! unknown command /bogus (try /help)");
  await a.expect(`* ${a.nick} joined x`);
  await a.expect(`[x] ${a.nick}: second`);
});
