/**
 * Flags and environment -> one validated, frozen {@link Config}. Every default
 * lives here, and nothing else in the program reads flags or the environment.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ADDR_ENV, DEFAULT_TCP, type FlagName, FLAGS, type FlagSpec, helpText } from "./flags.ts";
import { type FileValues, readConfigFile } from "./config_file.ts";
import { parseCidrs, parseOrigins, parseRedisUrl, parseTls, secret } from "./config_values.ts";

export { type FlagName, helpText, isBooleanFlag, isFileKey } from "./flags.ts";

/** A host and port to listen on. */
export interface ListenAddress {
  hostname: string;
  port: number;
}

/** Everything the server is told at start. */
export interface Config {
  /** The `--config` file the settings were read from (and are re-read from on reload); `null` for none. */
  configFile: string | null;
  /** TCP listener (text lines). */
  tcp: ListenAddress;
  /** HTTP listener (web client, WebSocket, health, metrics); `null` when off. */
  http: ListenAddress | null;
  /** Internal listener for `/metrics` and `/healthz` only (`--metrics`); `null` when off. */
  metrics: ListenAddress | null;
  /** IRC listener (`--irc`); `null` when off. */
  irc: ListenAddress | null;
  /** IRC over TLS (`--irc-tls`, with `--tls-cert`); `null` when off. */
  ircTls: ListenAddress | null;
  /** The server's name in IRC numerics and prefixes. */
  serverName: string;
  /** Browser origins allowed to open `/ws` besides the server's own. */
  allowedOrigins: readonly string[];
  /** Echo mode: the tutorial's stage-2 server, no rooms. */
  echo: boolean;
  /** History database path; `:memory:` keeps nothing. */
  db: string;
  /** Cluster mode: the Redis URL; `null` for a single process. */
  redis: string | null;
  /** TLS for both listeners: PEM files; `null` for plain TCP and HTTP. */
  tls: { certFile: string; keyFile: string } | null;
  maxLineBytes: number;
  maxQueueBytes: number;
  historySize: number;
  historyOnJoin: number;
  /** Rooms above this size announce joins and leaves as periodic summaries. */
  quietRoomSize: number;
  /** How often those summaries go out, in milliseconds. */
  summaryIntervalMs: number;
  /** WebSocket keep-alive: seconds of silence before a ping, and to wait for its pong. */
  wsPingTimeoutS: number;
  /** Per-client flood control; `null` with `--no-limits`. */
  flood: {
    lineBurst: number;
    lineRate: number;
    byteBurst: number;
    byteRate: number;
    maxWaitingBytes: number;
  } | null;
  /** Connection limits; `null` with `--no-limits`. */
  connections: {
    maxConnections: number;
    maxPerAddress: number;
    maxNewPerMinute: number;
    limitLoopback: boolean;
  } | null;
  /** The server password clients must `/pass` first; `null` for an open server. */
  password: string | null;
  /** The server operators' password (`/admin`); `null` for none. */
  adminPassword: string | null;
  /** Failed password attempts per address; `null` with `--no-limits`. */
  authFailures: { failuresPerMinute: number; limitLoopback: boolean } | null;
  /** Bans by address and per-address limits apply to loopback addresses too. */
  limitLoopback: boolean;
  /** Peers (CIDR blocks) whose PROXY header or X-Forwarded-For names the real client. */
  trustedProxies: readonly string[];
  /** TCP idle timeout in milliseconds (0: none). */
  idleTimeoutMs: number;
  /** How long shutdown waits for queued output, in milliseconds. */
  drainTimeoutMs: number;
  /** Resident growth after which a quiet server trims its memory, in bytes (0: never). */
  memoryTrimBytes: number;
  logLevel: LogLevel;
  logFormat: "text" | "json";
}

export type LogLevel = "debug" | "info" | "warning" | "error";

/** What the command line asked for. */
export type Invocation =
  | { kind: "run"; config: Readonly<Config> }
  | { kind: "backup"; db: string; file: string; force: boolean }
  | { kind: "help"; text: string }
  | { kind: "version" };

/** A bad flag, value or environment variable: reported in one line, exit status 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Parses `args` (without the program name) and `env`. Throws
 * {@link ConfigError} with a one-line message for anything wrong.
 */
