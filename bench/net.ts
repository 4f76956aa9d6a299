/**
 * Small network helpers for the benchmark: parsing a `HOST:PORT` target (loopback only), finding a
 * free port and waiting until a port accepts connections.
 *
 * @module
 */

import { formatAddress } from "../src/transport/address.ts";

/** A TCP endpoint. */
export interface Target {
  /** Host name or literal address, without brackets. */
  hostname: string;
  /** TCP port, 1..65535. */
  port: number;
}

/** Whether `hostname` is a loopback name or address (127.0.0.0/8, ::1, localhost). */
export function isLoopback(hostname: string): boolean {
  if (hostname === "localhost" || hostname === "::1") return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  return m !== null && m.slice(1).every((part) => Number(part) <= 255);
}

/**
 * Parses `HOST:PORT` (`[::1]:PORT` for IPv6). The benchmark only ever targets this machine, so a
 * host that is not a loopback address is refused.
 */
export function parseTarget(text: string): Target {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text.trim());
  if (m === null) throw new Error(`target must look like 127.0.0.1:PORT, got "${text}"`);
  const hostname = m[1] ?? m[2];
  const port = Number(m[3]);
  if (!(port >= 1 && port <= 65535)) throw new Error(`bad port in target "${text}"`);
  if (!isLoopback(hostname)) {
    throw new Error(`refusing non-loopback target "${text}": the benchmark only runs locally`);
  }
  return { hostname, port };
}

/** Formats a target back as `HOST:PORT` (`[::1]:PORT` for IPv6). */
export function formatTarget(t: Target): string {
  return formatAddress(t);
}

/** A TCP port on `hostname` that was free a moment ago (the OS picks it). */
export function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Connects to `target` with a time limit. Rejects when the connection is refused or is not
 * established within `timeoutMs`.
 */
export async function connectWithTimeout(target: Target, timeoutMs: number): Promise<Deno.TcpConn> {
  // The signal also closes an established connection, so abort only while still connecting.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error("connect timed out")), timeoutMs);
  try {
    return await Deno.connect({ ...target, signal: abort.signal });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits until `target` accepts a TCP connection (which is closed again at once). Rejects after
 * `timeoutMs`, or as soon as `gaveUp()` returns a reason (e.g. the server process exited).
 */
export async function waitForPort(
  target: Target,
  timeoutMs: number,
  gaveUp: () => string | null = () => null,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const reason = gaveUp();
    if (reason !== null) throw new Error(reason);
    try {
      const conn = await connectWithTimeout(target, 1000);
      conn.close();
      return;
    } catch {
      if (performance.now() > deadline) {
        throw new Error(`${formatTarget(target)} did not accept connections in ${timeoutMs} ms`);
      }
      await sleep(100);
    }
  }
}

/** Writes all of `bytes` (a socket write may take only part of them). */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}
