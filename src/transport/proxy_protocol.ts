/**
 * The PROXY protocol (HAProxy's, versions 1 and 2) as bytes in, a verdict
 * out: the header a load balancer puts before a connection's own bytes to
 * say whom the connection is really from. Pure: no sockets here.
 *
 * v1 is a text line: `PROXY TCP4 203.0.113.7 10.0.0.1 51234 6667\r\n` (TCP6,
 * or `PROXY UNKNOWN ...`), at most 107 bytes. v2 is binary: a 12-byte
 * signature, a version/command byte (LOCAL or PROXY), an address family and
 * protocol byte, a length, the addresses, then TLVs (skipped here).
 *
 * @module
 */

import { parseIp } from "./cidr.ts";

/** The real peer a header names. */
export interface ProxySource {
  hostname: string;
  port: number;
}

/** What the first bytes of a connection are. */
export type ProxyParse =
  /** Not a PROXY header: the connection's own bytes. */
  | { kind: "none" }
  /** The start of a header: more bytes are needed. */
  | { kind: "incomplete" }
  /**
   * A whole header of `length` bytes; `source` is `null` when it names no
   * peer (v1 UNKNOWN, v2 LOCAL, or a family other than TCP over IPv4/IPv6):
   * the connection's own peer address stands.
   */
  | { kind: "header"; version: 1 | 2; length: number; source: ProxySource | null }
  /** A header that is malformed or too long. */
  | { kind: "invalid"; reason: string };

const V1_PREFIX = new TextEncoder().encode("PROXY ");
/** The spec's bound on a v1 line, CRLF included. */
export const V1_MAX = 107;
const V2_SIGNATURE = new Uint8Array([
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
]);
/** v2 fixed part: signature, version/command, family/protocol, length. */
const V2_FIXED = 16;
/** Bound on a v2 header (addresses and TLVs): HAProxy's are a few hundred bytes at most. */
export const V2_MAX = 4096;

/** Whether `bytes` (however few) agree with `prefix` as far as both go. */
function startsLike(bytes: Uint8Array, prefix: Uint8Array): boolean {
  const n = Math.min(bytes.length, prefix.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/**
 * Reads a PROXY header at the start of `bytes` (the first bytes received on
 * a connection, as many as have arrived).
 */
export function parseProxyHeader(bytes: Uint8Array): ProxyParse {
  if (bytes.length === 0) return { kind: "incomplete" };
  if (startsLike(bytes, V1_PREFIX)) {
    return bytes.length < V1_PREFIX.length ? { kind: "incomplete" } : parseV1(bytes);
  }
  if (startsLike(bytes, V2_SIGNATURE)) {
    return bytes.length < V2_FIXED ? { kind: "incomplete" } : parseV2(bytes);
  }
  return { kind: "none" };
}

function parseV1(bytes: Uint8Array): ProxyParse {
  const end = bytes.subarray(0, V1_MAX).indexOf(0x0a);
  if (end < 0) {
    return bytes.length >= V1_MAX
      ? { kind: "invalid", reason: `v1 header longer than ${V1_MAX} bytes` }
      : { kind: "incomplete" };
  }
  if (end === 0 || bytes[end - 1] !== 0x0d) {
    return { kind: "invalid", reason: "v1 header does not end with CRLF" };
  }
  const line = new TextDecoder("latin1").decode(bytes.subarray(0, end - 1));
  const length = end + 1;
  const fields = line.split(" ");
  if (fields[1] === "UNKNOWN") return { kind: "header", version: 1, length, source: null };
  if (fields.length !== 6 || (fields[1] !== "TCP4" && fields[1] !== "TCP6")) {
    return { kind: "invalid", reason: `v1 header not understood: '${line}'` };
  }
  const [, family, src, dst, sport, dport] = fields;
  const size = family === "TCP4" ? 4 : 16;
  if (parseIp(src)?.length !== size || parseIp(dst)?.length !== size) {
    return { kind: "invalid", reason: `v1 header has bad ${family} addresses: '${line}'` };
  }
  if (!isPort(sport) || !isPort(dport)) {
    return { kind: "invalid", reason: `v1 header has bad ports: '${line}'` };
  }
  return { kind: "header", version: 1, length, source: { hostname: src, port: Number(sport) } };
}

function isPort(text: string): boolean {
  return /^(0|[1-9][0-9]{0,4})$/.test(text) && Number(text) <= 65535;
}

function parseV2(bytes: Uint8Array): ProxyParse {
  const versionCommand = bytes[12];
  if (versionCommand >> 4 !== 2) {
    return { kind: "invalid", reason: `v2 header with version ${versionCommand >> 4}` };
  }
  const command = versionCommand & 0x0f;
  if (command > 1) return { kind: "invalid", reason: `v2 header with command ${command}` };
  const family = bytes[13] >> 4;
  const protocol = bytes[13] & 0x0f;
  const bodyLength = (bytes[14] << 8) | bytes[15];
  const length = V2_FIXED + bodyLength;
  if (length > V2_MAX) {
    return { kind: "invalid", reason: `v2 header of ${length} bytes (max ${V2_MAX})` };
  }
  if (bytes.length < length) return { kind: "incomplete" };
  // LOCAL: the proxy's own connection (a health check); the peer address stands.
  if (command === 0) return { kind: "header", version: 2, length, source: null };
  const body = bytes.subarray(V2_FIXED, length);
  const STREAM = 1;
  if (family === 1 && protocol === STREAM) {
    if (body.length < 12) return { kind: "invalid", reason: "v2 IPv4 addresses truncated" };
    const hostname = [...body.subarray(0, 4)].join(".");
    return { kind: "header", version: 2, length, source: { hostname, port: port(body, 8) } };
  }
  if (family === 2 && protocol === STREAM) {
    if (body.length < 36) return { kind: "invalid", reason: "v2 IPv6 addresses truncated" };
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((body[i] << 8) | body[i + 1]).toString(16));
    return {
      kind: "header",
      version: 2,
      length,
      source: { hostname: compressIpv6(groups), port: port(body, 32) },
    };
  }
  // UNSPEC, UNIX sockets, datagrams: nothing to put in place of the peer.
  return { kind: "header", version: 2, length, source: null };
}

function port(body: Uint8Array, at: number): number {
  return (body[at] << 8) | body[at + 1];
}

/** IPv6 groups in the usual short form (`2001:db8::1`): the longest run of zeros as `::`. */
function compressIpv6(groups: string[]): string {
  let best = -1, bestLength = 0;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === "0") j++;
    if (j - i > bestLength && j - i > 1) [best, bestLength] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLength).join(":")}`;
}
