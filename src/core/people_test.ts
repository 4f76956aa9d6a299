/**
 * The requests the IRC door needs from the core, on every door: notices,
 * part reasons, members in detail, away, whois, ison, bans and modes, and
 * clients that are not put in the lobby.
 */
import assert from "node:assert/strict";
import { MemoryLink } from "../cluster/memory.ts";
import { MemoryHistoryStore } from "../store/memory.ts";
import { type ConnectOptions, Hub } from "./hub.ts";
import { Stats } from "./stats.ts";
import { RecordingPort, TEST_HUB_OPTIONS, tick } from "./test_support.ts";
import type { Command } from "./types.ts";

let refs = 0;

function setup() {
  const hub = new Hub(new MemoryHistoryStore(100), new Stats(), {
    ...TEST_HUB_OPTIONS,
    link: new MemoryLink(),
    now: () => 1000,
  });
  const client = async (nick: string, options: ConnectOptions = {}) => {
    const port = new RecordingPort();
    const session = hub.connect(port, "", options);
    hub.handle(session, { type: "nick", nick });
    await tick();
    port.take();
    /** Sends a request and waits for the reply carrying its ref; returns what arrived. */
    const ask = async (command: Command) => {
      port.take();
      const ref = command.ref ?? `r${++refs}`;
      hub.handle(session, { ...command, ref } as Command);
      const deadline = Date.now() + 5000;
      while (!port.events.some((e) => (e as { ref?: unknown }).ref === ref)) {
        if (Date.now() > deadline) throw new Error(`no reply to ${JSON.stringify(command)}`);
        await tick();
      }
      await tick();
      return port.take();
    };
    return { port, session, ask };
  };
  return { hub, client };
}

Deno.test("core: a client connected without the lobby is in no room", async () => {
  const { client } = setup();
  const irc = await client("ann", { lobby: false, ident: { user: "annu", realname: "Ann A" } });
  assert.equal(irc.session.rooms.size, 0);
  assert.equal(irc.session.current, null);
});

Deno.test("core: a notice is a message of kind notice; a part carries its reason", async () => {
  const { client } = setup();
  const ann = await client("ann");
  const bob = await client("bob");
  ann.port.take();
  await bob.ask({ type: "notice", text: "fyi" });
  const heard = ann.port.take().find((e) => e.type === "message");
  assert.equal(heard?.type === "message" && heard.message.kind, "notice");
  await bob.ask({ type: "leave", reason: "  see you " });
  await tick();
  assert.deepEqual(ann.port.take(), [{
    type: "left",
    room: "lobby",
    nick: "bob",
    reason: { kind: "part", message: "see you" },
  }]);
});

Deno.test("core: who with detail gives operators, away messages and IRC idents", async () => {
  const { client } = setup();
  const ann = await client("ann", { ident: { user: "annu", realname: "Ann A" } });
  const bob = await client("bob");
  await ann.ask({ type: "join", room: "dev" });
  await bob.ask({ type: "join", room: "dev" });
  await bob.ask({ type: "away", text: "lunch" });
  assert.deepEqual(await ann.ask({ type: "who", room: "dev", detail: true, ref: 1 }), [{
    type: "who",
    room: "dev",
    members: ["ann", "bob"],
    details: [
      { nick: "ann", op: true, user: "annu", realname: "Ann A" },
      { nick: "bob", op: false, away: "lunch" },
    ],
    ref: 1,
  }]);
});

Deno.test("core: away and back; a DM to an away nick tells the sender, a notice does not", async () => {
  const { client } = setup();
  const ann = await client("ann");
  const bob = await client("bob");
  assert.deepEqual(await bob.ask({ type: "away", text: "lunch", ref: 2 }), [
    { type: "away", nick: "bob", text: "lunch", ref: 2 },
  ]);
  const replies = await ann.ask({ type: "msg", to: "bob", text: "hi" });
  assert.deepEqual(replies.map((e) => e.type), ["dm", "away"]);
  // The DM is the request's reply (its ref); the away notice is not.
  assert.deepEqual(replies[1], { type: "away", nick: "bob", text: "lunch" });
  assert.deepEqual(
    (await ann.ask({ type: "msg", to: "bob", text: "fyi", notice: true })).map((e) => e.type),
    ["dm"],
  );
  assert.deepEqual(await bob.ask({ type: "away", ref: 4 }), [
    { type: "away", nick: "bob", text: null, ref: 4 },
  ]);
});

Deno.test("core: whois and ison", async () => {
  const { client } = setup();
  const ann = await client("ann", { ident: { user: "annu", realname: "Ann A" } });
  const bob = await client("bob");
  await ann.ask({ type: "register", password: "pw" });
  assert.deepEqual(await bob.ask({ type: "whois", nick: "ANN", ref: 5 }), [{
    type: "whois",
    nick: "ann",
    rooms: ["lobby"],
    registered: true,
    account: "ann", // registering logs in
    admin: false,
    user: "annu",
    realname: "Ann A",
    ref: 5,
  }]);
  const [error] = await bob.ask({ type: "whois", nick: "nobody" });
  assert.equal(error.type === "error" && error.code, "no_such_nick");
  assert.deepEqual(await bob.ask({ type: "ison", nicks: ["Ann", "nobody", "bob"], ref: 6 }), [
    { type: "ison", nicks: ["ann", "bob"], ref: 6 },
  ]);
});

Deno.test("core: bans and modes of a room, for anyone to see", async () => {
  const { client } = setup();
  const ann = await client("ann");
  const bob = await client("bob");
  await ann.ask({ type: "join", room: "dev" });
  await ann.ask({ type: "ban", nick: "mallory" });
  await ann.ask({ type: "lock", password: "sesame" });
  assert.deepEqual(await bob.ask({ type: "bans", room: "#dev", ref: 7 }), [
    { type: "bans", room: "dev", bans: ["mallory"], ref: 7 },
  ]);
  assert.deepEqual(await bob.ask({ type: "modes", room: "dev", ref: 3 }), [
    { type: "modes", room: "dev", locked: true, created: 1000, flags: {}, ref: 3 },
  ]);
  const [error] = await bob.ask({ type: "modes", room: "nowhere" });
  assert.equal(error.type === "error" && error.code, "no_such_room");
});
