import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { historyStoreContract, msg } from "./contract.ts";
import { SCHEMA_VERSION, SqliteHistoryStore, StoreOpenError } from "./sqlite.ts";

historyStoreContract("sqlite (memory)", (n) => new SqliteHistoryStore(":memory:", n));

historyStoreContract("sqlite (file)", async (n) => {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-" });
  return new SqliteHistoryStore(`${dir}/chat.db`, n);
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
