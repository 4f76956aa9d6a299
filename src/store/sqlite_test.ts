import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { historyStoreContract } from "./contract.ts";
import { msg } from "./contract_support.ts";
import { SqliteHistoryStore } from "./sqlite.ts";
import { StoreOpenError } from "./sqlite_open.ts";
import { SCHEMA_VERSION } from "./sqlite_schema.ts";

historyStoreContract("sqlite (memory)", (n) => new SqliteHistoryStore(":memory:", n));

/** A file store in a temporary folder of its own, which goes when the store is closed. */
class TempFileStore extends SqliteHistoryStore {
  readonly #dir: string;
  constructor(dir: string, historySize: number) {
    super(`${dir}/chat.db`, historySize);
    this.#dir = dir;
  }
  override async close(): Promise<void> {
    await super.close();
    // A second close finds the folder gone.
    await Deno.remove(this.#dir, { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}

historyStoreContract("sqlite (file)", async (n) => {
  return new TempFileStore(await Deno.makeTempDir({ prefix: "chat-sqlite-" }), n);
});

const message = (room: string, text: string) => msg(room, text, { nick: "ann" });

Deno.test("sqlite: messages and ids survive closing and reopening the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-" });
  const path = `${dir}/chat.db`;
  try {
    const first = new SqliteHistoryStore(path, 3);
    for (const t of ["a", "b", "c", "d"]) await first.append(message("r", t));
    await first.close();
    const second = new SqliteHistoryStore(path, 3);
    assert.deepEqual((await second.recent("r", 10)).map((m) => [m.id, m.text]), [
      [2, "b"],
      [3, "c"],
      [4, "d"],
    ]);
    assert.equal((await second.append(message("r", "e"))).id, 5, "ids go on after a restart");
    assert.equal(second.size(), 3);
    await second.putRecord("nick", "ann", "kept");
    await second.close();
    const third = new SqliteHistoryStore(path, 3);
    assert.equal(await third.getRecord("nick", "ann"), "kept", "records survive too");
    await third.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: ids never repeat even when retention deleted every message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-" });
  try {
    const store = new SqliteHistoryStore(`${dir}/chat.db`, 1);
    await store.append(message("r", "one"));
    await store.append(message("r", "two"));
    await store.close();
    const again = new SqliteHistoryStore(`${dir}/chat.db`, 1);
    assert.equal((await again.append(message("r", "three"))).id, 3);
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: appends of one turn are committed together and resolve in order", async () => {
  const store = new SqliteHistoryStore(":memory:", 100);
  const order: number[] = [];
  const all = Array.from(
    { length: 50 },
    (_, i) =>
      store.append(message(i % 2 ? "odd" : "even", `m${i}`)).then((m) => order.push(i) && m),
  );
  await Promise.all(all);
  assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i));
  assert.equal(store.size(), 50);
  await store.close();
});

