/**
 * Load generator for the chat server's line protocol.
 *
 * As a program it runs one scenario and prints its results as one JSON line on stdout (progress
 * goes to stderr; the rooms mode first prints `{"event":"load-start"}` when its connections are
 * set up, so that the server's CPU can be measured under load only):
 *
 * ```sh
 * deno run -A bench/loadgen.ts --mode echo   --target 127.0.0.1:PORT -c 100 -w 16 -s 64 -d 3
 * deno run -A bench/loadgen.ts --mode fanout --target 127.0.0.1:PORT -c 1000 -k 10 -r 0 -d 3
 * deno run -A bench/loadgen.ts --mode fanout --transport ws --ws-target 127.0.0.1:HTTP_PORT -r 200
 * deno run -A bench/loadgen.ts --mode fanout --transport mixed --target 127.0.0.1:PORT \
 *   --ws-target 127.0.0.1:HTTP_PORT -c 1000 -k 10 -r 200
 * ```
 *
 * As a module it exports {@link runEcho}, {@link runFanout} and {@link runLoad}.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type EchoResult, runEcho } from "./echo.ts";
import { type FanoutResult, runFanout, type TransportMix } from "./fanout.ts";
import { type ChurnFigures, startChurn } from "./churn.ts";
import { type LeakResult, runLeak } from "./leak.ts";
import { sleep } from "./net.ts";
import { parseTarget, type Target } from "./net.ts";
import { type RoomsResult, runRooms } from "./rooms.ts";

export { type EchoOptions, type EchoResult, runEcho } from "./echo.ts";
export {
  type FanoutOptions,
  type FanoutResult,
  runFanout,
  type TransportFigures,
  type TransportMix,
} from "./fanout.ts";

/** Scenario settings as given on the command line; unset ones take the mode's defaults. */
export interface LoadOptions {
  /** Which scenario to run. */
  mode: "echo" | "fanout" | "rooms" | "leak" | "churn";
  /** Server's line protocol listener (loopback); not needed by a WebSocket-only fan-out. */
  target?: Target;
  /** Fanout: the server's HTTP listener serving `/ws` (loopback), for WebSocket members. */
  wsTarget?: Target;
  /** Fanout: members' transport, `tcp` (default), `ws` or `mixed` (half each). */
  transport?: TransportMix;
  /** Connections (echo, default 100) or room members (fanout, default 1000): C. */
  connections?: number;
  /** Fanout senders (default 10): K. */
  senders?: number;
  /** Fanout total lines/s, 0 = full speed (default 0): R. */
  rate?: number;
  /** Bytes per line including `\n` (default 64): S. */
  size?: number;
  /** Lines in flight per connection or sender (default 16): W. */
  window?: number;
  /** Measured seconds (default 3): D. */
  durationS?: number;
  /** Warm-up seconds before measuring (default 1). */
  warmupS?: number;
  /** Fanout: other clients joining and leaving the room per second (default 0). Leak: clients/s. */
  churn?: number;
  /** Rooms: members per room (default 2). */
  perRoom?: number;
  /** Rooms with mixed transports: members on WebSocket (default half). */
  wsMembers?: number;
  /** Leak: the server's HTTP listener, where `/metrics` is read. */
  metricsTarget?: Target;
  /** Receives progress messages. */
  progress?: (message: string) => void;
  /** Rooms: called when the clients are set up and the measured load begins. */
  onLoadStart?: () => void;
}

/** Any scenario's results. */
export type LoadResult = EchoResult | FanoutResult | RoomsResult | LeakResult | ChurnResult;

/** Churn alone: clients joining and leaving `lobby` beside another generator's load. */
export interface ChurnResult {
  mode: "churn";
  durationS: number;
  churn: ChurnFigures;
}

/** Runs the scenario described by `options` with the defaults filled in. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const common = {
    size: options.size ?? 64,
    window: options.window ?? 16,
    durationS: options.durationS ?? 3,
    warmupS: options.warmupS ?? 1,
    progress: options.progress,
  };
  if (options.mode === "echo") {
    if (options.target === undefined) throw new Error("echo needs a target");
    return runEcho({ ...common, target: options.target, connections: options.connections ?? 100 });
  }
  const transport = options.transport ?? "tcp";
  if (options.mode === "churn") {
    const churn = startChurn({
      target: options.target,
      wsTarget: options.wsTarget,
      perSecond: options.churn ?? 100,
      holdMs: 1000,
      transport,
      script: "stay",
    });
    return sleep(common.durationS * 1000).then(async () => ({
      mode: "churn" as const,
      durationS: common.durationS,
      churn: await churn.stop(),
    }));
  }
  if (options.mode === "leak") {
    if (options.metricsTarget === undefined) throw new Error("leak needs --metrics-target");
    return runLeak({
      target: options.target,
      wsTarget: options.wsTarget,
      metricsTarget: options.metricsTarget,
      transport,
      perSecond: options.churn ?? 100,
      durationS: common.durationS,
      warmupS: options.warmupS ?? 10,
      progress: options.progress,
    });
  }
  if (options.mode === "rooms") {
    return runRooms({
      ...common,
      target: options.target,
      wsTarget: options.wsTarget,
      transport,
      connections: options.connections ?? 1000,
      perRoom: options.perRoom ?? 2,
      wsMembers: options.wsMembers,
      ratePerRoom: options.rate ?? 1,
      onLoadStart: options.onLoadStart,
    });
  }
  if (transport !== "ws" && options.target === undefined) {
    throw new Error(`a ${transport} fan-out needs --target (the line protocol listener)`);
  }
  if (transport !== "tcp" && options.wsTarget === undefined) {
    throw new Error(`a ${transport} fan-out needs --ws-target (the HTTP listener serving /ws)`);
  }
  return runFanout({
    ...common,
    target: options.target,
    wsTarget: options.wsTarget,
    transport,
    members: options.connections ?? 1000,
    senders: options.senders ?? 10,
    rate: options.rate ?? 0,
    churn: options.churn ?? 0,
  });
}

/** Parses a numeric option, checking it is a finite number within [min, max]. */
function numberOption(
  value: string | undefined,
  name: string,
  min: number,
  max = Infinity,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new Error(`--${name} must be a number in ${min}..${max}, got "${value}"`);
  }
  return n;
}

