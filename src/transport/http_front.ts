/**
 * A relay in front of the HTTP listener, for what `Deno.serve` cannot do on
 * its own connections: take a PROXY header off (or refuse it, from anyone
 * not trusted), and serve a renewed certificate without closing the
 * WebSockets already open. The public HTTP port is a plain TCP listener; each
 * connection is relayed, TLS included, to `Deno.serve` on an internal
 * loopback port. The relay's own port there names the real client of each
 * request (`peerOf`). A renewal starts a new internal server with the new
 * certificate (`retarget`): new connections go there, and the old one is
 * shut down once its last relay ends.
 *
 * A plain (not TLS) request for a WebSocket is not relayed: its head is read
 * here and the connection becomes the WebSocket itself (`ws_upgrade.ts`),
 * which costs an idle client what a TCP one costs. Everything else (the web
 * client's files, health, metrics) pays one more loopback hop.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { CidrSet } from "./cidr.ts";
import { admitProxied, type PendingRead, type ProxyOutcome, withPrefix } from "./proxied_conn.ts";
import { formatAddress } from "./address.ts";
import { acceptLoop } from "./tcp.ts";
import { closeQuietly, isDisconnect, withDeadline } from "./socket.ts";
import { copied } from "./writer.ts";
import { headEnd, MAX_HEAD_BYTES, serveUpgrade, upgradeRequest } from "./ws_upgrade.ts";

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

/** What answers the WebSocket handshakes the front reads itself. */
export interface Upgrades {
  /** The HTTP handler, given the connection the request came on. */
  serve: (request: Request, conn: Deno.Conn) => Response | Promise<Response>;
  /** The host a request without a Host header is for. */
  host: string;
}

const GET = [71, 69, 84, 32]; // "GET "

/** Bytes that start with "GET ", or could once more of them come. */
function mayBeGet(bytes: Uint8Array): boolean {
  for (let i = 0; i < GET.length && i < bytes.length; i++) if (bytes[i] !== GET[i]) return false;
  return bytes.length > 0;
}

/**
 * A request head's bytes: read on from `first` until its blank line, the
 * size limit, the peer's end or the deadline (then the read under way goes
 * with them, for the relay to finish).
 */
async function readHead(
  conn: Deno.Conn,
  first: Uint8Array,
  deadline: number,
): Promise<{ bytes: Uint8Array; pending: PendingRead | null }> {
  let bytes = first;
  while (headEnd(bytes) < 0 && bytes.length < MAX_HEAD_BYTES) {
    const chunk = new Uint8Array(4096);
    const read = conn.read(chunk);
    const n = await withDeadline(read, deadline);
    if (n === undefined) return { bytes, pending: { read, chunk } };
    if (n === null) break;
    bytes = copied([bytes, chunk.subarray(0, n)], bytes.length + n);
  }
  return { bytes, pending: null };
}

/** An internal HTTP server, and how many relays still use it. */
interface Target {
  server: Deno.HttpServer<Deno.NetAddr>;
  relays: number;
  /** Replaced by a newer one: shut down once its last relay ends. */
  retired: boolean;
}

export class HttpFront {
  readonly #listener: Deno.Listener;
  #current: Target;
  readonly #targets = new Set<Target>();
  readonly #trusted: CidrSet;
  readonly #log: Logger;
  /** The relay's port on an internal listener -> the client it relays for. */
  readonly #peers = new Map<number, Deno.NetAddr>();
  readonly #open = new Set<{ close(): void }>();
  /** What answers a WebSocket handshake read here; null with TLS (every byte is relayed). */
  readonly #upgrades: Upgrades | null;
  readonly accepting: Promise<void>;

  /**
   * Relays what `listener` accepts to `server`, an HTTP server on loopback;
   * `upgrades` answers plain WebSocket handshakes itself.
   */
  constructor(
    listener: Deno.Listener,
    server: Deno.HttpServer<Deno.NetAddr>,
    trusted: CidrSet,
    log: Logger,
    upgrades: Upgrades | null = null,
  ) {
    this.#listener = listener;
    this.#upgrades = upgrades;
    this.#current = { server, relays: 0, retired: false };
    this.#targets.add(this.#current);
    this.#trusted = trusted;
    this.#log = log;
    this.accepting = acceptLoop(listener, (conn) => void this.#accept(conn), log);
  }

  /** The public address. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr as Deno.NetAddr;
  }

  /** The client a request on an internal listener comes from (itself if not relayed). */
  peerOf(addr: Deno.NetAddr): Deno.NetAddr {
    return this.#peers.get(addr.port) ?? addr;
  }

  /** New connections go to `server` from now on; the old server goes once its relays end. */
  retarget(server: Deno.HttpServer<Deno.NetAddr>): void {
    const old = this.#current;
    this.#current = { server, relays: 0, retired: false };
    this.#targets.add(this.#current);
    old.retired = true;
    if (old.relays === 0) this.#retire(old);
  }

  #retire(target: Target): void {
    this.#targets.delete(target);
    target.server.shutdown().catch((err) =>
      this.#log.warn("a replaced https server did not stop cleanly: {error}", { error: err })
    );
  }

  /** Every internal server still running (the current one and those draining). */
  servers(): Deno.HttpServer<Deno.NetAddr>[] {
    return [...this.#targets].map((t) => t.server);
  }

  /** Stops accepting; relays end with the HTTP servers' connections. */
  close(): void {
    closeQuietly(this.#listener);
  }

  /** Ends the relays still open (after the HTTP servers' shutdown grace). */
  closeAll(): void {
    for (const conn of [...this.#open]) closeQuietly(conn);
  }

  async #accept(conn: Deno.Conn): Promise<void> {
    const deadline = performance.now() + HEADER_GRACE_MS;
    const outcome = await admitProxied(conn, this.#trusted, HEADER_GRACE_MS, this.#log);
    if (outcome === null) return;
    const upgrades = this.#upgrades;
    if (upgrades === null || outcome.silent || !mayBeGet(outcome.first)) {
      return this.#relay(outcome);
    }
    const read = await readHead(outcome.conn, outcome.first, deadline).catch(() => null);
    if (read === null) return closeQuietly(outcome.conn); // gone while sending its head
    const end = read.pending === null ? headEnd(read.bytes) : -1;
    const request = end > 0 ? upgradeRequest(read.bytes.subarray(0, end), upgrades.host) : null;
    if (request === null) {
      return this.#relay({ ...outcome, first: read.bytes, pending: read.pending });
    }
    await serveUpgrade(outcome.conn, request, read.bytes.subarray(end), upgrades.serve).catch(
      (err) => {
        closeQuietly(outcome.conn);
        // A peer gone before its answer is routine; a handler that failed is not.
        if (isDisconnect(err)) {
          this.#log.debug("websocket handshake not answered: {error}", { error: err });
        } else this.#log.error("http request failed: {error}", { error: err });
      },
    );
  }

  async #relay(outcome: Extract<ProxyOutcome, { conn: Deno.Conn }>): Promise<void> {
    const conn = outcome.conn;
    const peer = formatAddress(conn.remoteAddr as Deno.NetAddr);
    const client = withPrefix(outcome);
    const target = this.#current;
    target.relays++;
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: target.server.addr.port });
    } catch (err) {
      this.#log.error("http relay for {remote} cannot reach the server: {error}", {
        remote: peer,
        error: err,
      });
      closeQuietly(client);
      this.#done(target);
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
    this.#done(target);
  }

  #done(target: Target): void {
    target.relays--;
    if (target.retired && target.relays === 0 && this.#targets.has(target)) this.#retire(target);
  }
}
