/**
 * The read path alone: how much of a core it takes to turn the bytes of many busy connections into
 * lines, with the socket's bytes piped through a line-splitting `TransformStream` (`pipe`) or with
 * the server's `socketLines`, one async generator (`lines`). A small echo server (this file, `serve`) runs
 * each form on CPU 0; a client process (this file, `load`) spreads lines over all connections at a
 * fixed rate and times their echoes. No chat logic: only the stream shapes differ.
 *
 * ```sh
 * deno task bench read-path                    # both forms, 19000 connections, 10000 lines/s
 * deno run -A bench/read_path.ts serve lines 7000
 * deno run -A bench/read_path.ts load 7000 19000 10000 5
 * ```
 *
 * @module
 */

import { type LineBatch, LineBatcher, TextLineStream } from "../src/transport/line_stream.ts";
import { socketLines } from "../src/transport/socket.ts";
import { startProcessMeter } from "./cpu.ts";
import { freePort, sleep, waitForPort } from "./net.ts";
import { pinned } from "./pin.ts";
import type { ScenarioRecord } from "./report.ts";
import type { ScaleContext } from "./scale.ts";
import { Histogram, type LatencySummary } from "./stats.ts";

/** The two forms of the read path. */
export type ReadPathForm = "pipe" | "lines";

const encoder = new TextEncoder();
const MAX_LINE = 4096;

/** The socket's bytes as a ReadableStream, read with a buffer that doubles while reads fill it. */
class SocketSource implements UnderlyingDefaultSource<Uint8Array> {
  size = 256;
  constructor(readonly conn: Deno.Conn) {}

  async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    const buffer = new Uint8Array(this.size);
    const n = await this.conn.read(buffer);
    if (n === null) return controller.close();
    if (n === this.size && this.size < 64 * 1024) this.size *= 2;
    controller.enqueue(buffer.subarray(0, n));
  }
}

/** The pipe form: a byte stream, then a TransformStream that batches lines (the server's before). */
function pipedLines(conn: Deno.Conn): ReadableStream<LineBatch> {
  const batcher = new LineBatcher(MAX_LINE);
  return new ReadableStream(new SocketSource(conn), { highWaterMark: 0 }).pipeThrough(
    new TransformStream<Uint8Array, LineBatch>({
      transform(chunk, controller) {
        batcher.push(chunk);
        const batch = batcher.take();
        if (batch !== null) controller.enqueue(batch);
      },
    }),
  );
}

/** Echoes every line of every connection back, through the given form of the read path. */
async function serve(form: ReadPathForm, port: number): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  for await (const conn of listener) {
    (async () => {
      try {
        const lines = form === "pipe" ? pipedLines(conn) : socketLines(conn, MAX_LINE);
        for await (const batch of lines) await conn.write(encoder.encode(batch.join("\n") + "\n"));
      } catch {
        // The client went away.
      } finally {
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
    })();
  }
}

/** What a load run measured. */
export interface ReadPathLoad {
  connections: number;
  rate: number;
  sent: number;
  received: number;
  latencyUs: LatencySummary;
}

/** Spreads `rate` lines a second over `connections` connections for `seconds`; times the echoes. */
async function load(
  port: number,
  connections: number,
  rate: number,
  seconds: number,
): Promise<ReadPathLoad> {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < connections; i += 100) {
    const batch = Math.min(100, connections - i);
    conns.push(
      ...await Promise.all(
        Array.from({ length: batch }, () => Deno.connect({ hostname: "127.0.0.1", port })),
      ),
    );
  }
  const latency = new Histogram();
  let received = 0;
  const decoder = new TextDecoder();
  const readers = conns.map(async (conn) => {
    const buf = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return;
        const now = performance.now();
        for (const line of decoder.decode(buf.subarray(0, n)).split("\n")) {
          if (line === "") continue;
          received++;
          latency.record((now - Number(line)) * 1000);
        }
      }
    } catch {
      // Closed at the end.
    }
  });
  await sleep(1000);
  console.log(JSON.stringify({ event: "load-start" }));
  const start = performance.now();
  let sent = 0;
  // Connection i gets every (connections)th line: all of them are busy, none twice in a row.
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
    for (let i = 0; i < due; i++, sent++) {
      conns[(sent * 7919) % connections]
        .write(encoder.encode(`${performance.now().toFixed(3)}\n`))
        .catch(() => {});
    }
  }, 5);
  await sleep(seconds * 1000);
  clearInterval(timer);
  const drainEnd = performance.now() + 3000;
  while (received < sent && performance.now() < drainEnd) await sleep(20);
  for (const conn of conns) conn.close();
  await Promise.all(readers);
  return { connections, rate, sent, received, latencyUs: latency.summary() };
}

