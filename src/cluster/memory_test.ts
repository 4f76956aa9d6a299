import assert from "node:assert/strict";
import { clusterLinkContract, FakePeer, notice } from "./contract.ts";
import { MemoryLink, MemoryNetwork } from "./memory.ts";

clusterLinkContract("memory", (count) => {
  const network = new MemoryNetwork();
  return { links: Array.from({ length: count }, () => network.link()) };
});

Deno.test("memory link: a lone process publishes to nobody and finds nobody else", async () => {
  const link = new MemoryLink();
  const peer = new FakePeer();
  link.attach(peer);
  link.watch("dev");
  link.publish("dev", notice("hello"));
  link.publishNick({ type: "nick", old: "a", nick: "b" }, ["dev"]);
  await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(peer.received, [], "nothing comes back");
  assert.equal(link.claimNick("ann"), true);
  assert.equal(link.claimNick("ANN"), true, "the core checks its own nicks");
  assert.equal(link.findNick("ann"), null);
  assert.equal(link.sendDirect("ann", notice("psst")), false);
  assert.deepEqual([link.nextGuest(), link.nextGuest(), link.nextGuest()], [1, 2, 3]);
});

Deno.test("memory link: a lone process's who and rooms are its peer's, at once", () => {
  const link = new MemoryLink();
  const peer = new FakePeer();
  link.attach(peer);
  for (const [room, nick] of [["ops", "bo"], ["dev", "cy"], ["dev", "ann"], ["b", "bo"]]) {
    peer.add(room, nick);
  }
  assert.deepEqual(link.who("dev"), ["cy", "ann"], "in join order");
  assert.deepEqual(link.who("none"), []);
  assert.deepEqual(link.rooms(), [
    { room: "b", members: 1 },
    { room: "dev", members: 2 },
    { room: "ops", members: 1 },
  ]);
});

Deno.test("memory network: a publish arrives on a later microtask, not in the sender's turn", async () => {
  const network = new MemoryNetwork();
  const [a, b] = [network.link(), network.link()];
  const peer = new FakePeer();
  a.attach(new FakePeer());
  b.attach(peer);
  b.watch("dev");
  a.publish("dev", notice("one"));
  assert.deepEqual(peer.received, [], "not yet");
  await Promise.resolve();
  assert.deepEqual(peer.notices("dev"), ["one"]);
  a.publish("dev", notice("two"));
  b.unwatch("dev");
  await Promise.resolve();
  assert.deepEqual(peer.notices("dev"), ["one"], "unwatched before it arrived");
});

Deno.test("memory network: who lists this process's members first, then the others' in join order", () => {
  const network = new MemoryNetwork();
  const links = [network.link(), network.link(), network.link()];
  const peers = links.map((link) => {
    const peer = new FakePeer();
    link.attach(peer);
    return peer;
  });
  peers[0].add("dev", "zed");
  peers[1].add("dev", "bo");
  peers[1].add("dev", "al");
  peers[2].add("dev", "cy");
  assert.deepEqual(links[1].who("dev"), ["bo", "al", "zed", "cy"]);
  assert.deepEqual(links[0].rooms(), [{ room: "dev", members: 4 }]);
});
