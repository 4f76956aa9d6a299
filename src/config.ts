/**
 * Flags and environment -> one validated, frozen {@link Config}. Every default
 * lives here, and nothing else in the program reads flags or the environment.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CidrError, CidrSet } from "./transport/cidr.ts";
import { type FileValues, readConfigFile } from "./config_file.ts";

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

interface FlagSpec {
  /** Environment variable that sets it when the flag is absent. */
  env: string;
  type: "string" | "boolean";
  arg?: string;
  help: string;
  default?: string;
}

/** Every flag with its environment variable, default and help text. */
const FLAGS = {
  config: {
    env: "CHAT_CONFIG",
    type: "string",
    arg: "FILE",
    help: "settings file (TOML, or JSON if it ends in .json): keys are these flags' names; " +
      "flags and env override it; re-read on SIGHUP and /rehash",
  },
  echo: {
    env: "CHAT_ECHO",
    type: "boolean",
    help: "echo mode: every line comes back to its sender only",
  },
  http: {
    env: "CHAT_HTTP",
    type: "string",
    arg: "ADDR",
    default: "127.0.0.1:8081",
    help: "HTTP listener (web client, /ws, /healthz, /metrics), or 'off'",
  },
  metrics: {
    env: "CHAT_METRICS",
    type: "string",
    arg: "ADDR",
    default: "off",
    help: "internal listener serving /metrics and /healthz only (such as 10.0.0.5:9464), or 'off'",
  },
  irc: {
    env: "CHAT_IRC",
    type: "string",
    arg: "ADDR",
    default: "127.0.0.1:6667",
    help: "IRC listener (irssi, WeeChat, bots), or 'off'",
  },
  "irc-tls": {
    env: "CHAT_IRC_TLS",
    type: "string",
    arg: "ADDR",
    default: "off",
    help: "IRC over TLS, with --tls-cert and --tls-key (such as 0.0.0.0:6697), or 'off'",
  },
  "server-name": {
    env: "CHAT_SERVER_NAME",
    type: "string",
    arg: "NAME",
    default: "chat.local",
    help: "the server's name in IRC numerics and prefixes",
  },
  "allowed-origins": {
    env: "CHAT_ALLOWED_ORIGINS",
    type: "string",
    arg: "LIST",
    help:
      "comma-separated origins (https://example.com) that may open /ws besides the server's own",
  },
  "tls-cert": {
    env: "CHAT_TLS_CERT",
    type: "string",
    arg: "FILE",
    help: "PEM certificate: the TCP listener speaks TLS and HTTP serves HTTPS and WSS",
  },
  "tls-key": {
    env: "CHAT_TLS_KEY",
    type: "string",
    arg: "FILE",
    help: "PEM private key of --tls-cert",
  },
  redis: {
    env: "CHAT_REDIS",
    type: "string",
    arg: "URL",
    help:
      "cluster mode: share rooms, nicks, presence and history through Redis (redis://host:port)",
  },
  db: {
    env: "CHAT_DB",
    type: "string",
    arg: "PATH",
    default: "chat.db",
    help: "history database file; ':memory:' keeps nothing",
  },
  "max-line-bytes": {
    env: "CHAT_MAX_LINE_BYTES",
    type: "string",
    arg: "N",
    default: "4096",
    help: "longest accepted line in bytes (64 to 1048576)",
  },
  "max-queue-bytes": {
    env: "CHAT_MAX_QUEUE_BYTES",
    type: "string",
    arg: "N",
    default: "1048576",
    help: "outbound queue per client in bytes; a client past it is disconnected",
  },
  "history-size": {
    env: "CHAT_HISTORY_SIZE",
    type: "string",
    arg: "N",
    default: "10000",
    help: "messages kept per room",
  },
  "history-on-join": {
    env: "CHAT_HISTORY_ON_JOIN",
    type: "string",
    arg: "N",
    default: "20",
    help: "recent messages replayed on join (0: none)",
  },
  "quiet-room-size": {
    env: "CHAT_QUIET_ROOM_SIZE",
    type: "string",
    arg: "N",
    default: "200",
    help: "above this many members, joins and leaves are summarized every 5 s",
  },
  "flood-burst": {
    env: "CHAT_FLOOD_BURST",
    type: "string",
    arg: "N",
    default: "50",
    help: "lines a client may send at once before it is slowed",
  },
  "flood-rate": {
    env: "CHAT_FLOOD_RATE",
    type: "string",
    arg: "N",
    default: "10",
    help: "lines per second a slowed client may send",
  },
  "flood-bytes-burst": {
    env: "CHAT_FLOOD_BYTES_BURST",
    type: "string",
    arg: "N",
    default: "32768",
    help: "bytes a client may send at once before it is slowed",
  },
  "flood-bytes-rate": {
    env: "CHAT_FLOOD_BYTES_RATE",
    type: "string",
    arg: "N",
    default: "4096",
    help: "bytes per second a slowed client may send",
  },
  "flood-max-waiting": {
    env: "CHAT_FLOOD_MAX_WAITING",
    type: "string",
    arg: "N",
    default: "65536",
    help:
      "bytes of a slowed client's input that may wait (each line counts 64 more); past it: excess flood, disconnected",
  },
  "max-connections": {
    env: "CHAT_MAX_CONNECTIONS",
    type: "string",
    arg: "N",
    default: "10000",
    help: "connections in all (TCP and WebSocket); past it new ones get an error and are closed",
  },
  "max-per-address": {
    env: "CHAT_MAX_PER_ADDRESS",
    type: "string",
    arg: "N",
    default: "16",
    help: "concurrent connections from one address (loopback exempt unless --limit-loopback)",
  },
  "max-new-per-minute": {
    env: "CHAT_MAX_NEW_PER_MINUTE",
    type: "string",
    arg: "N",
    default: "60",
    help: "new connections per minute from one address (loopback exempt unless --limit-loopback)",
  },
  "limit-loopback": {
    env: "CHAT_LIMIT_LOOPBACK",
    type: "boolean",
    help: "apply the per-address limits to loopback addresses too",
  },
  "trusted-proxies": {
    env: "CHAT_TRUSTED_PROXIES",
    type: "string",
    arg: "LIST",
    help: "comma-separated CIDRs (10.0.0.0/8, ::1) whose PROXY header or X-Forwarded-For " +
      "names the real client; from anyone else a PROXY header is refused",
  },
  password: {
    env: "CHAT_PASSWORD",
    type: "string",
    arg: "PASSWORD",
    help:
      "server password clients must send with /pass first (visible to ps: prefer --password-file)",
  },
  "password-file": {
    env: "CHAT_PASSWORD_FILE",
    type: "string",
    arg: "FILE",
    help: "read the server password from the first line of FILE",
  },
  "admin-password": {
    env: "CHAT_ADMIN_PASSWORD",
    type: "string",
    arg: "PASSWORD",
    help: "password for /admin: server operators moderate every room and see /stats " +
      "(prefer --admin-password-file)",
  },
  "admin-password-file": {
    env: "CHAT_ADMIN_PASSWORD_FILE",
    type: "string",
    arg: "FILE",
    help: "read the server operators' password from the first line of FILE",
  },
  "max-auth-failures": {
    env: "CHAT_MAX_AUTH_FAILURES",
    type: "string",
    arg: "N",
    default: "10",
    help:
      "failed password attempts per address per minute (loopback exempt unless --limit-loopback)",
  },
  "no-limits": {
    env: "CHAT_NO_LIMITS",
    type: "boolean",
    help: "UNSAFE: turns flood control and connection limits off (for benchmarks)",
  },
  "idle-timeout": {
    env: "CHAT_IDLE_TIMEOUT",
    type: "string",
    arg: "SECONDS",
    default: "300",
    help:
      "a TCP client silent this long gets '* ping'; silent as long again, it is closed (0: never)",
  },
  "drain-timeout": {
    env: "CHAT_DRAIN_TIMEOUT",
    type: "string",
    arg: "SECONDS",
    default: "5",
    help: "how long shutdown waits for queued output",
  },
  "log-level": {
    env: "CHAT_LOG_LEVEL",
    type: "string",
    arg: "LEVEL",
    default: "info",
    help: "debug, info, warning or error",
  },
  "log-format": {
    env: "CHAT_LOG_FORMAT",
    type: "string",
    arg: "FORMAT",
    default: "text",
    help: "text (readable lines) or json (one JSON object per line)",
  },
  help: { env: "", type: "boolean", help: "show this help and exit" },
  version: { env: "", type: "boolean", help: "show the version and exit" },
} as const satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof FLAGS;

