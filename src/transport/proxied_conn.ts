/**
 * A plain TCP connection's PROXY header (see `proxy_protocol.ts`), taken off
 * before the connection is served. From a trusted proxy the header is
 * optional (a health check may connect without one); the address it names
 * becomes the connection's `remoteAddr` for everything after: limits, attempt
 * counts, bans, logs. From anyone else a header is refused.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import { formatAddress } from "./address.ts";
import type { CidrSet } from "./cidr.ts";
import { parseProxyHeader, V2_MAX } from "./proxy_protocol.ts";
import { withDeadline } from "./socket.ts";

const EMPTY = new Uint8Array(0);

/** A read started while waiting for the first bytes, still under way: its promise and buffer. */
export interface PendingRead {
  read: Promise<number | null>;
  chunk: Uint8Array;
}

/** What came of a connection's first bytes. */
export type ProxyOutcome =
  /**
   * Serve `conn` (the header, if any, taken off; its `remoteAddr` the real
   * peer's), with what was read already: `first`, the bytes after any header;
   * `pending`, the read still under way when nothing arrived within the
   * grace (a client waiting to be greeted: `silent`). The door reads on from
   * there (see {@link withPrefix} for a connection that gives them back).
   */
  | {
    conn: Deno.Conn;
    proxied: boolean;
    silent: boolean;
    first: Uint8Array;
    pending: PendingRead | null;
  }
  /**
   * Close without serving: why, for the log. `quiet`: the peer left before
   * sending anything (a port probe, a TCP health check): nothing to warn of.
   */
  | { refused: string; quiet?: boolean };

/**
 * Waits up to `graceMs` for the connection's first bytes and reads a PROXY
 * header if they start one (a header's bytes then have `graceMs` more to
 * arrive). Never serves a client that spoke first and slowly any worse: a
 * read still under way is handed on to the returned connection.
 */
export async function takeProxyHeader(
  conn: Deno.Conn,
  trusted: CidrSet,
  graceMs: number,
): Promise<ProxyOutcome> {
  const peer = (conn.remoteAddr as Deno.NetAddr).hostname;
  let buffered: Uint8Array = new Uint8Array(0);
  let deadline = performance.now() + graceMs;
  for (;;) {
    const chunk = new Uint8Array(512);
    const read = conn.read(chunk);
    const n = await withDeadline(read, deadline);
    if (n === undefined) {
      // Silence: a client waiting to be greeted, or a header cut short.
      if (buffered.length > 0) return { refused: "PROXY header incomplete" };
      return { conn, proxied: false, silent: true, first: EMPTY, pending: { read, chunk } };
    }
    if (n === null) return { refused: "closed before its first line", quiet: true };
    buffered = concat(buffered, chunk.subarray(0, n));
    const parsed = parseProxyHeader(buffered);
    if (parsed.kind === "none") {
      return { conn, proxied: false, silent: false, first: buffered, pending: null };
    }
    if (!trusted.has(peer)) return { refused: "PROXY header from an untrusted peer" };
    if (parsed.kind === "invalid") return { refused: `bad PROXY header: ${parsed.reason}` };
    if (parsed.kind === "header") {
      const rest = buffered.subarray(parsed.length);
      const source = parsed.source === null
        ? null
        : { transport: "tcp" as const, hostname: parsed.source.hostname, port: parsed.source.port };
      return {
        conn: source === null ? conn : asConn(new PrefixedConn(conn, EMPTY, null, source)),
        proxied: true,
        silent: false,
        first: rest,
        pending: null,
      };
    }
    if (buffered.length > V2_MAX) return { refused: "PROXY header too long" };
    // Incomplete: the rest of a header comes with it, or soon after.
    deadline = Math.max(deadline, performance.now() + graceMs);
  }
}

/**
 * `takeProxyHeader` for a listener: a refused connection is logged and
 * closed (null); otherwise what to serve. A probe that connects and leaves
 * is routine (debug); a refused header is worth a warning.
 */
