/**
 * The command line's flags, in one table: each flag's environment variable,
 * default and help text, from which `--help`, the config file's keys and the
 * parser (config.ts) all read, so they cannot drift apart.
 *
 * @module
 */

export interface FlagSpec {
  /** Environment variable that sets it when the flag is absent. */
  env: string;
  type: "string" | "boolean";
  arg?: string;
  help: string;
  default?: string;
}

/** Every flag with its environment variable, default and help text. */
export const FLAGS = {
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
  "memory-trim": {
    env: "CHAT_MEMORY_TRIM",
    type: "string",
    arg: "MIB",
    default: "32",
    help: "once memory grew this much, a quiet server hands it back (0: never)",
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
export const ADDR_ENV = "CHAT_ADDR";
export const DEFAULT_TCP = "127.0.0.1:8080";

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
