/**
 * `chat-server healthcheck [URL]`: asks a running server's `/healthz` and
 * exits 0 if it answers 200, else 1. For container health checks, where the
 * image has no curl or wget: the server's own binary asks.
 *
 * @module
 */

import { ConfigError, parseAddress } from "./config.ts";

/** How long to wait for the answer before calling the server unhealthy. */
const TIMEOUT_MS = 5000;

/**
 * The URL to ask: `url` when given, else `/healthz` on the HTTP listener that
 * `CHAT_HTTP` names (default 127.0.0.1:8081); a wildcard host is asked on loopback.
 */
export function healthUrl(url: string | undefined, env: Record<string, string | undefined>): URL {
  if (url !== undefined) {
    try {
      return new URL(url);
    } catch {
      throw new ConfigError(`healthcheck: expected a URL such as http://127.0.0.1:8081/healthz`);
    }
  }
  const raw = env.CHAT_HTTP || "127.0.0.1:8081";
  if (raw === "off") throw new ConfigError("healthcheck: CHAT_HTTP is off: give a URL");
  const { hostname, port } = parseAddress(raw, "CHAT_HTTP");
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "[::1]" : hostname;
  const bracketed = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const scheme = env.CHAT_TLS_CERT ? "https" : "http";
  return new URL(`${scheme}://${bracketed}:${port}/healthz`);
}

/** Asks `url`; resolves to the exit status, with the reason on stderr when unhealthy. */
export async function healthcheck(url: URL): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    await response.body?.cancel();
    if (response.status === 200) return 0;
    console.error(`chat-server healthcheck: ${url} answered ${response.status}`);
  } catch (err) {
    console.error(
      `chat-server healthcheck: ${url}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return 1;
}