const USAGE =
  `usage: deno run -A bench/loadgen.ts --mode echo|fanout|rooms|leak --target HOST:PORT [options]
  modes: echo (round trips), fanout (one room), rooms (many small rooms, -r lines/s per room),
         leak (clients come and go, --churn a second, the server's memory read from /metrics),
         churn (only clients joining and leaving lobby, --churn a second, each for 1 s: run it
         beside another generator's fan-out into lobby)
  -t, --target H:P     the server's line protocol (TCP) listener
      --transport T    fanout: members use tcp (default), ws (WebSocket text frames on /ws)
                       or mixed (half of the members and of the senders each, rounded down for ws)
      --ws-target H:P  fanout with ws or mixed: the server's HTTP listener (--http) serving /ws
  -c, --connections N  connections (echo, default 100) or room members (fanout, default 1000)
  -k, --senders K      fanout: members that send (default 10)
  -r, --rate R         fanout: total lines/s over all senders; 0 = full speed (default 0)
  -s, --size S         bytes per line including the newline (default 64)
  -w, --window W       lines in flight per connection / sender (default 16)
  -d, --duration D     measured seconds (default 3)
      --warmup SEC     warm-up seconds before measuring (default 1)
      --churn N        fanout: other clients join and leave the room, N a second (each stays 1 s);
                       leak: clients a second (default 100)
      --per-room P     rooms: members per room (default 2)
      --ws-members N   rooms with --transport mixed: members on WebSocket (default half)
      --metrics-target H:P  leak: the server's HTTP listener (/metrics)
  -q, --quiet          no progress on stderr
Prints one JSON line of results on stdout.`;

/** Command-line entry point: parses the arguments, runs, prints the JSON result. */
async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      mode: { type: "string" },
      target: { type: "string", short: "t" },
      "ws-target": { type: "string" },
      transport: { type: "string" },
      connections: { type: "string", short: "c" },
      senders: { type: "string", short: "k" },
      rate: { type: "string", short: "r" },
      size: { type: "string", short: "s" },
      window: { type: "string", short: "w" },
      duration: { type: "string", short: "d" },
      warmup: { type: "string" },
      churn: { type: "string" },
      "per-room": { type: "string" },
      "ws-members": { type: "string" },
      "metrics-target": { type: "string" },
      quiet: { type: "boolean", short: "q" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const modes = ["echo", "fanout", "rooms", "leak", "churn"] as const;
  const mode = modes.find((m) => m === values.mode);
  if (mode === undefined) throw new Error(`--mode must be one of ${modes.join(", ")}\n${USAGE}`);
  const transport = values.transport ?? "tcp";
  if (transport !== "tcp" && transport !== "ws" && transport !== "mixed") {
    throw new Error(`--transport must be tcp, ws or mixed\n${USAGE}`);
  }
  if (mode === "echo" && transport !== "tcp") {
    throw new Error("--transport does not apply to --mode echo");
  }
  if (values.target === undefined && !(mode !== "echo" && transport === "ws")) {
    throw new Error(`--target is required\n${USAGE}`);
  }
  if (values["ws-target"] === undefined && transport !== "tcp") {
    throw new Error(`--ws-target is required with --transport ${transport}\n${USAGE}`);
  }
  const progress = values.quiet ? undefined : (message: string) =>
    console.error(
      `loadgen ${values.mode}${transport === "tcp" ? "" : `/${transport}`}: ${message}`,
    );
  const result = await runLoad({
    mode,
    target: values.target === undefined ? undefined : parseTarget(values.target),
    wsTarget: values["ws-target"] === undefined ? undefined : parseTarget(values["ws-target"]),
    transport,
    connections: numberOption(values.connections, "connections", 1, 100_000),
    senders: numberOption(values.senders, "senders", 1, 65_536),
    rate: numberOption(values.rate, "rate", 0),
    size: numberOption(values.size, "size", 1, 65_536),
    window: numberOption(values.window, "window", 1, 1_000_000),
    durationS: numberOption(values.duration, "duration", 0.1, 3600),
    warmupS: numberOption(values.warmup, "warmup", 0, 3600),
    churn: numberOption(values.churn, "churn", 0, 100_000),
    perRoom: numberOption(values["per-room"], "per-room", 2, 100_000),
    wsMembers: numberOption(values["ws-members"], "ws-members", 0, 100_000),
    metricsTarget: values["metrics-target"] === undefined
      ? undefined
      : parseTarget(values["metrics-target"]),
    progress,
    onLoadStart: () => console.log(JSON.stringify({ event: "load-start" })),
  });
  console.log(JSON.stringify(result));
  return 0;
}

if (import.meta.main) {
  let code = 1;
  try {
    code = await main(Deno.args);
  } catch (err) {
    console.error(`loadgen: ${err instanceof Error ? err.message : err}`);
  }
  // Exit explicitly: a server that keeps sockets half-open must not keep the generator alive.
  Deno.exit(code);
}
