/**
 * Online backup: `chat-server backup FILE` and the `sqlite3` CLI copy the
 * history while the server runs and clients chat; a server started on the
 * restored copy has every message any member received before the backup
 * started, without gaps or repeats. One server per database file, through a
 * lock file.
 */
import assert from "node:assert/strict";
import { delay, LineClient, runMain, spawnServer } from "./helpers.ts";

const MESSAGE = /^\[b\] \S+: m(\d+)$/;
/** Below the 1000 that one `/history` returns, so the restored room reads back whole. */
const MAX_MESSAGES = 990;

/** The message numbers in `lines`, in order. */
function numbers(lines: readonly string[]): number[] {
  return lines.map((l) => MESSAGE.exec(l)?.[1]).filter((n) => n !== undefined).map(Number);
}

/** Runs the `sqlite3` CLI; `null` when it is not installed (an error under CI). */
async function sqlite3(args: string[]): Promise<string | null> {
  let out;
  try {
    out = await new Deno.Command("sqlite3", { args, stdout: "piped", stderr: "piped" }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound && Deno.env.get("CI") !== "true") return null;
    throw err;
  }
  const text = new TextDecoder();
  assert.equal(out.code, 0, `sqlite3 ${args.join(" ")}: ${text.decode(out.stderr)}`);
  return text.decode(out.stdout);
}

Deno.test("backup during a load of messages, restored, has every message received before it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-backup-" });
  const db = `${dir}/chat.db`;
  try {
    let receivedBefore: number[];
    let backedUp: string;
    {
      await using server = await spawnServer(["--db", db]);
      await using sender = await LineClient.chat(server.port);
      await using member = await LineClient.chat(server.port);
      await sender.send("/join b");
      await member.send("/join b");
      await sender.expect(`* ${member.nick} joined b`);
      // A steady stream, paced so that it is still flowing while the backup runs.
      let sent = 0;
      let stop = false;
      const sending = (async () => {
        while (!stop && sent < MAX_MESSAGES) {
          await sender.send(`m${sent}`, `m${sent + 1}`);
          sent += 2;
          await delay(4);
        }
      })();
      await member.waitFor((l) => MESSAGE.test(l) && Number(MESSAGE.exec(l)![1]) >= 100);
      receivedBefore = numbers(member.lines);
      const backup = await runMain(["backup", `${dir}/b.db`, "--db", db]);
      const sentDuring = sent;
      assert.equal(backup.code, 0, backup.stderr);
      backedUp = backup.stdout;
      // The sqlite3 CLI can read the live file too (it was refused under the old exclusive lock).
      const cli = await sqlite3([db, `.backup '${dir}/cli.db'`]);
      if (cli !== null) {
        const count = await sqlite3([`${dir}/cli.db`, "SELECT count(*) FROM messages"]);
        assert.ok(Number(count) >= receivedBefore.length, `sqlite3 copy has ${count} messages`);
      }
      stop = true;
      await sending;
      console.log(
        `backup started after ${receivedBefore.length} received; ${sentDuring} sent by its end`,
      );
      server.kill("SIGTERM");
      assert.equal((await server.status).code, 0);
    }
    assert.match(backedUp, /^wrote .*b\.db: \d+ messages in 1 room \(\d+ bytes\)\n$/);
    assert.ok(receivedBefore.length >= 100);

    // Restore: the copy goes where a database is expected, and a server starts on it.
    const restored = `${dir}/restored.db`;
    await Deno.copyFile(`${dir}/b.db`, restored);
    await using server = await spawnServer(["--db", restored]);
    await using reader = await LineClient.chat(server.port);
    await reader.send("/join b", "/history 1000");
    await reader.expect("* history b end");
    const begin = reader.lines.lastIndexOf("* history b begin");
    const kept = numbers(reader.lines.slice(begin));
    // Every message is there once, in order, from the first: no gap, no repeat.
    assert.deepEqual(kept, kept.map((_, i) => i), "history is m0, m1, ... without gaps");
    const missing = receivedBefore.filter((n) => !kept.includes(n));
    assert.deepEqual(missing, [], "every message received before the backup is in it");
    assert.match(backedUp, new RegExp(`: ${kept.length} messages`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("backup refuses to overwrite a file without --force, and names a missing database", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-backup-" });
  try {
    const missing = await runMain(["backup", `${dir}/b.db`, "--db", `${dir}/none.db`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no database at .*none\.db/);
    {
      await using _server = await spawnServer(["--db", `${dir}/chat.db`]);
      assert.equal((await runMain(["backup", `${dir}/b.db`, "--db", `${dir}/chat.db`])).code, 0);
      const again = await runMain(["backup", `${dir}/b.db`], { CHAT_DB: `${dir}/chat.db` });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /b\.db exists; give --force to overwrite it/);
      const forced = await runMain(["backup", `${dir}/b.db`, "--force"], {
        CHAT_DB: `${dir}/chat.db`,
      });
      assert.equal(forced.code, 0, forced.stderr);
    }
    const usage = await runMain(["backup"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /backup: expected one FILE/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second server on the same database names the lock file; a killed server's lock does not block", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-backup-" });
  const db = `${dir}/chat.db`;
  try {
    {
      await using first = await spawnServer(["--db", db]);
      const second = await runMain(["127.0.0.1:0", "--http", "off", "--db", db]);
      assert.equal(second.code, 2);
      assert.match(second.stderr, /in use by another process .*chat\.db\.lock is locked/);
      first.kill("SIGKILL");
      await first.status;
    }
    // The lock file is left behind by kill -9, but its lock went with the process.
    await Deno.stat(`${db}.lock`);
    await using again = await spawnServer(["--db", db]);
    await using c = await LineClient.chat(again.port);
    await c.send("after a crash");
    await c.expect(`[lobby] ${c.nick}: after a crash`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
