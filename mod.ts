/**
 * The chat server as a module, for a Deno program that hosts the chat
 * itself. {@link startServer} takes the command line's options in camelCase
 * (`maxLineBytes` for `--max-line-bytes`), the chat address as `tcp`, and
 * resolves once every listener is bound.
 *
 * ```ts
 * import { startServer } from "./mod.ts";
 *
 * const chat = await startServer({ tcp: "127.0.0.1:0", http: "off", irc: "off", db: ":memory:" });
 * const conn = await Deno.connect(chat.tcp);
 * const buffer = new Uint8Array(1024);
 * const n = await conn.read(buffer);
 * const welcome = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
 * if (!welcome.startsWith("* welcome")) throw new Error(`unexpected: ${welcome}`);
 * conn.close();
 * await chat.shutdown();
 * ```
 *
 * Defaults are the command line's: a server started with `{}` listens on
 * 127.0.0.1:8080, 8081 (HTTP) and 6667 (IRC) and keeps history in `chat.db`.
 * `CHAT_*` environment variables are not read: the host program decides.
 * Logs go to LogTape's `chat` category; give `logLevel` or `logFormat` to
 * have them written to stderr as the command line does, or configure LogTape
 * in the host program.
 *
 * @module
 */

import { ConfigError, type ListenAddress, parseInvocation } from "./src/config.ts";
import { setupLogging } from "./src/log.ts";
import { launch, StartError } from "./src/launch.ts";

export { ConfigError, StartError };

/** An option's value: flags with a value take a string or number, switches a boolean. */
type OptionValue = string | number | boolean | readonly string[] | undefined;

/**
 * The command line's options in camelCase; each one is checked as its flag
 * is, with the same error. `tcp` is the command line's `HOST:PORT`.
 */
export interface ServerOptions {
  /** Chat listener for text lines (and IRC), `HOST:PORT`; default 127.0.0.1:8080. */
  tcp?: string;
  /** HTTP listener (web client, /ws, /healthz, /metrics), or "off". */
  http?: string;
  /** IRC listener, or "off". */
  irc?: string;
  /** An internal listener serving only /metrics and /healthz, or "off". */
  metrics?: string;
  ircTls?: string;
  serverName?: string;
  /** Origins that may open /ws besides the server's own: a list or a comma-separated string. */
  allowedOrigins?: string | readonly string[];
  tlsCert?: string;
  tlsKey?: string;
  /** Cluster mode: `redis://host:port`. */
  redis?: string;
  /** History database file; ":memory:" keeps nothing. */
  db?: string;
  maxLineBytes?: number;
  maxQueueBytes?: number;
  historySize?: number;
  historyOnJoin?: number;
  quietRoomSize?: number;
  floodBurst?: number;
  floodRate?: number;
  floodBytesBurst?: number;
  floodBytesRate?: number;
  floodMaxWaiting?: number;
  maxConnections?: number;
  maxPerAddress?: number;
  maxNewPerMinute?: number;
  limitLoopback?: boolean;
  /** Proxies believed for the client's address (PROXY protocol, X-Forwarded-For): CIDRs. */
  trustedProxies?: string | readonly string[];
  password?: string;
  passwordFile?: string;
  adminPassword?: string;
  adminPasswordFile?: string;
  maxAuthFailures?: number;
  /** UNSAFE: no flood control, no connection limits (benchmarks). */
  noLimits?: boolean;
  /** Seconds. */
  idleTimeout?: number;
  /** Seconds. */
  drainTimeout?: number;
  /** MiB of growth after which a quiet server hands memory back (0: never). */
  memoryTrim?: number;
  logLevel?: "debug" | "info" | "warning" | "error";
  logFormat?: "text" | "json";
  echo?: boolean;
  /** A config file (TOML, or JSON): options given here override it. */
  config?: string;
  /** Any other flag of the command line, in camelCase; checked when the server starts. */
  [flag: string]: OptionValue;
}

/** A running embedded server. */
export interface EmbeddedServer extends AsyncDisposable {
  /** Where the chat listener is bound, with the real port when 0 was asked. */
  readonly tcp: ListenAddress;
  /** The HTTP listener; `null` when off. */
  readonly http: ListenAddress | null;
  /** The IRC listener; `null` when off. */
  readonly irc: ListenAddress | null;
  /** The internal metrics listener (`metrics`), or null. */
  readonly metrics: ListenAddress | null;
  /** Graceful stop, as on SIGTERM: clients are told, output drained, the store closed. */
  shutdown(): Promise<void>;
}

/** `maxLineBytes` -> `max-line-bytes`. */
function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The command line that says what `options` say, so both are checked by the same code. */
export function optionsToArgs(options: ServerOptions): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || key === "tcp") continue;
    if (key === "help" || key === "version") {
      throw new ConfigError(`${key}: a command-line option only`);
    }
    const flag = `--${flagName(key)}`;
    if (typeof value === "boolean") {
      if (value) args.push(flag);
    } else if (Array.isArray(value)) {
      args.push(`${flag}=${value.join(",")}`);
    } else {
      args.push(`${flag}=${value}`);
    }
  }
  if (options.tcp !== undefined) args.push("--", options.tcp);
  return args;
}

function plain(addr: Deno.NetAddr | null): ListenAddress | null {
  return addr === null ? null : { hostname: addr.hostname, port: addr.port };
}

/**
 * Starts a chat server in this process. Rejects with {@link ConfigError} for
 * a bad option (the message names the flag, as the command line's does) and
 * with {@link StartError} when the store, Redis, the certificate or an
 * address is unusable.
 */
export async function startServer(options: ServerOptions = {}): Promise<EmbeddedServer> {
  const invocation = parseInvocation(optionsToArgs(options), {});
  if (invocation.kind !== "run") throw new ConfigError("help and version: command-line only");
  const { config } = invocation;
  if (options.logLevel !== undefined || options.logFormat !== undefined) {
    setupLogging(config.logLevel, config.logFormat);
  }
  const server = await launch(config);
  return {
    tcp: plain(server.tcpAddr)!,
    http: plain(server.httpAddr),
    irc: plain(server.ircAddr),
    metrics: plain(server.metricsAddr),
    shutdown: () => server.shutdown(),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
