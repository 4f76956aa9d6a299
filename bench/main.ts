/**
 * `deno task bench`: the project's standard benchmark.
 *
 * For each selected scenario it starts the chat server as a child process on a free loopback port
 * (unless `--server` names a running one), waits for the port, runs the load generator
 * (`bench/loadgen.ts`) as a separate process, and stops the server with SIGTERM. WebSocket
 * scenarios start the server with its HTTP listener on a second free port. With taskset the
 * server runs on CPU 0 and the generator on CPU 1. It prints a table at the end and writes the
 * raw results to `bench/out/results.json`.
 *
 * ```sh
 * deno task bench                         # echo, fanout-max, fanout-rate, ws-fanout-rate
 * deno task bench echo fanout-max --duration 5
 * deno task bench ws-fanout-max ws-fanout-rate mixed-fanout
 * deno task bench search                  # SQLite search over 1M messages, no server
 * deno task bench typing                  # fan-out with 100 members typing, in alternation
 * deno task bench fanout-rate --server 127.0.0.1:7000
 * deno task bench mixed-fanout --server 127.0.0.1:7000 --server-http 127.0.0.1:7001
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { LoadResult } from "./loadgen.ts";
import { formatTarget, parseTarget, type Target } from "./net.ts";
import { canPin, pinned } from "./pin.ts";
import { formatTable, type ScenarioRecord } from "./report.ts";
import { latencySweep, rssSweep, type ScaleContext, startStop } from "./scale.ts";
import { lineChart } from "./svg.ts";
import { type RunningServer, startServer } from "./server.ts";
import { startProcessMeter } from "./cpu.ts";
import { readPath } from "./read_path.ts";
import { searchBench } from "./search.ts";
import { typingBench } from "./typing.ts";
import { TextLineStream } from "../src/transport/line_stream.ts";

/** A named standard scenario. */
interface Scenario {
  /** Short description for the output. */
  description: string;
  /** Whether the server must run with `--echo`. */
  echoServer: boolean;
  /** Whether the scenario uses WebSocket (`/ws` on the server's HTTP listener). */
  ws: boolean;
  /** Load generator arguments, apart from target and duration. */
  args: string[];
  /** Pass the server's HTTP listener as `--metrics-target` (the leak test reads /metrics). */
  metrics?: boolean;
  /** More flags for the server the benchmark starts. */
  serverArgs?: string[];
  /** A scenario that runs several loads or servers itself (see scale.ts). */
  scale?: (ctx: ScaleContext, options: MainOptions) => Promise<ScenarioRecord[]>;
}

/** Command-line settings the scale scenarios use. */
interface MainOptions {
  historyMb: number;
  clients: number;
}

