import assert from "node:assert/strict";
import { MemoryLink } from "../cluster/memory.ts";
import { MemoryHistoryStore } from "../store/memory.ts";
import { Hub } from "./hub.ts";
import { Stats } from "./stats.ts";
import { RecordingPort, TEST_HUB_OPTIONS, tick } from "./test_support.ts";
import { newToken, tokenHash } from "./tokens.ts";
import type { Command } from "./types.ts";
import type { ServerEvent } from "./events.ts";

Deno.test("a token is 32 random bytes in base64url; its hash is SHA-256 in hex", async () => {
  const a = newToken();
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, newToken());
  assert.equal(
    await tokenHash("test"),
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  );
});

Deno.test("the store keeps the token's hash with its nick and registration, and a list", async () => {
  const store = new MemoryHistoryStore(100);
  let now = 1000;
  const hub = new Hub(store, new Stats(), {
    ...TEST_HUB_OPTIONS,
    link: new MemoryLink(),
    now: () => now,
  });
  const port = new RecordingPort();
  const session = hub.connect(port);
  const ask = async (command: Command): Promise<ServerEvent> => {
    port.take();
    hub.handle(session, { ...command, ref: 1 } as Command);
    for (let i = 0; i < 1000; i++) {
      const reply = port.events.find((e) => "ref" in e && e.ref === 1);
      if (reply !== undefined) return reply;
      await tick();
    }
    throw new Error(`no reply to ${command.type}`);
  };
  try {
    await ask({ type: "nick", nick: "Alice" });
    await ask({ type: "register", password: "pw" });
    now = 2000;
    const reply = await ask({ type: "token" });
    assert.equal(reply.type, "token");
    if (reply.type !== "token") return;
    assert.equal(reply.nick, "Alice");
    const hash = await tokenHash(reply.token);
    assert.equal(session.tokenHash, hash);
    assert.deepEqual(JSON.parse((await store.getRecord("token", hash))!), {
      nick: "Alice",
      ts: 2000,
      reg: 1000,
    });
    assert.deepEqual(JSON.parse((await store.getRecord("tokens", "alice"))!), [hash]);
    assert.equal(await store.getRecord("token", reply.token), null);
    assert.deepEqual(await ask({ type: "logout", all: true }), {
      type: "logout",
      revoked: 1,
      ref: 1,
    });
    assert.equal(await store.getRecord("token", hash), null);
    assert.equal(await store.getRecord("tokens", "alice"), null);
    assert.equal(session.tokenHash, null);
  } finally {
    hub.disconnect(session);
    await store.close();
  }
});
