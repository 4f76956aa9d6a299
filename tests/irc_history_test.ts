/**
 * IRC `CHATHISTORY` over real sockets: a channel's pages (`LATEST`,
 * `BEFORE`, `AFTER`, `AROUND`, `BETWEEN`) with the msgids the live lines
 * carried, the DMs kept for logged-in nicks (one msgid seen by both ends,
 * never shown to a nick registered after them), `TARGETS`, and the `FAIL`s.
 *
 * @module
 */

import assert from "node:assert/strict";
import { LineClient, withServer } from "./helpers.ts";
import { type IrcLine, RawIrc } from "./irc_client.ts";

const CAPS = ["batch", "message-tags", "server-time", "echo-message", "draft/chathistory"];

/** A server with an IRC listener on an ephemeral port; `irc` is its port. */
function ircServer() {
  const server = withServer({ irc: { hostname: "127.0.0.1", port: 0 } });
  return Object.assign(server, { irc: server.ircAddr!.port });
}

/** Registers `nick` with `password` over the text door. */
async function registerNick(port: number, nick: string, password: string): Promise<void> {
  await using c = await LineClient.chat(port);
  await c.send(`/nick ${nick}`);
  await c.waitFor((l) => l.includes(`is now known as ${nick}`));
  await c.send(`/register ${password}`);
  await c.waitFor((l) => l.includes(`nick ${nick} is registered`));
}

/** Sends a `CHATHISTORY` line; returns the lines of the batch it opened (or the `FAIL`). */
async function history(client: RawIrc, line: string): Promise<IrcLine[]> {
  client.skip();
  await client.send(line);
  const first = await client.waitFor((m) => m.command === "BATCH" || m.command === "FAIL");
  if (first.command === "FAIL") return [first];
  const id = first.params[0].slice(1);
  const lines: IrcLine[] = [first];
  for (;;) {
    const next = await client.waitFor(() => true);
    lines.push(next);
    if (next.command === "BATCH" && next.params[0] === `-${id}`) return lines;
    assert.equal(next.tags.batch, id, `inside the batch: ${next.raw}`);
  }
}

/** The texts of the messages in a batch. */
const texts = (lines: IrcLine[]) =>
  lines.filter((m) => m.command === "PRIVMSG").map((m) => m.params[1]);

/** Waits a few ms, so that messages' times (in ms) differ. */
const apart = () => new Promise((resolve) => setTimeout(resolve, 3));

/** Says `text` and returns the msgid its echo carried. */
async function say(client: RawIrc, target: string, text: string): Promise<string> {
  await client.send(`PRIVMSG ${target} :${text}`);
  const echo = await client.waitFor((m) => m.command === "PRIVMSG" && m.params[1] === text);
  assert.ok(echo.tags.msgid, `an msgid on ${echo.raw}`);
  return echo.tags.msgid;
}

Deno.test("CHATHISTORY pages a channel by msgid and by time, with the live lines' msgids", async () => {
  await using server = await ircServer();
  await using alice = await RawIrc.register(server.irc, "alice", { caps: CAPS });
  await alice.send("JOIN #dev");
  await alice.waitFor((m) => m.command === "366");
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    ids.push(await say(alice, "#dev", `line ${i}`));
    await apart(); // times in ms that tell the lines apart
  }

  const latest = await history(alice, "CHATHISTORY LATEST #dev * 3");
  assert.deepEqual(latest[0].params.slice(1), ["chathistory", "#dev"]);
  assert.deepEqual(texts(latest), ["line 3", "line 4", "line 5"]);
  assert.deepEqual(latest.filter((m) => m.command === "PRIVMSG").map((m) => m.tags.msgid), [
    ids[3],
    ids[4],
    ids[5],
  ]);
  assert.ok(latest.every((m) => m.command !== "PRIVMSG" || m.tags.time), "each with its time");

  assert.deepEqual(texts(await history(alice, `CHATHISTORY BEFORE #dev msgid=${ids[3]} 2`)), [
    "line 1",
    "line 2",
  ]);
  assert.deepEqual(texts(await history(alice, `CHATHISTORY AFTER #dev msgid=${ids[3]} 10`)), [
    "line 4",
    "line 5",
  ]);
  assert.deepEqual(texts(await history(alice, `CHATHISTORY AROUND #dev msgid=${ids[2]} 3`)), [
    "line 1",
    "line 2",
    "line 3",
  ]);
  // BETWEEN excludes both ends, and reads backwards when the first is the later one.
  assert.deepEqual(
    texts(await history(alice, `CHATHISTORY BETWEEN #dev msgid=${ids[0]} msgid=${ids[4]} 10`)),
    ["line 1", "line 2", "line 3"],
  );
  assert.deepEqual(
    texts(await history(alice, `CHATHISTORY BETWEEN #dev msgid=${ids[4]} msgid=${ids[0]} 2`)),
    ["line 2", "line 3"],
  );
  // LATEST after a point: what the client missed since it.
  assert.deepEqual(texts(await history(alice, `CHATHISTORY LATEST #dev msgid=${ids[4]} 10`)), [
    "line 5",
  ]);
  const page = await history(alice, "CHATHISTORY LATEST #dev * 10");
  const times = page.filter((m) => m.command === "PRIVMSG").map((m) => m.tags.time);
  assert.deepEqual(
    texts(await history(alice, `CHATHISTORY AFTER #dev timestamp=${times[4]} 10`)),
    ["line 5"],
  );
});