/** Whether `name` is a flag a config file may set (not `config`, `help` or `version`). */
export function isFileKey(name: string): name is FlagName {
  return Object.hasOwn(FLAGS, name) && !["config", "help", "version"].includes(name);
}

/** Whether the flag `name` is on/off rather than taking a value. */
export function isBooleanFlag(name: FlagName): boolean {
  return FLAGS[name].type === "boolean";
}

/** Environment variable for the positional TCP address. */
const ADDR_ENV = "CHAT_ADDR";
const DEFAULT_TCP = "127.0.0.1:8080";

/** The `--help` text, generated from the flag table so the two cannot drift. */
export function helpText(program = "chat-server"): string {
  const rows: [string, string][] = [];
  for (const [name, spec] of Object.entries(FLAGS) as [FlagName, FlagSpec][]) {
    const left = `  --${name}${spec.arg ? ` ${spec.arg}` : ""}`;
    const extra = [
      spec.default !== undefined ? `default ${spec.default}` : "",
      spec.env ? `env ${spec.env}` : "",
    ].filter(Boolean).join("; ");
    rows.push([left, extra ? `${spec.help} (${extra})` : spec.help]);
  }
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return [
    `usage: ${program} [HOST:PORT] [options]`,
    `       ${program} healthcheck [URL]   (exit status 0 if /healthz answers 200)`,
    `       ${program} backup FILE [--db PATH] [--force]`,
    "",
    "A chat server: nc/telnet users, WebSocket clients and browsers in shared rooms.",
    "",
    `  HOST:PORT           TCP listener for text lines (default ${DEFAULT_TCP}; env ${ADDR_ENV})`,
    "",
    "options:",
    ...rows.map(([l, r]) => l.padEnd(width) + r),
    "",
  ].join("\n");
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

/** A password given inline or as the first line of a file (not both); `null` for none. */
function secret(
  inline: { value: string | undefined; from: string },
  file: { value: string | undefined; from: string },
): string | null {
  if (inline.value && file.value) {
    throw new ConfigError(`${inline.from} and ${file.from}: give one of them`);
  }
  let value = inline.value;
  if (file.value) {
    try {
      value = Deno.readTextFileSync(file.value).split(/\r?\n/)[0];
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new ConfigError(`${file.from}: cannot read ${file.value}: ${why}`);
    }
    if (value.trim() === "") {
      throw new ConfigError(`${file.from}: ${file.value} has an empty first line`);
    }
  }
  if (value === undefined || value === "") return null;
  return value;
}

/** Both files or neither. */
function parseTls(
  cert: { value: string | undefined; from: string },
  key: { value: string | undefined; from: string },
): { certFile: string; keyFile: string } | null {
  if (!cert.value && !key.value) return null;
  if (!cert.value) throw new ConfigError(`${key.from} needs --tls-cert too`);
  if (!key.value) throw new ConfigError(`${cert.from} needs --tls-key too`);
  return { certFile: cert.value, keyFile: key.value };
}

/** `redis://host[:port]`, or nothing. */
function parseRedisUrl(
  { value, from }: { value: string | undefined; from: string },
): string | null {
  if (value === undefined || value === "") return null;
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (url === null || (url.protocol !== "redis:" && url.protocol !== "rediss:") || !url.hostname) {
    throw new ConfigError(`${from}: expected a URL such as redis://127.0.0.1:6379, got '${value}'`);
  }
  return value;
}

/** A comma-separated list of CIDR blocks, each checked. */
function parseCidrs({ value, from }: { value: string | undefined; from: string }): string[] {
  if (value === undefined || value.trim() === "") return [];
  const entries = value.split(",").map((raw) => raw.trim()).filter((e) => e !== "");
  try {
    new CidrSet(entries);
  } catch (err) {
    if (err instanceof CidrError) throw new ConfigError(`${from}: ${err.message}`);
    throw err;
  }
  return entries;
}

/** A comma-separated list of origins, each `scheme://host[:port]` with nothing after. */
function parseOrigins({ value, from }: { value: string | undefined; from: string }): string[] {
  if (value === undefined || value.trim() === "") return [];
  return value.split(",").map((raw) => raw.trim()).filter((o) => o !== "").map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(
        `${from}: '${origin}' is not an origin such as https://chat.example.com`,
      );
    }
    if (url.origin !== origin.replace(/\/$/, "") || url.origin === "null") {
      throw new ConfigError(
        `${from}: '${origin}' is not an origin such as https://chat.example.com`,
      );
    }
    return url.origin;
  });
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

/** `host:port` with brackets around IPv6 hosts, for logs and messages. */
export { formatAddress } from "./transport/address.ts";
