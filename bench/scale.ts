/**
 * Scenarios that drive the server through a range rather than at one point, and draw what they
 * find: delivery latency against offered load, resident memory against idle connections, and how
 * fast the server starts and stops at scale. `main.ts` runs them like any other scenario.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { SqliteHistoryStore } from "../src/store/sqlite.ts";
import { SCHEMA_VERSION } from "../src/store/sqlite_schema.ts";
import { connectAll, type LineClient } from "./conn.ts";
import { connectAllWs } from "./ws.ts";
import { processUsage } from "./cpu.ts";
import type { LoadResult } from "./loadgen.ts";
import { connectWithTimeout, formatTarget, sleep } from "./net.ts";
import { mb, type ScenarioRecord } from "./report.ts";
import { type ServerOptions, startServer } from "./server.ts";
import { lineChart } from "./svg.ts";
import { ChatText } from "./search.ts";

/** What a scale scenario gets from the runner. */
export interface ScaleContext {
  /** Server settings (project, pinning, log file); `db` may be set per start. */
  server: ServerOptions;
  durationS: number;
  outDir: string;
  /** Runs the load generator with these arguments against `target` (see main.ts). */
  loadgen(args: string[]): Promise<LoadResult>;
  progress(message: string): void;
}

/** Offered fan-out rates (lines/s into a 1000-member room) of the latency sweep. */
const SWEEP_RATES = [25, 50, 100, 200, 400, 800, 1600];
/** Idle connection counts of the memory sweep (19,000 is about this machine's descriptor limit). */
const SWEEP_CONNECTIONS = [1000, 2500, 5000, 10_000, 19_000];

/**
 * Fan-out latency against offered load: one server, the fan-out scenario at rising rates; one
 * record per rate and `latency.svg` (p50, p99, p99.9 against deliveries offered per second).
 */
export async function latencySweep(ctx: ScaleContext): Promise<ScenarioRecord[]> {
  const server = await startServer(ctx.server);
  const records: ScenarioRecord[] = [];
  try {
    for (const rate of SWEEP_RATES) {
      ctx.progress(`latency-sweep: ${rate * 1000} deliveries/s offered`);
      const args = ["--mode", "fanout", "-c", "1000", "-k", "10", "-r", String(rate), "-s", "64"];
      const record: ScenarioRecord = {
        name: `latency@${rate}k`,
        description: `1000 members, 10 senders, ${rate} lines/s (${rate}k deliveries/s)`,
        loadgenArgs: args,
      };
      try {
        record.result = await ctx.loadgen([...args, "--target", formatTarget(server.target)]);
      } catch (err) {
        record.error = err instanceof Error ? err.message : String(err);
      }
      records.push(record);
    }
  } finally {
    await server.stop();
  }
  const points = (pick: (r: LoadResult & { mode: "fanout" }) => number | null) =>
    records.flatMap((rec): [number, number][] => {
      const r = rec.result;
      if (r?.mode !== "fanout") return [];
      const us = pick(r);
      return us === null ? [] : [[r.rate * 1000, us / 1000]];
    });
  const svg = lineChart({
    title: "Fan-out delivery latency against offered load (1000 members)",
    xLabel: "deliveries offered per second",
    yLabel: "send-to-delivery latency (ms)",
    logY: true,
    mark: { y: 25, label: "p99 goal 25 ms at 200k/s" },
    series: [
      { name: "p50", points: points((r) => r.latencyUs.p50) },
      { name: "p99", points: points((r) => r.latencyUs.p99) },
      { name: "p99.9", points: points((r) => r.latencyUs.p999) },
    ],
  });
  await Deno.writeTextFile(`${ctx.outDir}/latency.svg`, svg);
  ctx.progress(`latency-sweep: chart in ${ctx.outDir}/latency.svg`);
  return records;
}

/** A record with no load generator result: its table row is given directly. */
function plainRecord(name: string, description: string, row: string): ScenarioRecord {
  return { name, description, loadgenArgs: [], summary: row };
}