/** The standard set, in the order they run by default. */
const SCENARIOS: Record<string, Scenario> = {
  "echo": {
    description: "100 connections, 64 B lines, 16 in flight each; round trip",
    echoServer: true,
    ws: false,
    args: ["--mode", "echo", "-c", "100", "-s", "64", "-w", "16"],
  },
  "fanout-max": {
    description: "1000 members, 10 senders at full speed (window 16); delivery latency",
    echoServer: false,
    ws: false,
    args: ["--mode", "fanout", "-c", "1000", "-k", "10", "-r", "0", "-s", "64", "-w", "16"],
  },
  "fanout-rate": {
    description: "1000 members, 10 senders, 200 lines/s (200k deliveries/s); delivery latency",
    echoServer: false,
    ws: false,
    args: ["--mode", "fanout", "-c", "1000", "-k", "10", "-r", "200", "-s", "64"],
  },
  "ws-fanout-max": {
    description: "1000 WebSocket members, 10 senders at full speed (window 16); delivery latency",
    echoServer: false,
    ws: true,
    args: [
      ...["--mode", "fanout", "--transport", "ws"],
      ...["-c", "1000", "-k", "10", "-r", "0", "-s", "64", "-w", "16"],
    ],
  },
  "ws-fanout-rate": {
    description: "1000 WebSocket members, 10 senders, 200 lines/s (200k deliveries/s)",
    echoServer: false,
    ws: true,
    args: [
      "--mode",
      "fanout",
      "--transport",
      "ws",
      "-c",
      "1000",
      "-k",
      "10",
      "-r",
      "200",
      "-s",
      "64",
    ],
  },
  "big-room": {
    description: "5000 members, 10 senders at full speed; the baseline of big-room-churn",
    echoServer: false,
    ws: false,
    args: ["--mode", "fanout", "-c", "5000", "-k", "10", "-r", "0", "-s", "64", "-w", "4"],
  },
  "big-room-churn": {
    description: "big-room while 100 other clients a second join and leave the room",
    echoServer: false,
    ws: false,
    args: [
      ...["--mode", "fanout", "-c", "5000", "-k", "10", "-r", "0", "-s", "64", "-w", "4"],
      ...["--churn", "100"],
    ],
  },
  "many-rooms": {
    description: "19000 TCP clients in 9500 rooms of two, one line a second per room",
    echoServer: false,
    ws: false,
    args: ["--mode", "rooms", "-c", "19000", "--per-room", "2", "-r", "1", "-s", "64"],
  },
  "mixed-rooms": {
    description: "10000 WebSocket + 9000 TCP clients in 9500 rooms of two, a line/s per room",
    echoServer: false,
    ws: true,
    args: [
      ...["--mode", "rooms", "--transport", "mixed", "-c", "19000", "--ws-members", "10000"],
      ...["--per-room", "2"],
      ...["-r", "1", "-s", "64"],
    ],
  },
  "leak": {
    description: "100 clients a second come and go (TCP and WebSocket): RSS before and after",
    echoServer: false,
    ws: true,
    metrics: true,
    // History is kept by design; small, it is full after the warm-up and the rest is what stays.
    serverArgs: ["--history-size", "50"],
    args: ["--mode", "leak", "--transport", "mixed", "--churn", "100", "--warmup", "60"],
  },
  "latency-sweep": {
    description: "fan-out latency at 25k to 1.6M deliveries/s offered; draws latency.svg",
    echoServer: false,
    ws: false,
    args: [],
    scale: (ctx) => latencySweep(ctx),
  },
  "rss-sweep": {
    description:
      "server memory at 1000 to 19000 idle TCP, then WebSocket, connections; draws rss.svg",
    echoServer: false,
    ws: false,
    args: [],
    scale: (ctx) => rssSweep(ctx),
  },
  "read-path": {
    description: "the TCP read path alone: piped through a TransformStream, or socketLines",
    echoServer: false,
    ws: false,
    args: [],
    scale: (ctx) => readPath(ctx, ctx.server.cpu !== null),
  },
  "start-stop": {
    description: "start with an empty and a large history; SIGTERM with 19000 clients",
    echoServer: false,
    ws: false,
    args: [],
    scale: (ctx, options) => startStop(ctx, options.historyMb, options.clients),
  },
  "search": {
    description: "SQLite store: search over 1M messages (trigram index), median per query shape",
    echoServer: false,
    ws: false,
    args: [],
    scale: (ctx) => searchBench(ctx.progress),
  },
  "typing": {
    description: "fan-out with 100 JSON members quiet, then typing; 3 rounds in alternation",
    echoServer: false,
    ws: false,
    args: [],
    scale: (ctx) => typingBench(ctx),
  },
  "mixed-fanout": {
    description: "500 TCP + 500 WebSocket members, 5 + 5 senders, 200 lines/s; per transport",
    echoServer: false,
    ws: true,
    args: [
      ...["--mode", "fanout", "--transport", "mixed"],
      ...["-c", "1000", "-k", "10", "-r", "200", "-s", "64"],
    ],
  },
};

/** What runs without scenario names: the short set. */
const DEFAULT_SCENARIOS = ["echo", "fanout-max", "fanout-rate", "ws-fanout-rate"];

const BENCH_DIR = decodeURIComponent(new URL(".", import.meta.url).pathname);
const PROJECT_DIR = decodeURIComponent(new URL("..", import.meta.url).pathname);
const OUT_DIR = `${BENCH_DIR}out`;
const LOADGEN = `${BENCH_DIR}loadgen.ts`;

const USAGE = `usage: deno task bench [SCENARIO...] [--duration SECONDS] [--server HOST:PORT]
                        [--history-mb N] [--clients N]
scenarios (default: ${DEFAULT_SCENARIOS.join(", ")}):
${Object.entries(SCENARIOS).map(([name, s]) => `  ${name.padEnd(14)} ${s.description}`).join("\n")}
  --duration N        measured seconds per scenario (default 3, after 1 s warm-up)
  --server HOST:PORT  load an already running server (loopback) instead of starting one;
                      the echo scenario then needs that server to run with --echo
  --server-http HOST:PORT
                      with --server: that server's HTTP listener (/ws), for the ws-*, mixed-*
                      and leak scenarios
  --history-mb N      start-stop: size of the history file it starts with (default 1024)
  --clients N         start-stop: clients connected at the SIGTERM (default 19000)
The leak test's figure is for --duration 600 (ten minutes) with the leak scenario alone.`;

/** Prints a progress line on stderr. */
function progress(message: string): void {
  console.error(`bench: ${message}`);
}

/**
 * Runs the load generator as its own process and parses the JSON line it prints. Its stderr
 * (progress) passes through. It is killed if it takes longer than `timeoutMs`.
 */
