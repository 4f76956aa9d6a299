/**
 * `X-Forwarded-For` as a reverse proxy sets it: the client's address as seen
 * by each proxy on the way, the nearest last. Only a trusted proxy's word
 * counts, and each trusted hop may only vouch for the one before it.
 *
 * @module
 */

import { type CidrSet, parseIp } from "./cidr.ts";

/**
 * The client's address for a request that came from `peer`: with `header`
 * (X-Forwarded-For) from a trusted peer, the rightmost listed address that is
 * not itself a trusted proxy (the leftmost if all are); otherwise `peer`.
 * A malformed entry ends the walk at the last good address (a client can put
 * anything on the left of the list, never on the right).
 */
export function forwardedClient(
  header: string | null,
  peer: string,
  trusted: CidrSet,
): string {
  if (header === null || trusted.size === 0 || !trusted.has(peer)) return peer;
  let client = peer;
  const hops = header.split(",").map((hop) => hop.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const address = stripPort(hops[i]);
    if (address === null) break;
    client = address;
    if (!trusted.has(address)) break;
  }
  return client;
}

/** `1.2.3.4`, `1.2.3.4:5678`, `::1` or `[::1]:5678` -> the address; `null` if not one. */
function stripPort(hop: string): string | null {
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(hop);
  const candidates = bracketed ? [bracketed[1]] : [hop, /^([0-9.]+):\d{1,5}$/.exec(hop)?.[1] ?? ""];
  return candidates.find((c) => c !== "" && parseIp(c) !== null) ?? null;
}