/** Runs `deno run -A bench/read_path.ts …args` pinned to `cpu` (or not, when pinning is off). */
function child(cpu: number | null, args: string[], stdout: "piped" | "null"): Deno.ChildProcess {
  const self = new URL(import.meta.url).pathname;
  const { command, args: argv } = pinned(cpu, Deno.execPath(), ["run", "-A", self, ...args]);
  return new Deno.Command(command, { args: argv, stdout, stderr: "inherit" }).spawn();
}

/**
 * The `read-path` scenario: each form twice, in alternation, with 19,000 connections and 10,000
 * lines a second; one record per run with the echo server's CPU use and the echo latency.
 */
export async function readPath(ctx: ScaleContext, pin: boolean): Promise<ScenarioRecord[]> {
  const records: ScenarioRecord[] = [];
  const connections = 19_000;
  const rate = 10_000;
  for (const form of ["pipe", "lines", "pipe", "lines"] as const) {
    const port = freePort();
    ctx.progress(`read-path: ${form}, ${connections} connections, ${rate} lines/s`);
    const server = child(pin ? 0 : null, ["serve", form, String(port)], "null");
    try {
      await waitForPort({ hostname: "127.0.0.1", port }, 10_000);
      const loader = child(
        pin ? 1 : null,
        ["load", String(port), String(connections), String(rate), String(ctx.durationS)],
        "piped",
      );
      // The server is metered from the start of the lines: connecting is not the read path.
      let meter: ReturnType<typeof startProcessMeter> | null = null;
      let last = "";
      for await (const line of loader.stdout.pipeThrough(new TextLineStream())) {
        if (line.includes('"event":"load-start"')) meter = startProcessMeter(server.pid);
        else if (line.trim() !== "") last = line;
      }
      const usage = meter?.() ?? null;
      if (!(await loader.status).success || last === "") throw new Error("read-path load failed");
      const result: ReadPathLoad = JSON.parse(last);
      const ms = (us: number | null) => `${((us ?? NaN) / 1000).toFixed(1)} ms`;
      const l = result.latencyUs;
      records.push({
        name: `read-path-${form}`,
        description: `${connections} connections echoing ${rate} lines/s, read path: ${form}`,
        loadgenArgs: [],
        serverCpu: usage?.cpu,
        serverRssBytes: usage?.rssBytes,
        summary: `server CPU ${Math.round((usage?.cpu ?? 0) * 100)}%, ` +
          `${result.received}/${result.sent} echoed, p50 ${ms(l.p50)}, p99 ${ms(l.p99)}`,
      });
    } finally {
      server.kill("SIGTERM");
      await server.status;
    }
  }
  return records;
}

if (import.meta.main) {
  const [what, ...rest] = Deno.args;
  if (what === "serve" && (rest[0] === "pipe" || rest[0] === "lines")) {
    await serve(rest[0], Number(rest[1]));
  } else if (what === "load") {
    const [port, connections, rate, seconds] = rest.map(Number);
    console.log(JSON.stringify(await load(port, connections, rate, seconds)));
    Deno.exit(0);
  } else {
    console.error(
      "usage: read_path.ts serve pipe|lines PORT | load PORT CONNECTIONS RATE SECONDS",
    );
    Deno.exit(2);
  }
}