export async function admitProxied(
  conn: Deno.Conn,
  trusted: CidrSet,
  graceMs: number,
  log: Logger,
): Promise<Extract<ProxyOutcome, { conn: Deno.Conn }> | null> {
  const outcome: ProxyOutcome = await takeProxyHeader(conn, trusted, graceMs).catch((err) => ({
    refused: `unreadable: ${err instanceof Error ? err.message : err}`,
  }));
  if ("refused" in outcome) {
    const props = {
      remote: formatAddress(conn.remoteAddr as Deno.NetAddr),
      reason: outcome.refused,
    };
    if (outcome.quiet) log.debug("connection from {remote} closed unserved: {reason}", props);
    else log.warn("connection from {remote} closed unserved: {reason}", props);
    try {
      conn.close();
    } catch {
      // The peer is gone already.
    }
    return null;
  }
  if (outcome.proxied) {
    log.debug("connection from {proxy} proxied for {remote}", {
      proxy: formatAddress(conn.remoteAddr as Deno.NetAddr),
      remote: formatAddress(outcome.conn.remoteAddr as Deno.NetAddr),
    });
  }
  return outcome;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The connection of an outcome with what was read already put back in front of its reads. */
export function withPrefix(outcome: Extract<ProxyOutcome, { conn: Deno.Conn }>): Deno.Conn {
  if (outcome.first.length === 0 && outcome.pending === null) return outcome.conn;
  return asConn(new PrefixedConn(outcome.conn, outcome.first, outcome.pending, null));
}

/**
 * A connection with bytes already read put back in front (and a read that
 * was under way, to finish first), and the real peer as `remoteAddr`.
 * Delegates the rest; the transports use only `read`, `write`, `close`,
 * the addresses and `setNoDelay`.
 */
class PrefixedConn {
  readonly #conn: Deno.Conn;
  #buffered: Uint8Array;
  #pending: PendingRead | null;
  readonly remoteAddr: Deno.Addr;

  constructor(
    conn: Deno.Conn,
    buffered: Uint8Array,
    pending: PendingRead | null,
    source: Deno.NetAddr | null,
  ) {
    this.#conn = conn;
    this.#buffered = buffered;
    this.#pending = pending;
    this.remoteAddr = source ?? conn.remoteAddr;
  }

  get localAddr(): Deno.Addr {
    return this.#conn.localAddr;
  }

  /**
   * Not an async function: an idle connection's pending read is the
   * runtime's alone, without a frame of this wrapper around it.
   */
  read(p: Uint8Array): Promise<number | null> {
    if (this.#buffered.length === 0) {
      // The read under way began after the buffered bytes were read.
      const pending = this.#pending;
      if (pending === null) return this.#conn.read(p);
      this.#pending = null;
      return pending.read.then((n) => {
        if (n === null) return null;
        this.#buffered = pending.chunk.subarray(0, n);
        return this.read(p);
      });
    }
    const n = Math.min(p.length, this.#buffered.length);
    p.set(this.#buffered.subarray(0, n));
    // Once empty, drop the first read's buffer: an idle connection should not keep it.
    this.#buffered = n === this.#buffered.length ? EMPTY : this.#buffered.subarray(n);
    return Promise.resolve(n);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#conn.write(p);
  }

  close(): void {
    this.#conn.close();
  }

  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  setNoDelay(noDelay?: boolean): void {
    (this.#conn as Deno.TcpConn).setNoDelay?.(noDelay);
  }

  setKeepAlive(keepAlive?: boolean): void {
    (this.#conn as Deno.TcpConn).setKeepAlive?.(keepAlive);
  }

  ref(): void {
    this.#conn.ref();
  }

  unref(): void {
    this.#conn.unref();
  }

  [Symbol.dispose](): void {
    this.#conn.close();
  }
}

/** The wrapper as the connection the transports take (`readable`/`writable` are not offered). */
function asConn(conn: PrefixedConn): Deno.Conn {
  return conn as unknown as Deno.Conn;
}
