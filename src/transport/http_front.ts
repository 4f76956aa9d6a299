/**
 * The PROXY protocol in front of the HTTP listener. `Deno.serve` reads its
 * connections itself, so a header cannot be taken off before it; with
 * `--trusted-proxies` the public HTTP port is therefore a plain TCP listener
 * that takes the header off (or refuses it, from anyone else) and relays the
 * bytes, TLS included, to `Deno.serve` on an internal loopback port. The
 * relay's own port there names the real client of each request
 * (`peerOf`). The cost, one more loopback hop, is paid only with trusted
 * proxies configured.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { CidrSet } from "./cidr.ts";
import { takeProxyHeader } from "./proxied_conn.ts";
import { formatAddress } from "./address.ts";
import { acceptLoop } from "./tcp.ts";

/** How long the first bytes may take: HTTP clients speak first. */
const HEADER_GRACE_MS = 5000;
const RELAY_CHUNK = 16 * 1024;

interface Readable {
  read(p: Uint8Array): Promise<number | null>;
}

interface Writable {
  write(p: Uint8Array): Promise<number>;
}

/** Copies until `from` ends. */
async function pump(from: Readable, to: Writable): Promise<void> {
  const buffer = new Uint8Array(RELAY_CHUNK);
  for (;;) {
    const n = await from.read(buffer);
    if (n === null) return;
    for (let at = 0; at < n;) at += await to.write(buffer.subarray(at, n));
  }
}

function closeQuietly(conn: { close(): void }): void {
  try {
    conn.close();
  } catch {
    // Already closed by the other direction.
  }
}

export class HttpFront {
  readonly #listener: Deno.Listener;
  readonly #inner: Deno.NetAddr;
  readonly #trusted: CidrSet;
  readonly #log: Logger;
  /** The relay's port on the internal listener -> the client it relays for. */
  readonly #peers = new Map<number, Deno.NetAddr>();
  readonly #open = new Set<{ close(): void }>();
  readonly accepting: Promise<void>;

  /** Relays what `listener` accepts to the HTTP server listening on `inner`. */
  constructor(listener: Deno.Listener, inner: Deno.NetAddr, trusted: CidrSet, log: Logger) {
    this.#listener = listener;
    this.#inner = inner;
    this.#trusted = trusted;
    this.#log = log;
    this.accepting = acceptLoop(listener, (conn) => void this.#relay(conn), log);
  }

  /** The public address. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr as Deno.NetAddr;
  }

  /** The client a request on the internal listener comes from (itself if not relayed). */
  peerOf(addr: Deno.NetAddr): Deno.NetAddr {
    return this.#peers.get(addr.port) ?? addr;
  }

  /** Stops accepting; relays end with the HTTP server's connections. */
  close(): void {
    closeQuietly(this.#listener);
  }

  /** Ends the relays still open (after the HTTP server's shutdown grace). */
  closeAll(): void {
    for (const conn of [...this.#open]) closeQuietly(conn);
  }

  async #relay(conn: Deno.Conn): Promise<void> {
    const peer = formatAddress(conn.remoteAddr as Deno.NetAddr);
    const outcome = await takeProxyHeader(conn, this.#trusted, HEADER_GRACE_MS).catch((err) => ({
      refused: `unreadable: ${err instanceof Error ? err.message : err}`,
    }));
    if ("refused" in outcome) {
      this.#log.warn("connection from {remote} closed unserved: {reason}", {
        remote: peer,
        reason: outcome.refused,
      });
      closeQuietly(conn);
      return;
    }
    const client = outcome.conn;
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect({ hostname: this.#inner.hostname, port: this.#inner.port });
    } catch (err) {
      this.#log.error("http relay for {remote} cannot reach the server: {error}", {
        remote: peer,
        error: err,
      });
      closeQuietly(client);
      return;
    }
    const port = (upstream.localAddr as Deno.NetAddr).port;
    this.#peers.set(port, client.remoteAddr as Deno.NetAddr);
    this.#open.add(client);
    this.#open.add(upstream);
    // The client's end of its request half-closes the relay; the server's end closes both.
    const up = pump(client, upstream).then(() => upstream.closeWrite()).catch(() => {});
    await pump(upstream, client).catch(() => {});
    closeQuietly(client);
    closeQuietly(upstream);
    await up;
    this.#open.delete(client);
    this.#open.delete(upstream);
    this.#peers.delete(port);
  }
}
