/**
 * Network addresses as the transports show, judge and bind them.
 *
 * @module
 */

/**
 * `host:port`, with brackets around an IPv6 host (`[::1]:8080`), for logs
 * and messages.
 *
 * @example
 * ```ts
 * import { formatAddress } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatAddress({ hostname: "127.0.0.1", port: 7000 }), "127.0.0.1:7000");
 * assert.equal(formatAddress({ hostname: "::1", port: 7000 }), "[::1]:7000");
 * ```
 */
export function formatAddress(addr: { readonly hostname: string; readonly port: number }): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/**
 * Whether a peer's address is this machine (127.0.0.0/8, `::1`, or IPv4
 * loopback mapped into IPv6): such peers are exempt from the per-address
 * limits unless asked (a reverse proxy on the same host would otherwise
 * count as one user).
 */
export function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1" || address.startsWith("::ffff:127.");
}

/** An address could not be bound (in use, not local, not permitted). */
export class ListenError extends Error {
  override name = "ListenError";
}

/** Binds with `bind`, turning its failure into a {@link ListenError} that names the address. */
export function listenOn<T>(address: { hostname: string; port: number }, bind: () => T): T {
  try {
    return bind();
  } catch (err) {
    throw new ListenError(
      `cannot listen on ${formatAddress(address)}: ${err instanceof Error ? err.message : err}`,
      {
        cause: err,
      },
    );
  }
}