Deno.test("sqlite: a file that is not SQLite is refused with a clear error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-" });
  try {
    await Deno.writeTextFile(`${dir}/chat.db`, "this is a text file, not a database\n".repeat(50));
    assert.throws(
      () => new SqliteHistoryStore(`${dir}/chat.db`),
      (err) => err instanceof StoreOpenError && /not a SQLite database/.test(err.message),
    );
    assert.throws(
      () => new SqliteHistoryStore(`${dir}/missing/dir/chat.db`),
      (err) => err instanceof StoreOpenError && /cannot open database/.test(err.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: a second store on the same file is refused while the first is open", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-" });
  try {
    const first = new SqliteHistoryStore(`${dir}/chat.db`);
    assert.throws(
      () => new SqliteHistoryStore(`${dir}/chat.db`),
      (err) => err instanceof StoreOpenError && /in use by another process/.test(err.message),
    );
    await first.close();
    const later = new SqliteHistoryStore(`${dir}/chat.db`);
    await later.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: a version 1 file is migrated and its ids go on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-" });
  const path = `${dir}/chat.db`;
  try {
    // The first release's schema: no kind column, no rooms table, no version row.
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE messages (room TEXT NOT NULL, id INTEGER NOT NULL, nick TEXT NOT NULL,
      text TEXT NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (room, id)) WITHOUT ROWID`);
    old.exec(
      `INSERT INTO messages VALUES ('dev', 1, 'ann', 'old one', 1), ('dev', 2, 'bo', 'old two', 2)`,
    );
    old.close();
    const store = new SqliteHistoryStore(path);
    assert.deepEqual(await store.recent("dev", 10), [
      { room: "dev", id: 1, nick: "ann", text: "old one", ts: 1, kind: "say" },
      { room: "dev", id: 2, nick: "bo", text: "old two", ts: 2, kind: "say" },
    ]);
    assert.equal(store.size(), 2, "an old file's messages are counted once");
    assert.equal((await store.append(message("dev", "new"))).id, 3);
    assert.equal(store.size(), 3);
    await store.close();
    const reopened = new SqliteHistoryStore(path);
    assert.equal(reopened.size(), 3, "the count is kept with every commit");
    await reopened.close();
    const check = new DatabaseSync(path);
    const row = check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as {
      value: string;
    };
    check.close();
    assert.equal(Number(row.value), SCHEMA_VERSION);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: a newer schema than this server knows is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-" });
  try {
    const db = new DatabaseSync(`${dir}/chat.db`);
    db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    db.exec("INSERT INTO meta VALUES ('schema_version', '99')");
    db.close();
    assert.throws(
      () => new SqliteHistoryStore(`${dir}/chat.db`),
      (err) => err instanceof StoreOpenError && /newer than this server/.test(err.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: a version 3 file is migrated: messages, ids and records kept, searchable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-" });
  const path = `${dir}/chat.db`;
  try {
    // Written by the version 3 store (historySize 3): dev 3..5, ops 1..2, two records.
    await Deno.copyFile(new URL("./testdata/v3.db", import.meta.url), path);
    const store = new SqliteHistoryStore(path, 3);
    const TS = 1_700_000_000_000;
    assert.deepEqual(await store.recent("dev", 10), [
      { room: "dev", id: 3, nick: "ann", text: "明日の会議は東京で", ts: TS + 3000, kind: "say" },
      { room: "dev", id: 4, nick: "bo", text: "waves at the team", ts: TS + 5000, kind: "action" },
      {
        room: "dev",
        id: 5,
        nick: "ann",
        text: "Release notes are ready",
        ts: TS + 6000,
        kind: "say",
      },
    ]);
    assert.deepEqual((await store.after("ops", 0, 10)).map((m) => [m.id, m.text]), [
      [1, "deploy went fine"],
      [2, "disk is at 80%"],
    ]);
    assert.equal(store.size(), 5);
    assert.equal(await store.getRecord("nick", "ann"), '{"hash":"x"}');
    assert.equal(await store.getRecord("room", "dev"), '{"topic":"the dev room"}');
    // The index was filled from the kept messages, oldest first.
    const found = (q: string) =>
      store.search(["dev", "ops"], q, 10).then((ms) => ms.map((m) => `${m.room}/${m.id}`));
    assert.deepEqual(await found("東京"), ["dev/3"]);
    assert.deepEqual(await found("会議は東"), ["dev/3"]);
    assert.deepEqual(await found("the"), ["dev/4"]);
    assert.deepEqual(await found("e"), ["dev/5", "dev/4", "ops/1"], "newest first across rooms");
    assert.deepEqual(await found("trimmed"), [], "what retention took is not in the index");
    // The new operations work on the old messages.
    assert.equal((await store.edit("dev", 4, "waves at everyone", TS + 9000))?.edited, TS + 9000);
    assert.deepEqual(await found("team"), []);
    assert.deepEqual(await found("everyone"), ["dev/4"]);
    assert.equal(await store.react("ops", 1, "🎉", "ann", true), "changed");
    assert.deepEqual((await store.get("ops", 1))?.reactions, { "🎉": ["ann"] });
    assert.equal(await store.remove("dev", 3), true);
    assert.deepEqual(await found("東京"), []);
    assert.equal(store.size(), 4);
    // Ids and index rows go on after the migrated ones.
    const next = await store.append(message("dev", "new release"));
    assert.equal(next.id, 6);
    assert.deepEqual(await found("release"), ["dev/6", "dev/5"]);
    assert.equal(store.size(), 5, "dev 4 (edited), 5, 6 and ops 1, 2");
    await store.close();
    const check = new DatabaseSync(path);
    const version = check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as {
      value: string;
    };
    assert.equal(Number(version.value), 4);
    assert.equal(SCHEMA_VERSION, 4);
    check.exec("INSERT INTO search (search, rank) VALUES ('integrity-check', 1)");
    check.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: removed and edited text leaves the file, the index included", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-" });
  const path = `${dir}/chat.db`;
  try {
    const store = new SqliteHistoryStore(path);
    for (let i = 1; i <= 300; i++) await store.append(message("r", `ordinary line number ${i}`));
    await store.append(message("r", "the code is zqxjkvwpl"));
    await store.append(message("r", "my secret is yvqwzkpj"));
    for (let i = 1; i <= 300; i++) await store.append(message("r", `more lines ${i}`));
    assert.equal((await store.search(["r"], "zqxjkvwpl", 5)).length, 1);
    assert.equal(await store.remove("r", 301), true);
    assert.equal((await store.edit("r", 302, "nothing to see", 1))?.text, "nothing to see");
    // Taken back and changed before the index had them (it indexes a few hundred at a time).
    await store.append(message("r", "oops wqzvkxjp"));
    await store.append(message("r", "oops kvjzqwxy"));
    assert.equal(await store.remove("r", 603), true);
    assert.equal((await store.edit("r", 604, "oops, fixed", 2))?.text, "oops, fixed");
    assert.deepEqual((await store.search(["r"], "oops", 5)).map((m) => m.text), ["oops, fixed"]);
    await store.close(); // the last connection checkpoints and deletes the WAL
    const bytes = new TextDecoder("latin1").decode(await Deno.readFile(path));
    for (const secret of ["zqxjkvwpl", "yvqwzkpj", "wqzvkxjp", "kvjzqwxy"]) {
      assert.ok(!bytes.includes(secret), `${secret} is gone from the file`);
      for (let i = 0; i + 3 <= secret.length; i++) {
        const trigram = secret.slice(i, i + 3);
        assert.ok(!bytes.includes(trigram), `no trigram of ${secret} (${trigram}) is left`);
      }
    }
    assert.ok(bytes.includes("nothing to see"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: replies, edits and reactions survive reopening; the index goes on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-" });
  const path = `${dir}/chat.db`;
  try {
    const first = new SqliteHistoryStore(path);
    await first.append(message("r", "hello world"));
    await first.append(msg("r", "hello again", { replyTo: 1 }));
    await first.edit("r", 1, "hello edited world", 5);
    await first.react("r", 2, "👍", "bo", true);
    await first.react("r", 2, "👍", "ann", true);
    const before = await first.recent("r", 10);
    await first.close();
    const second = new SqliteHistoryStore(path);
    assert.deepEqual(await second.recent("r", 10), before);
    assert.deepEqual(before[1].reactions, { "👍": ["bo", "ann"] });
    await second.append(message("r", "hello from the new process"));
    assert.deepEqual((await second.search(["r"], "hello", 10)).map((m) => m.id), [3, 2, 1]);
    await second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: messages not yet indexed when the process died are indexed at the next open", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-" });
  try {
    const store = new SqliteHistoryStore(`${dir}/chat.db`);
    await store.append(message("r", "indexed before the crash"));
    assert.equal((await store.search(["r"], "crash", 5)).length, 1);
    await store.append(message("r", "said just before the crash"));
    // The file as a killed process leaves it: committed, not indexed yet.
    for (const suffix of ["", "-wal"]) {
      await Deno.copyFile(`${dir}/chat.db${suffix}`, `${dir}/copy.db${suffix}`);
    }
    await store.close();
    const reopened = new SqliteHistoryStore(`${dir}/copy.db`);
    assert.deepEqual((await reopened.search(["r"], "crash", 5)).map((m) => m.id), [2, 1]);
    assert.equal((await reopened.append(message("r", "after the crash"))).id, 3);
    assert.deepEqual((await reopened.search(["r"], "crash", 5)).map((m) => m.id), [3, 2, 1]);
    await reopened.close();
    const db = new DatabaseSync(`${dir}/copy.db`);
    db.exec("INSERT INTO search (search, rank) VALUES ('integrity-check', 1)");
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: retention takes the trimmed messages' reactions and index rows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-" });
  const path = `${dir}/chat.db`;
  try {
    const store = new SqliteHistoryStore(path, 3);
    for (let i = 1; i <= 4; i++) {
      await store.append(message(i % 2 ? "a" : "b", `word ${i}`));
      await store.react(i % 2 ? "a" : "b", Math.ceil(i / 2), "👍", "ann", true);
    }
    for (let i = 5; i <= 12; i++) await store.append(message("a", `word ${i}`));
    assert.equal(store.size(), 5);
    await store.close();
    const db = new DatabaseSync(path);
    const count = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
    assert.equal(count("SELECT count(*) AS n FROM messages"), 5);
    assert.equal(count("SELECT count(*) AS n FROM search_content"), 5);
    assert.equal(count("SELECT count(*) AS n FROM reactions"), 2, "only b's are kept");
    assert.equal(count("SELECT count(*) AS n FROM search WHERE search MATCH 'word'"), 5);
    db.exec("INSERT INTO search (search, rank) VALUES ('integrity-check', 1)");
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: short search words of scripts with case fold like the long ones", async () => {
  const store = new SqliteHistoryStore(":memory:");
  try {
    await store.append(message("r", "ДА, Ёж"));
    await store.append(message("r", "ÉA ok"));
    const found = (q: string) => store.search(["r"], q, 10).then((ms) => ms.map((m) => m.id));
    assert.deepEqual(await found("да"), [1]);
    assert.deepEqual(await found("ёж"), [1]);
    assert.deepEqual(await found("éa"), [2]);
    assert.deepEqual(await found("éa OK"), [2]);
    assert.deepEqual(await found("ÉA да"), []);
  } finally {
    await store.close();
  }
});
