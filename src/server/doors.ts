/**
 * A server's doors: binds its listeners (the text port, plain and TLS IRC
 * here; HTTP with its relay and the internal metrics one in `http_doors.ts`)
 * and admits each TCP connection: its PROXY header on a plain listener, then
 * the connection limits, then the door that serves it. The shutdown
 * (`shutdown.ts`) and a reload (`reconfigure.ts`) work on the {@link Doors}
 * this returns.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { RunningCluster, ServerConfig, TlsFiles } from "../server.ts";
import { formatAddress, listenOn } from "../transport/address.ts";
import { closeQuietly } from "../transport/socket.ts";
import { Serving } from "../transport/conn_record.ts";
import type { Hub } from "../core/hub.ts";
import type { Stats } from "../core/stats.ts";
import { logger } from "../log.ts";
import type { HistoryStore } from "../core/history.ts";
import type { Asset } from "../transport/http.ts";
import { ConnectionLimiter } from "../transport/limits.ts";
import {
  acceptLoop,
  FIRST_LINE_GRACE_MS,
  handleConnection,
  NOTHING_READ,
  remoteOf,
  type TcpContext,
  type Tracked,
} from "../transport/tcp.ts";
import { CidrSet } from "../transport/cidr.ts";
import { admitProxied } from "../transport/proxied_conn.ts";
import { type IrcDoor, ircStreamWire } from "../transport/irc.ts";
import { REGISTRATION_TIMEOUT_MS } from "../irc/client.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { type HttpDoor, openHttp, openMetrics } from "./http_doors.ts";

const VERSION = denoJson.version;

/** Tells a refused TCP client why (if its socket takes it at once), in its door's words, then closes it. */
function refuse(conn: Deno.Conn, reason: string, log: Logger, door: "tcp" | "irc"): void {
  log.warn("connection from {remote} refused: {reason}", { remote: remoteOf(conn), reason });
  const timer = setTimeout(() => closeQuietly(conn), 1000);
  const line = door === "irc" ? `ERROR :Closing Link: ${reason}\r\n` : `! ${reason}\n`;
  // Best effort: a refused peer may be gone already, and is closed either way.
  conn.write(new TextEncoder().encode(line)).catch(() => {}).finally(() => {
    clearTimeout(timer);
    closeQuietly(conn);
  });
}

/** What the doors lead to. */
export interface DoorDeps {
  /** The chat core; `null` in echo mode (then only the text port is opened). */
  hub: Hub | null;
  stats: Stats;
  store: HistoryStore;
  cluster: RunningCluster | null;
  /** The web client served at `/`. */
  assets: ReadonlyMap<string, Asset>;
  /** When the server started (`Date.now()`), for `/healthz` and `/metrics`. */
  startedAt: number;
  /** The certificate the text port, `--irc-tls` and HTTP speak TLS with; `null`: none. */
  tls: TlsFiles | null;
}

/** A server's bound listeners, and what their connections share. */
export interface Doors {
  /** The text port (TLS with a certificate); replaced when a renewed certificate is served. */
  tcp: Deno.Listener;
  /** The plain IRC listener (`--irc`), or `null`. */
  readonly irc: Deno.Listener | null;
  /** The IRC-over-TLS listener (`--irc-tls`), or `null`; replaced as {@link tcp} is. */
  ircTls: Deno.Listener | null;
  readonly tcpAddr: Deno.NetAddr;
  readonly ircAddr: Deno.NetAddr | null;
  /** The HTTP listener: web client, WebSocket, health, metrics; `null` when off or in echo mode. */
  readonly http: HttpDoor | null;
  /** The internal listener (`--metrics`); `null` when off or in echo mode. */
  readonly metrics: Deno.HttpServer<Deno.NetAddr> | null;
  /** The accept loops, one per listener ever opened: each ends when its listener is closed. */
  readonly accepting: Promise<void>[];
  /** Every connection served, TCP and WebSocket: for the idle sweep and the shutdown. */
  readonly live: Set<Tracked>;
  /** How many connections are being served: the shutdown's drain waits for none. */
  readonly serving: Serving;
  /** What TCP connections start with; a reload changes its limits. */
  readonly tcpCtx: TcpContext;
  /** The IRC door's settings; `null` in echo mode. */
  readonly ircDoor: IrcDoor | null;
  readonly limiter: ConnectionLimiter | null;
  /** Accepts on `listener`, each connection served as `door` speaks; TLS ones carry no PROXY header. */
  serve(listener: Deno.Listener, door: "tcp" | "irc", plain: boolean): void;
}

/**
 * Binds every listener `config` asks for and starts accepting. Throws a
 * `ListenError` if an address cannot be bound, after closing the listeners
 * bound before it.
 */
