/**
 * What typing notices cost the room's messages: a 1000-member fan-out (the line protocol, as in
 * `fanout-max` and `fanout-rate`) with 100 more members on WebSocket JSON, which either keep
 * quiet or all type at once (each sends `typing active` every second; the server lets one through
 * every 3 s per member, so about 33 notices a second reach the room and two in three are refused
 * with `slow_down`). The two variants run in alternation on fresh servers; the table has each
 * run and the records say which variant it was.
 *
 * Run as a script it is the 100 typists: `deno run -A bench/typing.ts WS_URL COUNT on|off`
 * prints `ready` once every one has joined, then types (or not) until it is killed.
 *
 * @module
 */

import type { LoadResult } from "./loadgen.ts";
import { formatTarget, sleep } from "./net.ts";
import { pinned } from "./pin.ts";
import type { ScenarioRecord } from "./report.ts";
import type { ScaleContext } from "./scale.ts";
import { startServer } from "./server.ts";

/** Members that type (or keep quiet), beside the generator's 1000. */
const TYPISTS = 100;
/** How often each typist says it is typing (the server passes one in three). */
const TYPE_EVERY_MS = 1000;
const ROUNDS = 3;

const LOADS: Record<string, string[]> = {
  "max": ["--mode", "fanout", "-c", "1000", "-k", "10", "-r", "0", "-s", "64", "-w", "16"],
  "rate": ["--mode", "fanout", "-c", "1000", "-k", "10", "-r", "200", "-s", "64"],
};

/** The scenario: for each load, ROUNDS rounds of quiet then typing typists. */
export async function typingBench(ctx: ScaleContext): Promise<ScenarioRecord[]> {
  const records: ScenarioRecord[] = [];
  for (const [load, args] of Object.entries(LOADS)) {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const typing of [false, true]) {
        const name = `typing-${load}-${typing ? "on" : "off"}`;
        ctx.progress(`${name} round ${round}`);
        records.push(await oneRun(ctx, name, args, typing));
      }
    }
  }
  return records;
}

async function oneRun(
  ctx: ScaleContext,
  name: string,
  args: string[],
  typing: boolean,
): Promise<ScenarioRecord> {
  const record: ScenarioRecord = {
    name,
    description: `fan-out ${args.includes("200") ? "200 lines/s" : "full speed"}, ${TYPISTS} ` +
      `JSON members ${typing ? "typing" : "quiet"}`,
    loadgenArgs: args,
  };
  const server = await startServer({ ...ctx.server, http: true });
  let typists: Deno.ChildProcess | null = null;
  try {
    const url = `ws://${formatTarget(server.httpTarget!)}/ws?format=json`;
    const here = decodeURIComponent(new URL("typing.ts", import.meta.url).pathname);
    // Beside the generator (CPU 1), not on the server's CPU.
    const cmd = pinned(
      ctx.server.cpu === null ? null : 1,
      Deno.execPath(),
      ["run", "-A", here, url, String(TYPISTS), typing ? "on" : "off"],
    );
    typists = new Deno.Command(cmd.command, { args: cmd.args, stdout: "piped", stderr: "inherit" })
      .spawn();
    await readyLine(typists.stdout);
    const result: LoadResult = await ctx.loadgen([
      ...args,
      "--target",
      formatTarget(server.target),
      "-d",
      String(ctx.durationS),
    ]);
    record.result = result;
  } catch (err) {
    record.error = err instanceof Error ? err.message : String(err);
  } finally {
    try {
      typists?.kill("SIGTERM");
      await typists?.status;
    } catch {
      // Gone already.
    }
    await server.stop();
  }
  return record;
}

/** Waits for the typists' `ready` line (at most 60 s). */
async function readyLine(stdout: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  const timeout = setTimeout(() => reader.cancel(new Error("typists not ready in 60 s")), 60_000);
  let text = "";
  try {
    while (!text.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`typists exited before they were ready: ${text}`);
      text += value;
    }
  } finally {
    clearTimeout(timeout);
    reader.releaseLock();
  }
}

/** The typists: COUNT JSON members in the lobby, typing every second when `on`. */
async function typists(url: string, count: number, on: boolean): Promise<void> {
  const sockets = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url);
        // Read and drop what arrives: the members are here to be in the room.
        ws.onmessage = (e) => {
          if (typeof e.data === "string" && e.data.includes('"joined"')) resolve(ws);
        };
        ws.onerror = () => reject(new Error("typist could not connect"));
      })),
  );
  console.log("ready");
  if (!on) return await new Promise(() => {});
  const typing = JSON.stringify({ type: "typing", room: "lobby", state: "active" });
  for (let i = 0;; i++) {
    // Spread over the second so the notices do not all come in one burst.
    sockets[i % count].send(typing);
    await sleep(TYPE_EVERY_MS / count);
  }
}

if (import.meta.main) {
  const [url, count, mode] = Deno.args;
  await typists(url, Number(count), mode === "on");
}