async function runLoadgen(
  args: string[],
  cpu: number | null,
  timeoutMs: number,
  onLoadStart?: () => void,
) {
  const cmd = pinned(cpu, Deno.execPath(), ["run", "-A", LOADGEN, ...args]);
  const child = new Deno.Command(cmd.command, {
    args: cmd.args,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, timeoutMs);
  // Lines on stdout: an optional `{"event":"load-start"}`, then the result.
  let last = "";
  const stdout = child.stdout.pipeThrough(new TextLineStream({ maxLineBytes: 64 * 1024 * 1024 }));
  for await (const line of stdout) {
    if (line.includes('"event":"load-start"')) onLoadStart?.();
    else if (line.trim() !== "") last = line;
  }
  const { code } = await child.status;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`load generator exited with code ${code}`);
  return JSON.parse(last) as LoadResult;
}

/** Runs one scenario from server start to server stop; never rejects (errors are recorded). */
async function runScenario(
  name: string,
  scenario: Scenario,
  options: {
    durationS: number;
    external: Target | null;
    externalHttp: Target | null;
    pin: boolean;
    index: string;
  },
): Promise<ScenarioRecord & { server?: Record<string, unknown> }> {
  const { durationS, external, externalHttp, pin, index } = options;
  const record: ScenarioRecord & { server?: Record<string, unknown> } = {
    name,
    description: scenario.description,
    loadgenArgs: [],
  };
  let server: RunningServer | null = null;
  try {
    let target: Target;
    let httpTarget: Target | null = null;
    if (external !== null) {
      if ((scenario.ws || scenario.metrics) && externalHttp === null) {
        throw new Error("this scenario needs --server-http (the server's HTTP listener for /ws)");
      }
      target = external;
      httpTarget = scenario.ws ? externalHttp : null;
      record.server = {
        external: formatTarget(target),
        ...(httpTarget === null ? {} : { externalHttp: formatTarget(httpTarget) }),
      };
    } else {
      const logPath = `${OUT_DIR}/server-${name}.log`;
      const flags = scenario.echoServer ? " --echo" : scenario.ws ? " --http" : "";
      progress(`${index} ${name}: starting server${flags}`);
      server = await startServer({
        projectDir: PROJECT_DIR,
        echo: scenario.echoServer,
        http: scenario.ws,
        cpu: pin ? 0 : null,
        logPath,
        extraArgs: scenario.serverArgs,
      });
      target = server.target;
      httpTarget = server.httpTarget;
      record.server = { commandLine: server.commandLine, log: logPath };
    }
    record.loadgenArgs = [
      ...scenario.args,
      "--target",
      formatTarget(target),
      ...(httpTarget === null ? [] : ["--ws-target", formatTarget(httpTarget)]),
      ...(scenario.metrics && httpTarget !== null
        ? ["--metrics-target", formatTarget(httpTarget)]
        : []),
      "-d",
      String(durationS),
    ];
    const where = formatTarget(target) +
      (httpTarget === null ? "" : `, /ws on ${formatTarget(httpTarget)}`);
    progress(`${index} ${name}: ${scenario.description}; target ${where}`);
    // Measured from the start of the load (or, for a scenario that sets up many clients first,
    // from when it says its load starts).
    let meter = server === null ? null : startProcessMeter(server.pid);
    record.result = await runLoadgen(
      record.loadgenArgs,
      pin ? 1 : null,
      // Set-up and drain; the leak scenario's warm-up and two idle minutes besides its duration.
      durationS * 1000 + 300_000,
      () => (meter = server === null ? null : startProcessMeter(server.pid)),
    );
    const usage = meter?.() ?? null;
    if (usage !== null) {
      record.serverCpu = usage.cpu;
      record.serverRssBytes = usage.rssBytes;
    }
  } catch (err) {
    record.error = err instanceof Error ? err.message : String(err);
    progress(`${index} ${name}: FAILED: ${record.error}`);
  } finally {
    if (server !== null) {
      const status = await server.stop();
      record.server = { ...record.server, exitCode: status.code, signal: status.signal };
    }
  }
  return record;
}

