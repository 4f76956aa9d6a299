/**
 * History store faults with a real file on a real (tiny) filesystem: the
 * chat goes on, senders are told, health says so, and writes recover.
 */
import assert from "node:assert/strict";
import { SqliteHistoryStore } from "../src/store/sqlite.ts";
import { LineClient, withHttpServer } from "./helpers.ts";

/** Mounts a tmpfs of `size` on a new directory; null when this machine cannot (not root). */
async function tinyFilesystem(
  size: string,
): Promise<{ dir: string; unmount(): Promise<void> } | null> {
  const dir = await Deno.makeTempDir({ prefix: "chat-tinyfs-" });
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stderr: "null",
  }).output().catch(() => ({ success: false }));
  if (!mount.success) {
    await Deno.remove(dir);
    return null;
  }
  return {
    dir,
    async unmount() {
      await new Deno.Command("umount", { args: [dir] }).output();
      await Deno.remove(dir);
    },
  };
}

const canMount = await tinyFilesystem("64k").then(async (fs) => {
  await fs?.unmount();
  return fs !== null;
});

Deno.test({
  name: canMount
    ? "a full disk: the chat goes on, senders are told, health degrades, then recovers"
    : "a full disk (ignored: mounting a tmpfs needs root)",
  ignore: !canMount,
  async fn() {
    const fs = (await tinyFilesystem("1m"))!;
    try {
      const changes: boolean[] = [];
      const store = new SqliteHistoryStore(`${fs.dir}/chat.db`, 10_000, (h) => changes.push(h.ok));
      await using server = await withHttpServer({}, store);
      await using a = await LineClient.chat(server.port);
      await using b = await LineClient.chat(server.port);
      await a.send("kept");
      await b.expect(`[lobby] ${a.nick}: kept`);

      // Fill the filesystem to the last byte.
      const filler = await Deno.open(`${fs.dir}/filler`, { write: true, create: true });
      const block = new Uint8Array(4096);
      try {
        for (;;) await filler.write(block);
      } catch {
        // ENOSPC: full.
      }
      filler.close();

      const big = "x".repeat(3000);
      for (let i = 0; i < 20; i++) await a.send(`${i} ${big}`);
      const told = await a.waitFor((l) => l.startsWith("! message not kept in history:"));
      assert.match(told, /full/i);
      // The others still got the messages: the chat goes on.
      await b.waitFor((l) => l.startsWith(`[lobby] ${a.nick}: 19 `));
      const health = await (await fetch(`${server.origin}/healthz`)).json();
      assert.equal(health.status, "degraded");
      assert.match(health.store.error, /full/i);
      const metrics = await (await fetch(`${server.origin}/metrics`)).text();
      assert.match(metrics, /^chat_store_up 0$/m);

      // Space again: the next write succeeds and health recovers.
      await Deno.remove(`${fs.dir}/filler`);
      await a.send("after recovery");
      await b.expect(`[lobby] ${a.nick}: after recovery`);
      const healed = await (await fetch(`${server.origin}/healthz`)).json();
      assert.equal(healed.status, "ok");
      assert.deepEqual(
        changes,
        [false, true],
        "the failure and the recovery were reported once each",
      );
      await a.send("/history 1");
      await a.expect("* history lobby begin");
      await a.expect(`[lobby] ${a.nick}: after recovery`);
    } finally {
      await fs.unmount();
    }
  },
});
