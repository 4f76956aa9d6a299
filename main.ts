/**
 * The command line: flags and environment -> config -> logging -> store and
 * server (src/launch.ts, shared with mod.ts) -> signals.
 * `deno task start [HOST:PORT] [options]`.
 *
 * @module
 */

import denoJson from "./deno.json" with { type: "json" };
import { ConfigError, parseInvocation } from "./src/config.ts";
import { logger, setupLogging } from "./src/log.ts";
import { count } from "./src/protocol/text.ts";
import { launch, readTls, StartError } from "./src/launch.ts";
import { describeReload, reparse } from "./src/reload.ts";
import type { RunningServer } from "./src/server.ts";
import { healthcheck, healthUrl } from "./src/healthcheck.ts";
import { backupDatabase, BackupError } from "./src/store/backup.ts";

/** Exit status for bad usage and for addresses that cannot be bound. */
const EXIT_USAGE = 2;

/** A signal repeated within this many milliseconds of the first counts once. */
const REPEAT_WINDOW_MS = 1000;

function fail(message: string): never {
  console.error(`chat-server: ${message}`);
  Deno.exit(EXIT_USAGE);
}

async function main(args: string[]): Promise<void> {
  if (args[0] === "healthcheck") {
    if (args.length > 2) fail("healthcheck: expected at most one URL (try --help)");
    let url;
    try {
      url = healthUrl(args[1], Deno.env.toObject());
    } catch (err) {
      if (err instanceof ConfigError) fail(err.message);
      throw err;
    }
    Deno.exit(await healthcheck(url));
  }
  let invocation;
  try {
    invocation = parseInvocation(args, Deno.env.toObject());
  } catch (err) {
    if (err instanceof ConfigError) fail(`${err.message} (try --help)`);
    throw err;
  }
  if (invocation.kind === "help") {
    console.log(invocation.text);
    return;
  }
  if (invocation.kind === "version") {
    console.log(`chat-server ${denoJson.version} (deno ${Deno.version.deno})`);
    return;
  }
  if (invocation.kind === "backup") {
    try {
      const done = await backupDatabase(invocation.db, invocation.file, invocation.force);
      console.log(
        `wrote ${done.file}: ${count(done.messages, "message")} in ${count(done.rooms, "room")} (${
          count(done.bytes, "byte")
        })`,
      );
    } catch (err) {
      if (!(err instanceof BackupError)) throw err;
      console.error(`chat-server: ${err.message}`);
      Deno.exit(1);
    }
    return;
  }
  let { config } = invocation;
  setupLogging(config.logLevel, config.logFormat);
  const log = logger("main");

  // Reloads run one at a time; SIGHUP and /rehash share this path.
  let reloading: Promise<string> = Promise.resolve("");
  const rehash = (): Promise<string> => {
    const run = async () => {
      const running = config;
      const plan = reparse(running, args, Deno.env.toObject());
      const files = await readTls(plan.config.tls);
      await server.reconfigure(plan.config, files);
      config = plan.config;
      if (plan.config.logLevel !== running.logLevel) {
        setupLogging(plan.config.logLevel, plan.config.logFormat);
      }
      const text = describeReload(plan, { reread: files !== null });
      log.info("{summary}", { summary: text });
      for (const name of plan.restart) {
        log.warn("{setting} changed but needs a restart: the running value stays", {
          setting: name,
        });
      }
      return text;
    };
    reloading = reloading.then(run, run);
    reloading.catch((err) =>
      log.error("reload failed, running settings unchanged: {error}", {
        error: err instanceof Error ? err.message : String(err),
      })
    );
    return reloading;
  };

  let server: RunningServer;
  try {
    server = await launch(config, { rehash });
  } catch (err) {
    if (err instanceof StartError) fail(err.message);
    throw err;
  }

  // One shutdown path for both signals; a second signal while draining forces the exit.
  const stop = (signal: Deno.Signal) => {
    log.info("received {signal}", { signal });
    server.shutdown().then(
      () => Deno.exit(0),
      (err) => {
        log.error("shutdown failed: {error}", { error: err });
        Deno.exit(1);
      },
    );
  };
  Deno.addSignalListener("SIGHUP", () => {
    log.info("received SIGHUP: reloading {file}", { file: config.configFile ?? "flags" });
    rehash().catch(() => {}); // logged by rehash
  });
  let first: { signal: Deno.Signal; at: number } | null = null;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      const now = performance.now();
      if (first === null) {
        first = { signal, at: now };
        return stop(signal);
      }
      // One Ctrl-C under `deno task start` arrives twice (from the terminal and
      // from the task runner): a repeat within the window is the same signal.
      if (signal === first.signal && now - first.at < REPEAT_WINDOW_MS) return;
      log.warn("second signal: exiting without waiting for the drain");
      Deno.exit(1);
    });
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (err) {
    // Last resort: one line, no stack trace unless asked for with CHAT_DEBUG.
    console.error(`chat-server: ${err instanceof Error ? err.message : String(err)}`);
    if (Deno.env.get("CHAT_DEBUG")) console.error(err);
    Deno.exit(1);
  }
}
