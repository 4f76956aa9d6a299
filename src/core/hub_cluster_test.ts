/**
 * Two hubs on an in-memory network behave as two processes sharing a Redis:
 * the same core code, another link.
 */
import assert from "node:assert/strict";
import { MemoryNetwork } from "../cluster/memory.ts";
import { MemoryHistoryStore } from "../store/memory.ts";
import { eventOf, type Outgoing } from "./broadcast.ts";
import { Hub } from "./hub.ts";
import { Stats } from "./stats.ts";
import type { ClientPort, ServerEvent } from "./types.ts";

class Port implements ClientPort {
  events: ServerEvent[] = [];
  send(out: Outgoing): void {
    this.events.push(eventOf(out));
  }
  close(): void {}
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("hub on a memory network: messages, who, DMs and nicks cross processes", async () => {
  const network = new MemoryNetwork();
  const store = new MemoryHistoryStore(100); // the shared history, as Redis is
  const options = {
    historyOnJoin: 0,
    historyDefault: 20,
    historyMax: 100,
    serverName: "test",
    quietRoomSize: 200,
    summaryIntervalMs: 5000,
  };
  const a = new Hub(store, new Stats(), { ...options, link: network.link() });
  const b = new Hub(store, new Stats(), { ...options, link: network.link() });
  const [ann, bob] = [new Port(), new Port()];
  const annSession = a.connect(ann);
  const bobSession = b.connect(bob);
  assert.notEqual(annSession.nick, bobSession.nick, "guest numbers are unique across processes");
  a.handle(annSession, { type: "nick", nick: "ann" });
  b.handle(bobSession, { type: "nick", nick: "ANN" });
  await settle();
  assert.ok(bob.events.some((e) => e.type === "error" && e.code === "nick_taken"));
  b.handle(bobSession, { type: "nick", nick: "bob" });
  await settle();
  a.handle(annSession, { type: "say", text: "hello from a" });
  await settle();
  const heard = bob.events.filter((e) => e.type === "message").map((e) =>
    e.type === "message" ? `${e.message.nick}: ${e.message.text} #${e.message.id}` : ""
  );
  assert.deepEqual(heard, ["ann: hello from a #1"]);
  b.handle(bobSession, { type: "who", ref: 1 });
  await settle();
  assert.deepEqual(bob.events.find((e) => e.type === "who"), {
    type: "who",
    room: "lobby",
    members: ["bob", "ann"],
    ref: 1,
  });
  b.handle(bobSession, { type: "msg", to: "Ann", text: "psst" });
  await settle();
  assert.ok(ann.events.some((e) => e.type === "dm" && e.from === "bob" && e.text === "psst"));
  a.shutdown();
  b.shutdown();
});
