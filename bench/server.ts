/**
 * Starting and stopping the chat server under test as a child process.
 *
 * @module
 */

import { formatTarget, freePort, type Target, waitForPort } from "./net.ts";
import { pinned } from "./pin.ts";

/** How to start the server. */
export interface ServerOptions {
  /** Directory holding the server's `main.ts`. */
  projectDir: string;
  /** Start it with `--echo` (for the echo scenario). */
  echo: boolean;
  /** Start its HTTP listener (for `/ws`) on another free loopback port instead of `--http off`. */
  http?: boolean;
  /** CPU to pin it to with taskset, or null. */
  cpu: number | null;
  /** File that receives the server's stdout and stderr. */
  logPath: string;
  /** Longest wait for the port to accept connections, in ms (default 60 000). */
  readyTimeoutMs?: number;
  /** History database (default `:memory:`). */
  db?: string;
  /** More server flags. */
  extraArgs?: string[];
}

/** A running server. */
export interface RunningServer {
  /** Where it listens (line protocol). */
  target: Target;
  /** Where its HTTP listener (`/ws`) is, or null with `--http off`. */
  httpTarget: Target | null;
  /** The command line it was started with (for the record). */
  commandLine: string[];
  /** The server's process id (taskset runs it in its own process). */
  pid: number;
  /** Milliseconds from starting the process until its port(s) accepted connections. */
  readyMs: number;
  /** Sends SIGTERM (SIGKILL after `graceMs`), waits for the exit and returns its status. */
  stop(graceMs?: number): Promise<Deno.CommandStatus>;
}

/**
 * Starts `deno run … main.ts 127.0.0.1:<free port> --http off --db :memory: --no-limits [--echo]` (with
 * `options.http`: `--http 127.0.0.1:<another free port>`) and resolves once its port(s) accept
 * connections. Rejects (after killing it) if it exits or is not ready in time; the log file then
 * says why.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const target: Target = { hostname: "127.0.0.1", port: freePort() };
  let httpTarget: Target | null = null;
  if (options.http) {
    let port = freePort();
    for (let tries = 0; port === target.port && tries < 10; tries++) port = freePort();
    httpTarget = { hostname: "127.0.0.1", port };
  }
  const denoArgs = [
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    "main.ts",
    formatTarget(target),
    "--http",
    httpTarget === null ? "off" : formatTarget(httpTarget),
    "--irc",
    "off",
    "--db",
    options.db ?? ":memory:",
    // Load generators send far faster than a person: flood control off.
    "--no-limits",
    ...(options.echo ? ["--echo"] : []),
    ...(options.extraArgs ?? []),
  ];
  const { command, args } = pinned(options.cpu, Deno.execPath(), denoArgs);
  const spawnedAt = performance.now();
  const child = new Deno.Command(command, {
    args,
    cwd: options.projectDir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  // Both output streams go to the log file; each gets its own append handle.
  await Deno.writeTextFile(options.logPath, "");
  const logDone = Promise.all([child.stdout, child.stderr].map(async (stream) => {
    const file = await Deno.open(options.logPath, { append: true });
    await stream.pipeTo(file.writable).catch(() => {});
  }));

  let exited: Deno.CommandStatus | null = null;
  const status = child.status.then((s) => (exited = s));

  const stop = async (graceMs = 5000): Promise<Deno.CommandStatus> => {
    if (exited === null) {
      try {
        child.kill("SIGTERM");
      } catch {
        // Exited in the meantime.
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Exited in the meantime.
        }
      }, graceMs);
      await status;
      clearTimeout(timer);
    }
    await logDone;
    return await status;
  };

  try {
    const deadline = performance.now() + (options.readyTimeoutMs ?? 60_000);
    for (const t of httpTarget === null ? [target] : [target, httpTarget]) {
      await waitForPort(
        t,
        Math.max(1000, deadline - performance.now()),
        () => exited === null ? null : `server exited with code ${exited.code} before listening`,
      );
    }
  } catch (err) {
    await stop(1000);
    const log = (await Deno.readTextFile(options.logPath)).trim().split("\n").slice(-15).join("\n");
    throw new Error(`${(err as Error).message}; server log (${options.logPath}):\n${log}`);
  }
  const readyMs = Math.round(performance.now() - spawnedAt);
  return { target, httpTarget, commandLine: [command, ...args], pid: child.pid, readyMs, stop };
}
