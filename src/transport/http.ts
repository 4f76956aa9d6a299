/**
 * The HTTP listener (`Deno.serve`): the web client, the WebSocket endpoint,
 * health and metrics. Anything else is 404; a known path with the wrong
 * method is 405 with an `Allow` header.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { Hub } from "../core/hub.ts";
import type { Stats } from "../core/stats.ts";
import type { HistoryStore } from "../core/history.ts";
import type { ConnectionLimiter } from "./limits.ts";
import { acceptWebSocket, type WsTracking } from "./ws.ts";
import type { CidrSet } from "./cidr.ts";
import { forwardedClient } from "./forwarded.ts";
import { formatAddress } from "./address.ts";
import type { IrcContext } from "../irc/client.ts";
import { healthResponse, metricsResponse } from "./metrics.ts";

export { metricsText } from "./metrics.ts";

/** What the HTTP listener serves from. */
export interface HttpContext {
  hub: Hub;
  stats: Stats;
  store: HistoryStore;
  log: Logger;
  maxLineBytes: number;
  maxQueueBytes: number;
  pingTimeoutS: number;
  /** The IRC door, for IRC over WebSocket; `null` when there is none. */
  irc?: IrcContext | null;
  /** Origins allowed to open `/ws` besides the server's own (exact `scheme://host:port`). */
  allowedOrigins: readonly string[];
  /** Proxies whose X-Forwarded-For names the client (empty: the header is ignored). */
  trustedProxies?: CidrSet;
  /** Connection limits shared with the TCP listener (`null`: none). */
  limiter?: ConnectionLimiter | null;
  /** Cluster mode's link (`null` for a single process), for health and metrics. */
  cluster?: { readonly up: boolean; errorCounts?(): Readonly<Record<string, number>> } | null;
  /** The bundled web client: path -> file. */
  assets: ReadonlyMap<string, Asset>;
  startedAt: number;
}

/** A static file served from memory. */
export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  json: "application/json",
};

/**
 * Loads the web client from `web/` (next to `src/` in a checkout, embedded
 * with `--include web` in the compiled binary) into memory once.
 */
export async function loadAssets(
  dir = new URL("../../web/", import.meta.url),
): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile) continue;
    const ext = entry.name.split(".").pop() ?? "";
    const body = await Deno.readFile(new URL(entry.name, dir));
    assets.set(`/${entry.name}`, { body, type: TYPES[ext] ?? "application/octet-stream" });
  }
  const index = assets.get("/index.html");
  if (index !== undefined) assets.set("/", index);
  return assets;
}

/**
 * True if a browser on `origin` may open the WebSocket: no Origin (not a
 * browser), the server's own origin, or one listed in `--allowed-origins`.
 */
export function originAllowed(request: Request, allowed: readonly string[]): boolean {
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === (request.headers.get("host") ?? new URL(request.url).host);
  } catch {
    return false;
  }
}

const ROUTES: Record<string, readonly string[]> = {
  "/ws": ["GET"],
  "/healthz": ["GET", "HEAD"],
  "/metrics": ["GET", "HEAD"],
};

/**
 * Builds the request handler; `tracking` follows WebSocket connections
 * (shutdown's set, and each one's end: its limiter slot is freed there).
 * `opened` is told of each accepted one.
 */
export function httpHandler(
  ctx: HttpContext,
  tracking: WsTracking,
  opened: () => void = () => {},
): Deno.ServeHandler<Deno.NetAddr> {
  return (request, info) => {
    const url = new URL(request.url);
    const path = url.pathname;
    const asset = ctx.assets.get(path);
    const methods = ROUTES[path] ?? (asset ? ["GET", "HEAD"] : undefined);
    if (methods === undefined) return text(404, "not found\n");
    if (!methods.includes(request.method)) {
      return text(405, "method not allowed\n", { allow: methods.join(", ") });
    }
    switch (path) {
      case "/ws": {
        if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
          return text(426, "expected a WebSocket upgrade\n", { upgrade: "websocket" });
        }
        if (!originAllowed(request, ctx.allowedOrigins)) {
          ctx.log.warn("websocket from origin {origin} refused", {
            origin: request.headers.get("origin"),
          });
          ctx.stats.refused.origin++;
          return text(403, "origin not allowed\n");
        }
        // Behind a trusted proxy the client is whom X-Forwarded-For names (its port is unknown).
        const peer = info.remoteAddr;
        const address = ctx.trustedProxies === undefined ? peer.hostname : forwardedClient(
          request.headers.get("x-forwarded-for"),
          peer.hostname,
          ctx.trustedProxies,
        );
        const remote = address === peer.hostname
          ? formatAddress(peer)
          : formatAddress({ hostname: address, port: 0 });
        const refusal = ctx.limiter?.admit(address) ?? null;
        if (refusal !== null) {
          ctx.stats.connectionRefused(refusal);
          ctx.log.warn("websocket from {remote} refused: {reason}", { remote, reason: refusal });
          return text(refusal.startsWith("server full") ? 503 : 429, `${refusal}\n`);
        }
        let response;
        try {
          response = acceptWebSocket(request, remote, address, ctx, tracking);
        } catch (err) {
          ctx.limiter?.release(address);
          // Not a valid handshake (no key, another version): the client's error, not ours.
          if (err instanceof TypeError) return text(400, `${err.message}\n`);
          throw err;
        }
        opened();
        return response;
      }
      case "/healthz":
        return healthResponse(ctx);
      case "/metrics":
        return metricsResponse(ctx);
      default:
        return new Response(asset!.body, {
          headers: {
            "content-type": asset!.type,
            "cache-control": "no-cache",
            "x-content-type-options": "nosniff",
            "content-security-policy":
              "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'",
          },
        });
    }
  };
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}