Deno.test("CHATHISTORY fails with INVALID_TARGET or INVALID_PARAMS, and the client goes on", async () => {
  await using server = await ircServer();
  await using alice = await RawIrc.register(server.irc, "alice", { caps: CAPS });
  await using bob = await RawIrc.register(server.irc, "bob", { caps: CAPS });
  await bob.send("JOIN #secretive");
  await bob.waitFor((m) => m.command === "366");
  await say(bob, "#secretive", "not for alice");
  const fail = async (line: string, code: string) => {
    const [reply] = await history(alice, line);
    assert.equal(reply.command, "FAIL", reply.raw);
    assert.deepEqual(reply.params.slice(0, 2), ["CHATHISTORY", code], reply.raw);
  };
  await fail("CHATHISTORY LATEST #nowhere * 10", "INVALID_TARGET");
  await fail("CHATHISTORY LATEST #secretive * 10", "INVALID_TARGET"); // not a member
  await fail("CHATHISTORY LATEST bob * 10", "INVALID_TARGET"); // a guest keeps no DMs
  await fail("CHATHISTORY LATEST #secretive * lots", "INVALID_PARAMS");
  await fail("CHATHISTORY BEFORE #secretive * 10", "INVALID_PARAMS");
  await fail("CHATHISTORY SIDEWAYS #secretive * 10", "INVALID_PARAMS");
  await fail("CHATHISTORY AFTER #secretive msgid=other-3 10", "INVALID_PARAMS");
  await alice.send("JOIN #secretive");
  await alice.waitFor((m) => m.command === "366");
  assert.ok(
    texts(await history(alice, "CHATHISTORY LATEST #secretive * 10")).includes("not for alice"),
  );
});

Deno.test("DMs between logged-in nicks are kept once: both ends page them with the same msgids", async () => {
  await using server = await ircServer();
  await registerNick(server.port, "alice", "alicepw");
  await registerNick(server.port, "bob", "bobpw");
  await using alice = await RawIrc.register(server.irc, "alice", { caps: CAPS, sasl: "alicepw" });
  await using bob = await RawIrc.register(server.irc, "bob", { caps: CAPS, sasl: "bobpw" });
  const ids = [
    await say(alice, "bob", "hi bob"),
    await say(bob, "alice", "hi alice"),
    await say(alice, "BOB", "how are you"),
  ];
  // The other end got the same msgid live.
  const got = alice.lines.find((m) => m.command === "PRIVMSG" && m.params[1] === "hi alice");
  assert.equal(got?.tags.msgid, ids[1]);

  for (const [client, other] of [[alice, "bob"], [bob, "ALICE"]] as const) {
    const page = await history(client, `CHATHISTORY LATEST ${other} * 10`);
    const messages = page.filter((m) => m.command === "PRIVMSG");
    assert.deepEqual(messages.map((m) => m.params[1]), ["hi bob", "hi alice", "how are you"]);
    assert.deepEqual(messages.map((m) => m.tags.msgid), ids);
    // Each line from its sender to the other, with the nicks as they are, whatever was typed.
    assert.deepEqual(
      messages.map((m) => `${m.source!.split("!")[0]}>${m.params[0]}`),
      ["alice>bob", "bob>alice", "alice>bob"],
    );
  }
  assert.deepEqual(
    texts(await history(bob, `CHATHISTORY BEFORE alice msgid=${ids[2]} 1`)),
    ["hi alice"],
  );
});

