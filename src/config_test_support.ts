/**
 * What the config's tests share: the config a command line gives, the
 * ConfigError it throws, and the defaults.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Config, ConfigError, parseInvocation } from "./config.ts";

/** Environment variables as the config reads them. */
export type Env = Record<string, string | undefined>;

/** The config of a run invocation (fails the test for help or version). */
export function run(args: string[], env: Env = {}): Readonly<Config> {
  const invocation = parseInvocation(args, env);
  assert.equal(invocation.kind, "run");
  if (invocation.kind !== "run") throw new Error("unreachable");
  return invocation.config;
}

/** The message of the ConfigError thrown, checked to be one line. */
export function configError(args: string[], env: Env = {}): string {
  try {
    parseInvocation(args, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    assert.equal(err.name, "ConfigError");
    assert.ok(!err.message.includes("\n"), `not one line: ${JSON.stringify(err.message)}`);
    assert.notEqual(err.message, "");
    return err.message;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(args)} ${JSON.stringify(env)}`);
}

/** The config of no flags and no environment. */
export const DEFAULTS: Config = {
  configFile: null,
  tcp: { hostname: "127.0.0.1", port: 8080 },
  http: { hostname: "127.0.0.1", port: 8081 },
  metrics: null,
  irc: { hostname: "127.0.0.1", port: 6667 },
  ircTls: null,
  serverName: "chat.local",
  allowedOrigins: [],
  echo: false,
  db: "chat.db",
  redis: null,
  tls: null,
  maxLineBytes: 4096,
  maxQueueBytes: 1048576,
  historySize: 10000,
  historyOnJoin: 20,
  quietRoomSize: 200,
  summaryIntervalMs: 5000,
  wsPingTimeoutS: 30,
  flood: {
    lineBurst: 50,
    lineRate: 10,
    byteBurst: 32768,
    byteRate: 4096,
    maxWaitingBytes: 65536,
  },
  connections: {
    maxConnections: 10000,
    maxPerAddress: 16,
    maxNewPerMinute: 60,
    limitLoopback: false,
  },
  password: null,
  adminPassword: null,
  authFailures: { failuresPerMinute: 10, limitLoopback: false },
  limitLoopback: false,
  trustedProxies: [],
  idleTimeoutMs: 300_000,
  drainTimeoutMs: 5000,
  memoryTrimBytes: 32 * 1024 * 1024,
  logLevel: "info",
  logFormat: "text",
};
