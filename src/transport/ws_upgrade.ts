/**
 * WebSocket handshakes served on the HTTP port's own connections (see
 * `ws_socket.ts` for why). The front (`http_front.ts`) reads a request
 * head; one that asks for a WebSocket becomes a `Request` handed to the same
 * handler `Deno.serve` runs, so every rule (path, origin, limits, format)
 * is decided in one place. The handler upgrades with {@link upgradeWebSocket},
 * which takes the connection over when the request came this way and calls
 * `Deno.upgradeWebSocket` otherwise.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { WsSocket } from "./ws_sink.ts";
import { type RawOptions, RawWebSocket } from "./ws_socket.ts";
import { copied } from "./writer.ts";

/** The largest request head read here; a longer one is relayed to `Deno.serve` as it is. */
export const MAX_HEAD_BYTES = 16 * 1024;

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** `Sec-WebSocket-Accept` for a client's key (RFC 6455, 4.2.2). */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

/** A request read off a connection, waiting for the handler's answer. */
interface Claim {
  conn: Deno.Conn;
  /** Set when the handler upgraded it: the socket, and the handshake to write. */
  socket: RawWebSocket | null;
  handshake: string;
}

const claims = new WeakMap<Request, Claim>();

/** What the handler returns for a connection taken over here: never sent, so one serves all. */
const PLACEHOLDER = new Response(null, { status: 204 });

/**
 * Upgrades `request` to a WebSocket: on its own connection when the front
 * read it (the returned response is a placeholder the front never sends),
 * through `Deno.upgradeWebSocket` otherwise. Throws, as Deno's does, for a
 * request that is not a valid WebSocket handshake.
 */
export function upgradeWebSocket(
  request: Request,
  options: { protocol?: string } & RawOptions,
): { socket: WsSocket; response: Response } {
  const claim = claims.get(request);
  if (claim === undefined) {
    return Deno.upgradeWebSocket(request, {
      protocol: options.protocol,
      idleTimeout: options.idleTimeoutS,
    });
  }
  const key = request.headers.get("sec-websocket-key") ?? "";
  const connection = (request.headers.get("connection") ?? "").toLowerCase().split(",");
  if (!connection.some((token) => token.trim() === "upgrade")) {
    throw new TypeError("the Connection header must name Upgrade");
  }
  if (request.headers.get("sec-websocket-version") !== "13") {
    throw new TypeError("Sec-WebSocket-Version must be 13");
  }
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) throw new TypeError("bad Sec-WebSocket-Key");
  claim.socket = new RawWebSocket(claim.conn, options);
  claim.handshake = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
    `Connection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n` +
    (options.protocol ? `Sec-WebSocket-Protocol: ${options.protocol}\r\n` : "") + "\r\n";
  return { socket: claim.socket, response: PLACEHOLDER };
}

/** Where a request head ends (after its blank line), or -1. */
export function headEnd(bytes: Uint8Array): number {
  for (let i = 3; i < bytes.length; i++) {
    if (bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) {
      return i + 1;
    }
  }
  return -1;
}

const latin1 = new TextDecoder("latin1");

/**
 * A head that asks for a WebSocket (`GET`, HTTP/1.1, `Upgrade: websocket`)
 * as a `Request` for the handler; null for anything else, which `Deno.serve`
 * answers instead.
 */
export function upgradeRequest(head: Uint8Array, host: string): Request | null {
  const lines = latin1.decode(head).split("\r\n");
  const start = /^GET (\/\S*) HTTP\/1\.1$/.exec(lines[0]);
  if (start === null) return null;
  const headers = new Headers();
  for (let i = 1; i < lines.length && lines[i] !== ""; i++) {
    const colon = lines[i].indexOf(":");
    if (colon <= 0) return null;
    try {
      headers.append(lines[i].slice(0, colon).trim(), lines[i].slice(colon + 1).trim());
    } catch {
      return null; // a header Headers refuses: Deno.serve says what is wrong with it
    }
  }
  if (headers.get("upgrade")?.toLowerCase() !== "websocket") return null;
  try {
    return new Request(`http://${headers.get("host") ?? host}${start[1]}`, { headers });
  } catch {
    return null;
  }
}

const utf8 = new TextEncoder();

/** Reason phrases of what the handler answers a handshake with (its `statusText` is empty). */
const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/**
 * Answers `request`, read off `conn` with `rest` after its head, with what
 * `serve` (the HTTP handler) says: a WebSocket from here on, or its
 * response and the close. A handler that threw gets a 500 and its error
 * rethrown, for the caller to log.
 */
export async function serveUpgrade(
  conn: Deno.Conn,
  request: Request,
  rest: Uint8Array,
  serve: (request: Request, conn: Deno.Conn) => Response | Promise<Response>,
): Promise<void> {
  const claim: Claim = { conn, socket: null, handshake: "" };
  claims.set(request, claim);
  let response: Response;
  let failure: unknown = null;
  try {
    response = await serve(request, conn);
  } catch (err) {
    failure = err;
    response = new Response("internal error\n", { status: 500 });
  }
  if (claim.socket !== null) return claim.socket.start(utf8.encode(claim.handshake), rest);
  const body = new Uint8Array(await response.arrayBuffer());
  const reason = response.statusText || REASONS[response.status] || "";
  let text = `HTTP/1.1 ${response.status} ${reason}\r\n`;
  for (const [name, value] of response.headers) text += `${name}: ${value}\r\n`;
  text += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  const head = utf8.encode(text);
  const out = copied([head, body], head.length + body.length);
  try {
    for (let at = 0; at < out.length;) at += await conn.write(out.subarray(at));
  } finally {
    conn.close();
  }
  if (failure !== null) throw failure;
}