/**
 * Resident memory against idle connections: connects in steps up to 19,000 (TCP, each in the
 * lobby) and reads the server's RSS after each; `rss.svg` and one record per step.
 */
export async function rssSweep(ctx: ScaleContext): Promise<ScenarioRecord[]> {
  const records: ScenarioRecord[] = [];
  const series = [];
  // One server per door: TCP clients, then WebSocket clients on the HTTP port.
  for (const door of ["TCP", "WebSocket"] as const) {
    const points: [number, number][] = [];
    records.push(...await rssSweepOne(ctx, door, points));
    series.push({ name: `${door} RSS`, points });
  }
  const svg = lineChart({
    title: "Server memory against idle connections",
    xLabel: "idle connections (TCP, or WebSocket)",
    yLabel: "resident memory (MB)",
    series,
  });
  await Deno.writeTextFile(`${ctx.outDir}/rss.svg`, svg);
  ctx.progress(`rss-sweep: chart in ${ctx.outDir}/rss.svg`);
  return records;
}

/** The memory sweep over one door's connections: `points` gets (connections, RSS in MB). */
async function rssSweepOne(
  ctx: ScaleContext,
  door: "TCP" | "WebSocket",
  points: [number, number][],
): Promise<ScenarioRecord[]> {
  const ws = door === "WebSocket";
  const server = await startServer({ ...ctx.server, http: ws });
  const records: ScenarioRecord[] = [];
  const conns: LineClient[] = [];
  const key = ws ? "ws-idle" : "idle";
  try {
    await sleep(500);
    const base = processUsage(server.pid)?.rssBytes ?? NaN;
    points.push([0, base / 1048576]);
    for (const target of SWEEP_CONNECTIONS) {
      const started = performance.now();
      const more = target - conns.length;
      const result = ws
        ? await connectAllWs({ target: server.httpTarget! }, more, { concurrency: 200 })
        : await connectAll(server.target, more, { concurrency: 200 });
      for (const c of result.conns) {
        if (c === null) continue;
        conns.push(c);
        void c.readLines(() => {});
      }
      const seconds = (performance.now() - started) / 1000;
      await sleep(1000);
      const rss = processUsage(server.pid)?.rssBytes ?? NaN;
      const each = (rss - base) / conns.length;
      points.push([conns.length, rss / 1048576]);
      ctx.progress(`rss-sweep: ${conns.length} ${door} connections, RSS ${mb(rss)} MB`);
      records.push(plainRecord(
        `${key}@${conns.length}`,
        `${conns.length} idle ${door} connections`,
        `RSS ${mb(rss)} MB, ${(each / 1024).toFixed(1)} KB per connection, ` +
          `${result.conns.filter(Boolean).length} more accepted in ${seconds.toFixed(1)} s` +
          (result.failed > 0 ? `, ${result.failed} failed (first: ${result.firstError})` : ""),
      ));
      if (result.failed > 0) break;
    }
  } finally {
    for (const c of conns) c.close();
    await server.stop();
  }
  return records;
}

/**
 * Writes a history database of about `mb` megabytes (reused when it is there already, in the
 * schema this server writes: an older one would be migrated during the timed start).
 */
