/**
 * History survives restarts: a clean SIGTERM and a kill -9 while clients
 * are chatting. Every message a client received is in history afterwards,
 * and ids keep increasing.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { LineClient, runMain, spawnServer } from "./helpers.ts";

const MESSAGE = /^\[d\] \S+: (m\d+)$/;

async function chatThenStop(signal: Deno.Signal): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-durable-" });
  const db = `${dir}/chat.db`;
  try {
    const received = new Set<string>();
    {
      await using server = await spawnServer(["--db", db]);
      await using sender = await LineClient.chat(server.port);
      await using watcher = await LineClient.chat(server.port);
      await sender.send("/join d");
      await watcher.send("/join d");
      await sender.expect(`* ${watcher.nick} joined d`);
      // A stream of messages; stop the server while they are still flowing.
      const sending = (async () => {
        for (let i = 0; i < 400; i += 20) {
          await sender.send(...Array.from({ length: 20 }, (_, k) => `m${i + k}`));
        }
      })().catch(() => {});
      await watcher.waitFor((l) => l.endsWith(": m100"));
      server.kill(signal);
      await server.status;
      await sending;
      await Promise.all([sender.waitClosed(), watcher.waitClosed()]);
      for (const c of [sender, watcher]) {
        for (const line of c.lines) {
          const m = MESSAGE.exec(line);
          if (m) received.add(m[1]);
        }
      }
      assert.ok(received.size >= 100, `received ${received.size}`);
    }
    {
      await using server = await spawnServer(["--db", db]);
      await using reader = await LineClient.chat(server.port);
      await reader.send("/join d", "/history 1000");
      await reader.expect("* history d end");
      const begin = reader.lines.lastIndexOf("* history d begin");
      const kept = new Set(
        reader.lines.slice(begin).map((l) => MESSAGE.exec(l)?.[1]).filter((t) => t !== undefined),
      );
      const lost = [...received].filter((t) => !kept.has(t));
      assert.deepEqual(lost, [], "every message a client received is in history");
      await reader.send("after restart");
      await reader.expect(`[d] ${reader.nick}: after restart`);
      server.kill("SIGTERM");
      assert.equal((await server.status).code, 0);
    }
    // Ids: unique, and the message after the restart has the largest.
    const check = new DatabaseSync(db);
    const rows = check.prepare("SELECT id, text FROM messages WHERE room = 'd' ORDER BY id")
      .all() as {
        id: number;
        text: string;
      }[];
    check.close();
    const ids = rows.map((r) => Number(r.id));
    assert.equal(new Set(ids).size, ids.length, "no id repeats");
    assert.equal(rows.at(-1)?.text, "after restart");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("history survives a SIGTERM while clients chat", () => chatThenStop("SIGTERM"));
Deno.test("history survives kill -9 while clients chat", () => chatThenStop("SIGKILL"));

/** Runs the server on a database file until it exits (it should refuse to start). */
function startOn(db: string) {
  return runMain(["127.0.0.1:0", "--http", "off", "--db", db]);
}

Deno.test("a database file that is not SQLite stops the start with exit status 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-durable-" });
  try {
    await Deno.writeTextFile(`${dir}/chat.db`, "not a database\n".repeat(100));
    const { code, stderr } = await startOn(`${dir}/chat.db`);
    assert.equal(code, 2);
    assert.match(
      stderr.trim(),
      /^chat-server: cannot open database .*: it is not a SQLite database$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second server on the same database file refuses to start", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-durable-" });
  try {
    await using first = await spawnServer(["--db", `${dir}/chat.db`]);
    const { code, stderr } = await startOn(`${dir}/chat.db`);
    assert.equal(code, 2);
    assert.match(stderr, /in use by another process/);
    // The first one is unharmed.
    await using c = await LineClient.chat(first.port);
    await c.send("still fine");
    await c.expect(`[lobby] ${c.nick}: still fine`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
