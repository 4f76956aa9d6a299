/**
 * Two hubs on an in-memory network behave as two processes sharing a Redis:
 * the same core code, another link.
 */
import assert from "node:assert/strict";
import { MemoryNetwork } from "../cluster/memory.ts";
import { MemoryHistoryStore } from "../store/memory.ts";
import { Hub } from "./hub.ts";
import { Stats } from "./stats.ts";
import { RecordingPort, TEST_HUB_OPTIONS, tick } from "./test_support.ts";

Deno.test("hub on a memory network: messages, who, DMs and nicks cross processes", async () => {
  const network = new MemoryNetwork();
  const store = new MemoryHistoryStore(100); // the shared history, as Redis is
  const options = TEST_HUB_OPTIONS;
  const a = new Hub(store, new Stats(), { ...options, link: network.link() });
  const b = new Hub(store, new Stats(), { ...options, link: network.link() });
  const [ann, bob] = [new RecordingPort(), new RecordingPort()];
  const annSession = a.connect(ann);
  const bobSession = b.connect(bob);
  assert.notEqual(annSession.nick, bobSession.nick, "guest numbers are unique across processes");
  a.handle(annSession, { type: "nick", nick: "ann" });
  b.handle(bobSession, { type: "nick", nick: "ANN" });
  await tick();
  assert.ok(bob.events.some((e) => e.type === "error" && e.code === "nick_taken"));
  b.handle(bobSession, { type: "nick", nick: "bob" });
  await tick();
  a.handle(annSession, { type: "say", text: "hello from a" });
  await tick();
  const heard = bob.events.filter((e) => e.type === "message").map((e) =>
    e.type === "message" ? `${e.message.nick}: ${e.message.text} #${e.message.id}` : ""
  );
  assert.deepEqual(heard, ["ann: hello from a #1"]);
  b.handle(bobSession, { type: "who", ref: 1 });
  await tick();
  assert.deepEqual(bob.events.find((e) => e.type === "who"), {
    type: "who",
    room: "lobby",
    members: ["bob", "ann"],
    ref: 1,
  });
  b.handle(bobSession, { type: "msg", to: "Ann", text: "psst" });
  await tick();
  assert.ok(ann.events.some((e) => e.type === "dm" && e.from === "bob" && e.text === "psst"));
  a.shutdown();
  b.shutdown();
});

Deno.test("hub on a memory network: a nick's case change is what other processes find", async () => {
  const network = new MemoryNetwork();
  const store = new MemoryHistoryStore(100);
  const seen = network.link();
  const a = new Hub(store, new Stats(), { ...TEST_HUB_OPTIONS, link: network.link() });
  const b = new Hub(store, new Stats(), { ...TEST_HUB_OPTIONS, link: seen });
  const ann = a.connect(new RecordingPort());
  const bob = new RecordingPort();
  const bobSession = b.connect(bob);
  a.handle(ann, { type: "nick", nick: "ann" });
  await tick();
  a.handle(ann, { type: "nick", nick: "Ann" });
  await tick();
  assert.equal(seen.findNick("ANN"), "Ann", "the other process finds the new spelling");
  b.handle(bobSession, { type: "nick", nick: "ann" });
  await tick();
  assert.ok(bob.events.some((e) => e.type === "error" && e.code === "nick_taken"), "still taken");
  a.shutdown();
  b.shutdown();
});