/** Entry point: parses arguments, runs the scenarios, prints and saves the results. */
async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      duration: { type: "string", short: "d" },
      server: { type: "string" },
      "server-http": { type: "string" },
      "history-mb": { type: "string" },
      clients: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const names = positionals.length > 0 ? positionals : DEFAULT_SCENARIOS;
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(", ")}\n${USAGE}`);
  const durationS = values.duration === undefined ? 3 : Number(values.duration);
  if (!(durationS > 0 && durationS <= 3600)) throw new Error("--duration must be in (0, 3600]");
  const mainOptions: MainOptions = {
    historyMb: values["history-mb"] === undefined ? 1024 : Number(values["history-mb"]),
    clients: values.clients === undefined ? 19_000 : Number(values.clients),
  };
  if (!(mainOptions.historyMb >= 1) || !(mainOptions.clients >= 1)) {
    throw new Error("--history-mb and --clients must be positive numbers");
  }
  const external = values.server === undefined ? null : parseTarget(values.server);
  const externalHttp = values["server-http"] === undefined
    ? null
    : parseTarget(values["server-http"]);
  if (externalHttp !== null && external === null) {
    throw new Error("--server-http needs --server (a server started by the benchmark gets one)");
  }

  await Deno.mkdir(OUT_DIR, { recursive: true });
  const pin = await canPin();
  const pinning = !pin
    ? "no CPU pinning (taskset or a second CPU missing)"
    : external === null
    ? "server pinned to CPU 0, load generator to CPU 1 (taskset)"
    : "load generator pinned to CPU 1 (taskset); the external server is not pinned";
  progress(pinning);
  if (external !== null && names.includes("echo")) {
    progress("note: the echo scenario needs the external server to run with --echo");
  }

  const records: ScenarioRecord[] = [];
  for (const [i, name] of names.entries()) {
    const index = `[${i + 1}/${names.length}]`;
    const scale = SCENARIOS[name].scale;
    if (scale !== undefined) {
      if (external !== null) throw new Error(`${name} starts its own servers: no --server`);
      progress(`${index} ${name}: ${SCENARIOS[name].description}`);
      const ctx: ScaleContext = {
        server: {
          projectDir: PROJECT_DIR,
          echo: false,
          cpu: pin ? 0 : null,
          logPath: `${OUT_DIR}/server-${name}.log`,
        },
        durationS,
        outDir: OUT_DIR,
        loadgen: (args) => runLoadgen([...args, "-d", String(durationS)], pin ? 1 : null, 300_000),
        progress: (message) => progress(`${index} ${message}`),
      };
      try {
        records.push(...await scale(ctx, mainOptions));
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        progress(`${index} ${name}: FAILED: ${error}`);
        records.push({ name, description: SCENARIOS[name].description, loadgenArgs: [], error });
      }
      continue;
    }
    records.push(
      await runScenario(name, SCENARIOS[name], {
        durationS,
        external,
        externalHttp,
        pin,
        index,
      }),
    );
  }

  for (const record of records) {
    if (record.result?.mode !== "leak") continue;
    const samples = record.result.samples;
    await Deno.writeTextFile(
      `${OUT_DIR}/leak.svg`,
      lineChart({
        title: `Server memory while ${record.result.perSecond} clients a second come and go`,
        xLabel: `seconds since the churn began (it stops at ${record.result.durationS} s)`,
        yLabel: "MB",
        series: [
          { name: "RSS", points: samples.map((m) => [m.t, m.rssBytes / 1048576]) },
          { name: "heap in use", points: samples.map((m) => [m.t, m.heapUsedBytes / 1048576]) },
        ],
      }),
    );
    progress(`leak: chart in ${OUT_DIR}/leak.svg`);
  }

  const resultsPath = `${OUT_DIR}/results.json`;
  const report = {
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    cpus: navigator.hardwareConcurrency,
    pinning,
    durationS,
    warmupS: 1,
    server: external === null ? "started by the benchmark" : formatTarget(external),
    serverHttp: externalHttp === null ? undefined : formatTarget(externalHttp),
    wsClient: "raw WebSocket client over Deno.connect (bench/ws.ts), text format, masked frames",
    scenarios: records,
  };
  await Deno.writeTextFile(resultsPath, JSON.stringify(report, null, 2) + "\n");

  console.log(`\n${formatTable(records)}\n`);
  console.log(`${pinning}; ${durationS} s measured after 1 s warm-up per scenario.`);
  console.log("rate: echo = lines returned/s; fanout = lines received/s over all members.");
  console.log("p50/p99: echo = round trip; fanout = send-to-delivery latency.");
  if (names.some((n) => SCENARIOS[n].ws)) {
    console.log(
      "ws-*, mixed: members on /ws use a raw WebSocket client (bench/ws.ts), not the WebSocket " +
        "class;\n  mixed-fanout's tcp/ws rows split its total by the members' transport.",
    );
  }
  console.log(`raw results: ${resultsPath}`);
  return records.every((r) => r.result !== undefined || r.summary !== undefined) ? 0 : 1;
}

if (import.meta.main) {
  let code = 1;
  try {
    code = await main(Deno.args);
  } catch (err) {
    console.error(`bench: ${err instanceof Error ? err.message : err}`);
  }
  Deno.exit(code);
}