export function openDoors(config: ServerConfig, deps: DoorDeps, log: Logger): Doors {
  const { hub, stats, tls } = deps;
  // With TLS the TCP listener speaks TLS (`openssl s_client`, `ncat --ssl`); all else is the same.
  const tcp: Deno.Listener = listenOn(
    config.tcp,
    () => tls === null ? Deno.listen(config.tcp) : Deno.listenTls({ ...config.tcp, ...tls }),
  );
  const tcpAddr = tcp.addr as Deno.NetAddr;
  const live = new Set<Tracked>();
  const serving = new Serving();
  // IRC clients reach the same hub through --irc, --irc-tls and the text port.
  const ircDoor: IrcDoor | null = hub === null ? null : {
    irc: {
      hub,
      stats,
      server: config.serverName,
      version: `chat-server-${VERSION}`,
      passwordRequired: config.password !== null,
      now: Date.now,
      startedAt: Date.now(),
      registrationTimeoutMs: config.idleTimeoutMs > 0
        ? Math.min(config.idleTimeoutMs, REGISTRATION_TIMEOUT_MS)
        : REGISTRATION_TIMEOUT_MS,
    },
    wire: ircStreamWire(),
  };
  const ctx: TcpContext = {
    hub,
    stats,
    log: logger("tcp"),
    maxLineBytes: config.maxLineBytes,
    maxQueueBytes: config.maxQueueBytes,
    irc: ircDoor,
  };
  const limiter = config.connections === null ? null : new ConnectionLimiter(config.connections);
  const trusted = new CidrSet(config.trustedProxies);
  // A served TCP connection's end: its limiter slot freed, and one fewer for the shutdown's drain.
  ctx.ended = (conn) => {
    limiter?.release((conn.remoteAddr as Deno.NetAddr).hostname);
    serving.end();
  };
  /**
   * One connection: on a plain listener its PROXY header first (the real
   * peer's address then counts for everything), then the limits, then the door.
   */
  const admit = async (conn: Deno.Conn, door: "tcp" | "irc", plain: boolean) => {
    let start = NOTHING_READ;
    if (plain) {
      const outcome = await admitProxied(conn, trusted, FIRST_LINE_GRACE_MS, ctx.log);
      if (outcome === null) return serving.end();
      conn = outcome.conn;
      // What the wait for a header read (or found silent) is the door's to go on from.
      start = outcome;
    }
    const address = (conn.remoteAddr as Deno.NetAddr).hostname;
    const refusal = limiter?.admit(address) ?? null;
    if (refusal !== null) {
      stats.connectionRefused(refusal);
      refuse(conn, refusal, ctx.log, door);
      return serving.end();
    }
    // Served from here on: its end reaches ctx.ended (handleConnection never rejects).
    await handleConnection(conn, ctx, live, door, start);
  };
  const accepting: Promise<void>[] = [];
  const serve = (listener: Deno.Listener, door: "tcp" | "irc", plain: boolean) => {
    accepting.push(acceptLoop(listener, (conn) => {
      // Fire and forget; the count is only for shutdown.
      serving.start();
      void admit(conn, door, plain);
    }, ctx.log));
  };
  serve(tcp, "tcp", tls === null);
  let irc: Deno.Listener | null = null;
  let ircTls: Deno.Listener | null = null;
  /** Closes what is bound when a later address cannot be. */
  const abandon = () => {
    for (const l of [tcp, irc, ircTls]) l?.close();
  };
  try {
    if (ircDoor !== null && config.irc !== null) {
      irc = listenOn(config.irc, () => Deno.listen(config.irc!));
    }
    if (ircDoor !== null && config.ircTls !== null && tls !== null) {
      ircTls = listenOn(config.ircTls, () => Deno.listenTls({ ...config.ircTls!, ...tls }));
    }
  } catch (err) {
    abandon();
    throw err;
  }
  // TLS listeners are not plain: a PROXY header would come before the handshake, out of reach.
  for (const [l, plain] of [[irc, true], [ircTls, false]] as const) {
    if (l === null) continue;
    serve(l, "irc", plain);
    log.info("irc listening on {ircAddress}", {
      ircAddress: formatAddress(l.addr as Deno.NetAddr),
    });
  }
  log.info("listening on {address} ({mode} mode)", {
    address: `${tcpAddr.hostname}:${tcpAddr.port}`,
    mode: config.echo ? "echo" : "chat",
  });

  const http = hub === null ? null : openHttp(config, deps, hub, {
    live,
    serving,
    limiter,
    trusted,
    ircDoor,
    abandon,
  }, log);
  const metrics = hub === null ? null : openMetrics(config, deps, hub, () => {
    abandon();
    if (http === null) return;
    http.front.close();
    for (const server of http.front.servers()) void server.shutdown();
  }, log);

  return {
    tcp,
    irc,
    ircTls,
    tcpAddr,
    ircAddr: irc === null ? null : irc.addr as Deno.NetAddr,
    http,
    metrics,
    accepting,
    live,
    serving,
    tcpCtx: ctx,
    ircDoor,
    limiter,
    serve,
  };
}
