/**
 * Live reload (SIGHUP, `/rehash`): the command line is parsed again, which
 * re-reads the config file and the password files and validates every value
 * as at start; then what may change live is applied and what may not is
 * reported (it keeps its running value until a restart).
 *
 * @module
 */

import { type Config, ConfigError, parseInvocation } from "./config.ts";

/** Each setting's name as the operator knows it (the flag's). */
const NAMES: Record<keyof Config, string> = {
  configFile: "config",
  tcp: "address",
  http: "http",
  metrics: "metrics",
  irc: "irc",
  ircTls: "irc-tls",
  serverName: "server-name",
  allowedOrigins: "allowed-origins",
  echo: "echo",
  db: "db",
  redis: "redis",
  tls: "tls-cert/tls-key",
  maxLineBytes: "max-line-bytes",
  maxQueueBytes: "max-queue-bytes",
  historySize: "history-size",
  historyOnJoin: "history-on-join",
  quietRoomSize: "quiet-room-size",
  summaryIntervalMs: "summary-interval",
  wsPingTimeoutS: "ws-ping-timeout",
  flood: "flood-*",
  connections: "max-connections/max-per-address/max-new-per-minute",
  password: "password",
  adminPassword: "admin-password",
  authFailures: "max-auth-failures",
  limitLoopback: "limit-loopback",
  trustedProxies: "trusted-proxies",
  idleTimeoutMs: "idle-timeout",
  drainTimeoutMs: "drain-timeout",
  memoryTrimBytes: "memory-trim",
  logLevel: "log-level",
  logFormat: "log-format",
};

/** Settings the running server can take on without a restart. */
const LIVE = new Set<keyof Config>([
  "allowedOrigins",
  "tls",
  "maxLineBytes",
  "maxQueueBytes",
  "historyOnJoin",
  "quietRoomSize",
  "flood",
  "connections",
  "password",
  "adminPassword",
  "authFailures",
  "limitLoopback",
  "drainTimeoutMs",
  "logLevel",
]);

/** Settings that are `null` with `--no-limits` (or without TLS): turning them on or off needs a restart. */
const NULLABLE_LIVE = new Set<keyof Config>(["flood", "connections", "authFailures", "tls"]);

/** What a reload does: the config to run with, and the settings' names that changed. */
export interface ReloadPlan {
  /** `next` with every setting that cannot change live kept at its running value. */
  config: Readonly<Config>;
  /** Changed and applied live. */
  applied: string[];
  /** Changed in the file or environment but kept until a restart. */
  restart: string[];
}

/** Compares the running config with a freshly parsed one. */
export function planReload(running: Readonly<Config>, next: Readonly<Config>): ReloadPlan {
  const config = { ...next } as Record<keyof Config, unknown>;
  const applied: string[] = [];
  const restart: string[] = [];
  for (const key of Object.keys(NAMES) as (keyof Config)[]) {
    const before = running[key];
    const after = next[key];
    if (JSON.stringify(before) === JSON.stringify(after)) continue;
    const live = LIVE.has(key) &&
      !(NULLABLE_LIVE.has(key) && (before === null) !== (after === null));
    if (live) {
      applied.push(NAMES[key]);
    } else {
      restart.push(NAMES[key]);
      config[key] = before;
    }
  }
  return { config: Object.freeze(config as unknown as Config), applied, restart };
}

/**
 * Parses `args` and `env` again (reading the config file and password files
 * afresh) and plans the reload. Throws {@link ConfigError} for a bad file.
 */
export function reparse(
  running: Readonly<Config>,
  args: string[],
  env: Record<string, string | undefined>,
): ReloadPlan {
  const invocation = parseInvocation(args, env);
  if (invocation.kind !== "run") throw new ConfigError("unexpected --help or --version");
  return planReload(running, invocation.config);
}

/**
 * One line for the log and the `/rehash` reply. With TLS the certificate is
 * re-read for every TLS listener (HTTPS included: see http_front.ts).
 */
export function describeReload(plan: ReloadPlan, tls: { reread: boolean }): string {
  const parts = [
    plan.applied.length > 0 ? `applied ${plan.applied.join(", ")}` : "no setting changed",
  ];
  if (tls.reread) parts.push("TLS certificate re-read");
  if (plan.restart.length > 0) parts.push(`needs a restart: ${plan.restart.join(", ")}`);
  return `config reloaded: ${parts.join("; ")}`;
}