async function historyFile(
  path: string,
  megabytes: number,
  progress: (m: string) => void,
): Promise<number> {
  try {
    const size = (await Deno.stat(path)).size;
    const db = new DatabaseSync(path);
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      | { value: string }
      | undefined;
    db.close();
    if (size >= megabytes * 1048576 * 0.95 && Number(row?.value) === SCHEMA_VERSION) return size;
  } catch {
    // not there yet, or not a history file
  }
  progress(`start: writing a ${megabytes} MB history file (${path}), once`);
  await Deno.remove(path).catch(() => {});
  // The server's store creates the schema; the rows are then written here in big transactions.
  await new SqliteHistoryStore(path).close();
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF");
  // Each row goes into the search index as the store puts it there: rowid in append order.
  const insert = db.prepare(
    "INSERT INTO messages (room, id, nick, text, ts, kind, fts) VALUES (?, ?, ?, ?, ?, 'say', ?)",
  );
  const index = db.prepare("INSERT INTO search (rowid, text, room, id) VALUES (?, ?, ?, ?)");
  // Varied text: one repeated character would make a pathological trigram index.
  const text = new ChatText();
  const rooms = 1000;
  let rows = 0;
  while ((await Deno.stat(path)).size < megabytes * 1048576) {
    db.exec("BEGIN");
    for (let i = 0; i < 100_000; i++, rows++) {
      const room = `room-${rows % rooms}`;
      const id = Math.floor(rows / rooms) + 1;
      const line = text.next();
      insert.run(room, id, "writer", line, Date.now(), rows + 1);
      index.run(rows + 1, line, room, id);
    }
    db.exec("COMMIT");
  }
  const setLast = db.prepare("INSERT OR REPLACE INTO rooms (room, last_id) VALUES (?, ?)");
  for (let r = 0; r < rooms; r++) setLast.run(`room-${r}`, Math.floor((rows - 1 - r) / rooms) + 1);
  // The server keeps the count of messages with every commit; so does this writer.
  db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('messages', ?)").run(String(rows));
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  return (await Deno.stat(path)).size;
}

/**
 * Start and stop at scale: time until the port accepts with an empty database and with a large
 * history file (`historyMb`), and a SIGTERM with thousands of clients connected.
 */
export async function startStop(
  ctx: ScaleContext,
  historyMb: number,
  clients: number,
): Promise<ScenarioRecord[]> {
  const records: ScenarioRecord[] = [];
  const dir = await Deno.makeTempDir({ prefix: "chat-bench-" });
  try {
    const ready: number[] = [];
    for (let i = 0; i < 3; i++) {
      const server = await startServer({ ...ctx.server, db: `${dir}/empty-${i}.db` });
      ready.push(server.readyMs);
      await server.stop();
    }
    ready.sort((a, b) => a - b);
    records.push(plainRecord(
      "start-empty",
      "process start until the TCP port accepts, new database",
      `ready in ${ready[1]} ms (median of 3: ${ready.join(", ")} ms)`,
    ));
    ctx.progress(`start: empty database ready in ${ready[1]} ms`);

    const big = `${ctx.outDir}/history-${historyMb}mb.db`;
    const size = await historyFile(big, historyMb, ctx.progress);
    const bigReady: number[] = [];
    for (let i = 0; i < 3; i++) {
      const server = await startServer({ ...ctx.server, db: big });
      bigReady.push(server.readyMs);
      // Ready means serving: a client gets its welcome.
      const conn = await connectWithTimeout(server.target, 5000);
      await conn.read(new Uint8Array(256));
      conn.close();
      await server.stop();
    }
    bigReady.sort((a, b) => a - b);
    records.push(plainRecord(
      `start-${historyMb}mb`,
      `process start until the TCP port accepts, ${(size / 1048576).toFixed(0)} MB history`,
      `ready in ${bigReady[1]} ms (median of 3: ${bigReady.join(", ")} ms)`,
    ));
    ctx.progress(`start: ${historyMb} MB history ready in ${bigReady[1]} ms`);

    const server = await startServer(ctx.server);
    const result = await connectAll(server.target, clients, { concurrency: 200 });
    const conns = result.conns.filter((c): c is NonNullable<typeof c> => c !== null);
    const closed = conns.map((c) => c.readLines(() => {}));
    await sleep(1000);
    ctx.progress(`shutdown: SIGTERM with ${conns.length} clients connected`);
    const t0 = performance.now();
    const status = await server.stop(30_000);
    const exitMs = Math.round(performance.now() - t0);
    await Promise.race([Promise.all(closed), sleep(5000)]);
    const stillOpen = conns.filter((c) => !c.closed && !c.lost).length;
    for (const c of conns) c.close();
    records.push(plainRecord(
      `shutdown-${conns.length}`,
      `SIGTERM with ${conns.length} clients connected (drain deadline 5 s)`,
      `exited in ${exitMs} ms with status ${status.code}` +
        (stillOpen > 0 ? `, ${stillOpen} clients not closed` : ", every client closed"),
    ));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return records;
}