export function parseInvocation(
  args: string[],
  env: Record<string, string | undefined> = {},
): Invocation {
  const options = Object.fromEntries(
    Object.entries(FLAGS).map(([name, spec]) => [name, { type: spec.type }]),
  ) as Record<FlagName, { type: "string" | "boolean" }>;
  // `deno task start -- --echo` passes the `--` on: it only separates, it is no argument.
  if (args[0] === "--") args = args.slice(1);
  if (args[0] === "backup") return parseBackup(args.slice(1), env);
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const unknown = /Unknown option '([^']+)'/.exec(String(err));
    if (unknown) throw new ConfigError(`unknown option ${unknown[1]}`);
    throw new ConfigError(err instanceof Error ? err.message.split("\n")[0] : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help", text: helpText() };
  if (values.version) return { kind: "version" };
  if (positionals.length > 1) {
    throw new ConfigError(`expected at most one address, got: ${positionals.join(" ")}`);
  }

  // Flags and the environment override the file, which overrides the defaults.
  const configFile = values.config !== undefined
    ? String(values.config)
    : (env[FLAGS.config.env] || undefined);
  const file: FileValues = configFile === undefined ? new Map() : readConfigFile(configFile);

  /** The flag's value, else its environment variable, else the file's, else its default. */
  const pick = (name: FlagName): { value: string | undefined; from: string } => {
    const spec: FlagSpec = FLAGS[name];
    const flag = values[name];
    if (flag !== undefined) return { value: String(flag), from: `--${name}` };
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, from: spec.env };
    const inFile = file.get(name);
    if (inFile !== undefined) return { value: String(inFile.value), from: inFile.from };
    return { value: spec.default, from: `--${name}` };
  };
  const int = (name: FlagName, min: number, max: number): number => {
    const { value, from } = pick(name);
    if (
      value === undefined || !/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max
    ) {
      throw new ConfigError(
        `${from}: expected a whole number from ${min} to ${max}, got '${value}'`,
      );
    }
    return Number(value);
  };
  const oneOf = <T extends string>(name: FlagName, allowed: readonly T[]): T => {
    const { value, from } = pick(name);
    if (!allowed.includes(value as T)) {
      throw new ConfigError(`${from}: expected one of ${allowed.join(", ")}, got '${value}'`);
    }
    return value as T;
  };
  const bool = (name: FlagName): boolean => {
    if (values[name] !== undefined) return Boolean(values[name]);
    const spec: FlagSpec = FLAGS[name];
    const raw = env[spec.env]?.toLowerCase();
    if (raw === undefined || raw === "") return file.get(name)?.value === true;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    throw new ConfigError(`${spec.env}: expected true or false, got '${raw}'`);
  };

  const fileTcp = file.get("address");
  const tcpRaw = positionals[0] ?? (env[ADDR_ENV] || String(fileTcp?.value ?? DEFAULT_TCP));
  const http = pick("http");
  const metrics = pick("metrics");
  const irc = pick("irc");
  const ircTls = pick("irc-tls");
  const serverName = pick("server-name");
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(serverName.value ?? "")) {
    throw new ConfigError(
      `${serverName.from}: expected a host name (letters, digits, '.', '-'), got '${serverName.value}'`,
    );
  }
  const db = pick("db");
  if (db.value === undefined || db.value === "") throw new ConfigError(`${db.from}: empty path`);
  const maxLineBytes = int("max-line-bytes", 64, 1 << 20);
  const maxQueueBytes = int("max-queue-bytes", 4096, 1 << 30);
  if (maxQueueBytes < maxLineBytes * 2) {
    throw new ConfigError(
      `--max-queue-bytes (${maxQueueBytes}) must be at least twice --max-line-bytes (${maxLineBytes})`,
    );
  }
  const config: Config = {
    configFile: configFile ?? null,
    tcp: parseAddress(
      tcpRaw,
      positionals[0] !== undefined
        ? "address"
        : env[ADDR_ENV]
        ? ADDR_ENV
        : fileTcp?.from ?? ADDR_ENV,
    ),
    http: http.value === "off" ? null : parseAddress(http.value ?? "", http.from),
    metrics: metrics.value === "off" ? null : parseAddress(metrics.value ?? "", metrics.from),
    irc: irc.value === "off" ? null : parseAddress(irc.value ?? "", irc.from),
    ircTls: ircTls.value === "off" ? null : parseAddress(ircTls.value ?? "", ircTls.from),
    serverName: serverName.value!,
    allowedOrigins: parseOrigins(pick("allowed-origins")),
    echo: bool("echo"),
    db: db.value,
    redis: parseRedisUrl(pick("redis")),
    tls: parseTls(pick("tls-cert"), pick("tls-key")),
    maxLineBytes,
    maxQueueBytes,
    historySize: int("history-size", 1, 10_000_000),
    historyOnJoin: int("history-on-join", 0, 1000),
    quietRoomSize: int("quiet-room-size", 1, 10_000_000),
    summaryIntervalMs: 5000,
    wsPingTimeoutS: 30,
    flood: bool("no-limits") ? null : {
      lineBurst: int("flood-burst", 1, 1_000_000),
      lineRate: int("flood-rate", 1, 1_000_000),
      byteBurst: int("flood-bytes-burst", 1, 1 << 30),
      byteRate: int("flood-bytes-rate", 1, 1 << 30),
      maxWaitingBytes: int("flood-max-waiting", 1, 1 << 30),
    },
    connections: bool("no-limits") ? null : {
      maxConnections: int("max-connections", 1, 10_000_000),
      maxPerAddress: int("max-per-address", 1, 10_000_000),
      maxNewPerMinute: int("max-new-per-minute", 1, 10_000_000),
      limitLoopback: bool("limit-loopback"),
    },
    password: secret(pick("password"), pick("password-file")),
    adminPassword: secret(pick("admin-password"), pick("admin-password-file")),
    authFailures: bool("no-limits") ? null : {
      failuresPerMinute: int("max-auth-failures", 1, 1_000_000),
      limitLoopback: bool("limit-loopback"),
    },
    limitLoopback: bool("limit-loopback"),
    trustedProxies: parseCidrs(pick("trusted-proxies")),
    idleTimeoutMs: int("idle-timeout", 0, 86_400) * 1000,
    drainTimeoutMs: int("drain-timeout", 0, 3600) * 1000,
    memoryTrimBytes: int("memory-trim", 0, 1_048_576) * 1024 * 1024,
    logLevel: oneOf("log-level", ["debug", "info", "warning", "error"] as const),
    logFormat: oneOf("log-format", ["text", "json"] as const),
  };
  if (config.http !== null) Object.freeze(config.http);
  if (config.metrics !== null) Object.freeze(config.metrics);
  if (config.ircTls !== null && config.tls === null) {
    throw new ConfigError("--irc-tls needs --tls-cert and --tls-key");
  }
  Object.freeze(config.allowedOrigins);
  Object.freeze(config.trustedProxies);
  Object.freeze(config.tcp);
  if (config.flood !== null) Object.freeze(config.flood);
  if (config.connections !== null) Object.freeze(config.connections);
  if (config.authFailures !== null) Object.freeze(config.authFailures);
  return { kind: "run", config: Object.freeze(config) };
}