Deno.test("a logged-in nick keeps its DMs with a guest; a nick registered later does not see them", async () => {
  await using server = await ircServer();
  await registerNick(server.port, "alice", "alicepw");
  await using alice = await RawIrc.register(server.irc, "alice", { caps: CAPS, sasl: "alicepw" });
  {
    await using guest = await RawIrc.register(server.irc, "dave", { caps: CAPS });
    await say(guest, "alice", "from the guest dave");
    await say(alice, "dave", "to the guest dave");
    assert.deepEqual(texts(await history(alice, "CHATHISTORY LATEST dave * 10")), [
      "from the guest dave",
      "to the guest dave",
    ]);
    await guest.send("QUIT :bye");
    await guest.waitClosed();
  }
  await registerNick(server.port, "dave", "davepw");
  await using dave = await RawIrc.register(server.irc, "dave", { caps: CAPS, sasl: "davepw" });
  assert.deepEqual(texts(await history(dave, "CHATHISTORY LATEST alice * 10")), []);
  await say(alice, "dave", "welcome, registered dave");
  assert.deepEqual(texts(await history(dave, "CHATHISTORY LATEST alice * 10")), [
    "welcome, registered dave",
  ]);
  // alice, registered all along, still has the whole conversation.
  assert.deepEqual(texts(await history(alice, "CHATHISTORY LATEST dave * 10")), [
    "from the guest dave",
    "to the guest dave",
    "welcome, registered dave",
  ]);
});

Deno.test("CHATHISTORY TARGETS lists channels and DM partners by their latest message", async () => {
  await using server = await ircServer();
  await registerNick(server.port, "alice", "alicepw");
  await registerNick(server.port, "bob", "bobpw");
  await using alice = await RawIrc.register(server.irc, "alice", { caps: CAPS, sasl: "alicepw" });
  await using _bob = await RawIrc.register(server.irc, "bob", { caps: CAPS, sasl: "bobpw" });
  for (const room of ["#one", "#two"]) {
    await alice.send(`JOIN ${room}`);
    await alice.waitFor((m) => m.command === "366" && m.params[1] === room);
  }
  await say(alice, "#one", "first");
  await apart();
  await say(alice, "bob", "second");
  await apart();
  await say(alice, "#two", "third");
  await apart();
  await say(alice, "#one", "fourth"); // #one's latest is now the newest
  const times = (await history(alice, "CHATHISTORY LATEST #two * 1"))
    .filter((m) => m.command === "PRIVMSG").map((m) => m.tags.time);

  const listed = async (from: string, to: string) => {
    alice.skip();
    await alice.send(`CHATHISTORY TARGETS timestamp=${from} timestamp=${to} 10`);
    const open = await alice.waitFor((m) => m.command === "BATCH");
    assert.equal(open.params[1], "draft/chathistory-targets");
    const found: string[] = [];
    for (;;) {
      const line = await alice.waitFor(() => true);
      if (line.command === "BATCH") return found;
      assert.equal(line.params[0], "TARGETS");
      assert.ok(!Number.isNaN(Date.parse(line.params[2])), `a plain time: ${line.raw}`);
      found.push(line.params[1]);
    }
  };
  const epoch = "2000-01-01T00:00:00.000Z";
  const future = "2200-01-01T00:00:00.000Z";
  assert.deepEqual(await listed(epoch, future), ["bob", "#two", "#one"]);
  // Up to #two's message: #one's latest is after it, so #one is not listed.
  const justAfter = new Date(Date.parse(times[0]) + 1).toISOString();
  assert.deepEqual(await listed(epoch, justAfter), ["bob", "#two"]);
  assert.deepEqual(await listed(future, epoch), ["bob", "#two", "#one"], "bounds in either order");
});
