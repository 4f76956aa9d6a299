/**
 * One accepted TCP connection as the server's log and counters see it,
 * whichever door ends up serving it (text, IRC, echo).
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { Stats } from "../core/stats.ts";
import { formatAddress } from "./address.ts";
import { closeQuietly, isDisconnect } from "./socket.ts";

let nextConnId = 1;

/** What a {@link ConnectionRecord} reports to. */
export interface RecordContext {
  stats: Stats;
  log: Logger;
  /** Told once a connection has ended (the server frees its limiter slot, counts it drained). */
  ended?: (conn: Deno.Conn) => void;
}

/**
 * Seconds since `start` (a `performance.now()`), to a tenth: how long a connection lasted, in its
 * closing line. Its opening line is at `debug`: one line per connection at `info`, written when it
 * ends, as proxies do; at accept, a line per connection was a sixth of the server's time.
 */
export function secondsSince(start: number): number {
  return Math.round((performance.now() - start) / 100) / 10;
}

/** `host:port` of the peer, for logs. */
export function remoteOf(conn: Deno.Conn): string {
  return formatAddress(conn.remoteAddr as Deno.NetAddr);
}

/**
 * A connection's number, its peer for the log, whether it was counted open
 * (and under which transport), and its end: the socket closed, the count
 * and the closing line, the server told. The door serving the connection
 * ends it from its own read loop, so that an idle connection is one
 * suspended function, not a chain of them awaiting one another.
 */
export class ConnectionRecord {
  readonly id = nextConnId++;
  readonly #conn: Deno.Conn;
  readonly #ctx: RecordContext;
  #transport = "tcp";
  #opened = false;
  /** When it was opened (`performance.now()`), for its closing line. */
  #since = 0;
  #closed = false;

  constructor(conn: Deno.Conn, ctx: RecordContext) {
    this.#conn = conn;
    this.#ctx = ctx;
  }

  /** The peer, for the log (made when logged: an idle connection keeps no string of it). */
  get remote(): string {
    return remoteOf(this.#conn);
  }

  /** Counted as open under `transport`; `line` logs the opening as the door says it. */
  open(transport: string, line?: "text" | "irc"): void {
    this.#transport = transport;
    this.#ctx.stats.connectionOpened(transport);
    this.#opened = true;
    this.#since = performance.now();
    const log = this.#ctx.log;
    if (line === undefined || !log.isEnabledFor("debug")) return;
    const { id, remote } = this;
    if (line === "text") {
      log.debug("connection {id} opened from {remote}", { id, remote, transport });
    } else log.debug("connection {id} opened from {remote} (irc)", { id, remote });
  }

  /** What ended it, for an error its door did not expect: a reset (debug) or a failure (logged). */
  failed(err: unknown): string {
    const { id, remote } = this;
    if (isDisconnect(err)) {
      this.#ctx.log.debug("connection {id} from {remote} reset: {error}", {
        id,
        remote,
        error: String(err),
      });
      return "reset";
    }
    this.#ctx.log.error("connection {id} from {remote} failed: {error}", {
      id,
      remote,
      error: err,
    });
    return "error";
  }

  /** The end, once: the socket closed, the count, the closing line (with the nick, if any). */
  closed(closedBy: string, nick: string | null): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#conn);
    if (this.#opened) this.#ctx.stats.connectionClosed(this.#transport);
    const { id, remote } = this;
    const seconds = this.#opened ? secondsSince(this.#since) : 0;
    const transport = this.#transport;
    if (nick === null) {
      this.#ctx.log.info("connection {id} closed from {remote} ({closedBy}) after {seconds} s", {
        id,
        remote,
        closedBy,
        seconds,
        transport,
      });
    } else {
      this.#ctx.log.info(
        "connection {id} closed from {remote} ({closedBy}) after {seconds} s nick={nick}",
        { id, remote, closedBy, seconds, transport, nick },
      );
    }
    this.#ctx.ended?.(this.#conn);
  }
}

/**
 * The connections being served, for the shutdown's drain: a count and the
 * waiters for it to reach zero, not a set of per-connection promises (whose
 * reactions cost every idle connection a few hundred bytes).
 */
export class Serving {
  #count = 0;
  #waiters: (() => void)[] = [];

  get size(): number {
    return this.#count;
  }

  start(): void {
    this.#count++;
  }

  end(): void {
    if (--this.#count > 0) return;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  /** Resolves once nothing is being served. */
  idle(): Promise<void> {
    if (this.#count <= 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