const BACKUP_HELP = `usage: chat-server backup FILE [--db PATH] [--force]

Copies the history database to FILE with SQLite's online backup: consistent,
and safe while the server runs.

  --db PATH   the database, found as the server finds it (default chat.db; env CHAT_DB)
  --force     overwrite FILE if it exists
`;

/** `backup FILE [--db PATH] [--force]`: the database is found as the server finds it. */
function parseBackup(args: string[], env: Record<string, string | undefined>): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        db: { type: "string" },
        force: { type: "boolean" },
        help: { type: "boolean" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    const unknown = /Unknown option '([^']+)'/.exec(String(err));
    if (unknown) throw new ConfigError(`backup: unknown option ${unknown[1]}`);
    throw new ConfigError(`backup: ${err instanceof Error ? err.message.split("\n")[0] : err}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help", text: BACKUP_HELP };
  if (positionals.length !== 1 || positionals[0] === "") {
    throw new ConfigError("backup: expected one FILE to write the backup to");
  }
  const db = values.db ?? (env[FLAGS.db.env] || FLAGS.db.default);
  if (db === "") throw new ConfigError("backup --db: empty path");
  if (db === ":memory:") throw new ConfigError("backup: ':memory:' keeps nothing to back up");
  return { kind: "backup", db, file: positionals[0], force: values.force ?? false };
}

/**
 * `HOST:PORT`, `[V6]:PORT`, `:PORT` (every interface, as in Go) or a bare
 * `PORT` (loopback only: the safe default).
 */
export function parseAddress(raw: string, what = "address"): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):([0-9]{1,5})$/.exec(raw) ??
    /^()()([0-9]{1,5})$/.exec(raw);
  const port = m ? Number(m[3]) : NaN;
  if (m === null || port > 65535) {
    throw new ConfigError(`${what}: expected HOST:PORT (such as 127.0.0.1:8080), got '${raw}'`);
  }
  const hostname = m[1] || m[2] || (raw.startsWith(":") ? "0.0.0.0" : "127.0.0.1");
  return { hostname, port };
}
