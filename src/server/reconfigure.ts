/**
 * A reload reaching the running server (`RunningServer.reconfigure`; what
 * may change live is decided by `reload.ts`). The new settings go to the
 * hub, the IRC door and the limits new connections start with; a renewed
 * certificate is served on the same ports by new TLS listeners (and, for
 * HTTPS, a new internal server behind the relay), while the connections the
 * old ones accepted stay open.
 *
 * @module
 */

import type { Hub } from "../core/hub.ts";
import type { ServerConfig, TlsFiles } from "../server.ts";
import { formatAddress, ListenError, listenOn } from "../transport/address.ts";
import { setBacklogLimit } from "../transport/backlog.ts";
import { listenTlsAgain } from "../transport/tls_listener.ts";
import type { Doors } from "./doors.ts";

/** What a reload changes. */
export interface Reconfigurable {
  hub: Hub | null;
  doors: Doors;
  /** The certificate the server started with; `null`: no TLS, so nothing to renew. */
  tls: TlsFiles | null;
  /** True once the shutdown has begun: no listener is opened again then. */
  stopping(): boolean;
}

/**
 * Applies `next` and, with TLS, the certificate `files`. Rejects if a
 * listener cannot be bound again (the old certificate is then still served
 * where it could be).
 */
export async function reconfigureServer(
  server: Reconfigurable,
  next: ServerConfig,
  files: TlsFiles | null,
): Promise<void> {
  const { hub, doors } = server;
  hub?.reconfigure({
    historyOnJoin: next.historyOnJoin,
    maxLineBytes: next.maxLineBytes,
    quietRoomSize: next.quietRoomSize,
    flood: next.flood ?? undefined,
    password: next.password ?? undefined,
    adminPassword: next.adminPassword ?? undefined,
  }, next.authFailures?.failuresPerMinute);
  if (doors.ircDoor !== null) doors.ircDoor.irc.passwordRequired = next.password !== null;
  // Connections read these when they start: new ones get the new limits.
  doors.tcpCtx.maxLineBytes = next.maxLineBytes;
  doors.tcpCtx.maxQueueBytes = next.maxQueueBytes;
  setBacklogLimit(next.maxQueueBytes);
  if (doors.http !== null) {
    const httpCtx = doors.http.ctx;
    httpCtx.maxLineBytes = next.maxLineBytes;
    httpCtx.maxQueueBytes = next.maxQueueBytes;
    httpCtx.allowedOrigins = next.allowedOrigins;
  }
  if (doors.limiter !== null && next.connections !== null) doors.limiter.limits = next.connections;
  if (files === null || server.tls === null || server.stopping()) return;
  // HTTPS: a new internal server with the new certificate takes the new connections.
  const http = doors.http;
  if (http !== null) {
    http.front.retarget(
      listenOn(
        { hostname: "127.0.0.1", port: 0 },
        () => http.start(files, { hostname: "127.0.0.1", port: 0 }),
      ),
    );
  }
  doors.tcp = await relisten(doors, doors.tcp, files, "tcp");
  if (doors.ircTls !== null) doors.ircTls = await relisten(doors, doors.ircTls, files, "irc");
}

/** A TLS listener on `old`'s address with the new certificate, accepting in its place. */
async function relisten(
  doors: Doors,
  old: Deno.Listener,
  files: TlsFiles,
  door: "tcp" | "irc",
): Promise<Deno.Listener> {
  const address = old.addr as Deno.NetAddr;
  const fresh = await listenTlsAgain(old, files).catch((err) => {
    const why = err instanceof Error ? err.message : String(err);
    throw new ListenError(`cannot listen again on ${formatAddress(address)}: ${why}`, {
      cause: err,
    });
  });
  doors.serve(fresh, door, false);
  return fresh;
}
