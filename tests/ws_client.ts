/**
 * A WebSocket test client (text or JSON format) that waits for conditions
 * instead of sleeping, and a raw WebSocket handshake over TCP for tests that
 * need a client that never reads or full control of the request headers.
 *
 * Frames may carry several items separated by `\n`: every frame is split, and
 * in JSON format every item is parsed.
 *
 * @module
 */

import { Arrivals, WAIT_MS } from "./helpers.ts";

/** A server event in JSON format (every one has a string `type`). */
// deno-lint-ignore no-explicit-any
export type JsonEvent = { type: string; [field: string]: any };

/** How a JSON client asks for the format. */
export type JsonVia = "query" | "protocol";

/** Options of {@link WsClient.open}. */
export interface OpenOptions {
  protocols?: string | string[];
  headers?: HeadersInit;
  /** Parse every item as JSON. */
  json?: boolean;
  timeoutMs?: number;
}

/** The WebSocket URL of a server's `/ws`. */
export function wsUrl(httpPort: number, query = ""): string {
  return `ws://127.0.0.1:${httpPort}/ws${query}`;
}

/** A WebSocket client that records every item it receives. */
export class WsClient implements AsyncDisposable {
  /** Every item received, in order (frames split on `\n`). */
  readonly items: string[] = [];
  /** In JSON format, `items` parsed (same positions). */
  readonly events: JsonEvent[] = [];
  /** Frames received (text and binary). */
  frames = 0;
  /** The close event, once the connection has closed. */
  closeEvent: CloseEvent | null = null;
  readonly ws: WebSocket;
  readonly json: boolean;
  #cursor = 0;
  readonly #arrivals = new Arrivals();
  readonly #closed: Promise<CloseEvent>;

  private constructor(ws: WebSocket, json: boolean) {
    this.ws = ws;
    this.json = json;
    this.#closed = new Promise((resolve) => {
      ws.addEventListener("close", (event) => {
        this.closeEvent = event;
        this.#arrivals.wake();
        resolve(event);
      });
    });
    ws.addEventListener("message", (event) => {
      this.frames++;
      if (typeof event.data !== "string") {
        this.items.push(`<binary frame>`);
        if (json) this.events.push({ type: "<binary frame>" });
      } else {
        for (const item of event.data.split("\n")) {
          this.items.push(item);
          if (json) this.events.push(JSON.parse(item));
        }
      }
      this.#arrivals.wake();
    });
  }

  /**
   * Opens a connection and resolves once it is open. Rejects (after the
   * socket has closed, so nothing leaks) if the handshake fails.
   */
  static open(url: string, options: OpenOptions = {}): Promise<WsClient> {
    // Deno's init object wants an array of protocols, not a single string.
    const protocols = typeof options.protocols === "string"
      ? [options.protocols]
      : options.protocols;
    const ws = new WebSocket(url, { protocols, headers: options.headers });
    const client = new WsClient(ws, options.json ?? false);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => ws.close(), options.timeoutMs ?? WAIT_MS);
      ws.addEventListener("open", () => {
        clearTimeout(timer);
        resolve(client);
      }, { once: true });
      client.#closed.then((event) => {
        clearTimeout(timer);
        reject(new Error(`WebSocket to ${url} did not open (close code ${event.code})`));
      });
    });
  }

  /** A text-format client, once it has its welcome and has joined the lobby. */
  static async text(httpPort: number): Promise<WsClient> {
    const client = await WsClient.open(wsUrl(httpPort));
    await client.waitFor((l) => l.startsWith("* welcome"));
    await client.waitFor((l) => / joined lobby$/.test(l));
    return client;
  }

  /**
   * A JSON-format client (by `?format=json` or the `chat.json` subprotocol),
   * once it has its welcome and has joined the lobby.
   */
  static async jsonClient(httpPort: number, via: JsonVia = "query"): Promise<WsClient> {
    const client = via === "query"
      ? await WsClient.open(wsUrl(httpPort, "?format=json"), { json: true })
      : await WsClient.open(wsUrl(httpPort), { protocols: "chat.json", json: true });
    await client.waitForEvent((e) => e.type === "welcome");
    await client.waitForEvent((e) => e.type === "joined" && e.room === "lobby");
    return client;
  }

  /** The nick from the welcome (either format). */
  get nick(): string {
    if (this.json) return this.events.find((e) => e.type === "welcome")?.nick ?? "";
    const welcome = this.items.find((l) => l.startsWith("* welcome"));
    return /you are (\S+)/.exec(welcome ?? "")?.[1] ?? "";
  }

  get closed(): boolean {
    return this.closeEvent !== null;
  }

  /** Sends the items as one text frame, joined with `\n`. */
  send(...items: string[]): void {
    this.ws.send(items.join("\n"));
  }

  /** Sends the requests as one text frame of JSON items. */
  sendJson(...requests: unknown[]): void {
    this.send(...requests.map((r) => JSON.stringify(r)));
  }

  /**
   * Waits until an item after the cursor matches; returns it and moves the
   * cursor past it (the next wait starts there).
   */
  async waitFor(match: (item: string) => boolean, timeoutMs = WAIT_MS): Promise<string> {
    const i = await this.#waitIndex((k) => match(this.items[k]), timeoutMs);
    return this.items[i];
  }

  /** Waits for the exact item. */
  expect(item: string, timeoutMs = WAIT_MS): Promise<string> {
    return this.waitFor((l) => l === item, timeoutMs);
  }

  /** JSON format: waits until an event after the cursor matches; returns it. */
  async waitForEvent(match: (e: JsonEvent) => boolean, timeoutMs = WAIT_MS): Promise<JsonEvent> {
    if (!this.json) throw new Error("not a JSON client");
    const i = await this.#waitIndex((k) => match(this.events[k]), timeoutMs);
    return this.events[i];
  }

  /** JSON format: the next event after the cursor, whatever it is. */
  next(timeoutMs = WAIT_MS): Promise<JsonEvent> {
    return this.waitForEvent(() => true, timeoutMs);
  }

  /** Items after the cursor (not matched yet). */
  rest(): string[] {
    return this.items.slice(this.#cursor);
  }

  /** JSON format: events after the cursor. */
  restEvents(): JsonEvent[] {
    return this.events.slice(this.#cursor);
  }

  /** Skips everything received so far. */
  skip(): void {
    this.#cursor = this.items.length;
  }

  /** Forgets everything received so far (keeps a long test's memory low). */
  clear(): void {
    this.items.length = 0;
    this.events.length = 0;
    this.#cursor = 0;
  }

  /** Waits until `condition()` holds (checked on every frame). */
  async until(condition: () => boolean, timeoutMs = WAIT_MS, what = "a condition"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.closeEvent !== null) {
        throw new Error(`closed (code ${this.closeEvent.code}) waiting for ${what}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got:\n${this.tail()}`);
      await this.#arrivals.next(left);
    }
  }

  /** Waits until the server (or we) closed the connection; returns the close event. */
  async waitClosed(timeoutMs = WAIT_MS): Promise<CloseEvent> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeEvent === null) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for the close; got:\n${this.tail()}`);
      await this.#arrivals.next(left);
    }
    return this.closeEvent;
  }

  tail(n = 15): string {
    return this.items.slice(-n).join("\n");
  }

  /** Closes (if still open) and waits for the close to complete. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) {
      this.ws.close();
    }
    await this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #waitIndex(match: (index: number) => boolean, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (; this.#cursor < this.items.length; this.#cursor++) {
        if (match(this.#cursor)) return this.#cursor++;
      }
      if (this.closeEvent !== null) {
        throw new Error(
          `closed (code ${this.closeEvent.code}) before a matching item; got:\n${this.tail()}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for an item; got:\n${this.tail()}`);
      await this.#arrivals.next(left);
    }
  }
}

/** A WebSocket handshake done by hand over TCP. */
export interface RawHandshake {
  conn: Deno.TcpConn;
  /** The HTTP status of the response. */
  status: number;
  /** The response head (status line and headers), without the blank line. */
  head: string;
  /** Bytes read after the head (start of the body or of the first frames). */
  rest: Uint8Array;
}

const encoder = new TextEncoder();

/**
 * Opens a TCP connection to the HTTP port and sends a WebSocket upgrade for
 * `path` by hand, then reads until the end of the response head. `headers`
 * are added (e.g. `Origin`); `Host` defaults to `127.0.0.1:<port>`. The caller
 * owns `conn` (and must close it).
 */
export async function rawHandshake(
  port: number,
  options: { path?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RawHandshake> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const headers: Record<string, string> = {
      Host: `127.0.0.1:${port}`,
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
      ...options.headers,
    };
    const request = `GET ${options.path ?? "/ws"} HTTP/1.1\r\n` +
      Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
    const bytes = encoder.encode(request);
    for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
    const deadline = Date.now() + (options.timeoutMs ?? WAIT_MS);
    let buffer = new Uint8Array(0);
    const chunk = new Uint8Array(4096);
    for (;;) {
      const end = indexOfHeadEnd(buffer);
      if (end !== -1) {
        const head = new TextDecoder().decode(buffer.subarray(0, end));
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
        return { conn, status, head, rest: buffer.slice(end + 4) };
      }
      if (Date.now() > deadline) throw new Error("timed out reading the handshake response");
      const n = await readWithTimeout(conn, chunk, deadline - Date.now());
      if (n === null) throw new Error("connection closed during the handshake");
      const merged = new Uint8Array(buffer.length + n);
      merged.set(buffer);
      merged.set(chunk.subarray(0, n), buffer.length);
      buffer = merged;
    }
  } catch (err) {
    conn.close();
    throw err;
  }
}

function indexOfHeadEnd(buffer: Uint8Array): number {
  for (let i = 0; i + 3 < buffer.length; i++) {
    if (buffer[i] === 13 && buffer[i + 1] === 10 && buffer[i + 2] === 13 && buffer[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** `conn.read` bounded in time: on timeout the connection is closed and the read rejects. */
export async function readWithTimeout(
  conn: Deno.Conn,
  buffer: Uint8Array,
  timeoutMs: number,
): Promise<number | null> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch {
      // already closed
    }
  }, Math.max(0, timeoutMs));
  try {
    return await conn.read(buffer);
  } catch (err) {
    if (timedOut) throw new Error("timed out reading");
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** A frame the server sent, as read by {@link readFrames}. */
export interface RawFrame {
  opcode: number;
  payload: Uint8Array;
}

/**
 * Reads server frames (unmasked) from `conn`, starting with `rest`, until
 * `stop` returns true for one (which is returned), the connection ends
 * (`null`) or the time is up (rejects).
 */
export async function readFrames(
  conn: Deno.Conn,
  rest: Uint8Array,
  stop: (frame: RawFrame) => boolean,
  timeoutMs = WAIT_MS,
): Promise<RawFrame | null> {
  const deadline = Date.now() + timeoutMs;
  let buffer = rest;
  const chunk = new Uint8Array(1 << 20);
  for (;;) {
    // Parse whole frames from the buffer.
    for (;;) {
      if (buffer.length < 2) break;
      const opcode = buffer[0] & 0x0f;
      let length = buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) break;
        length = (buffer[2] << 8) | buffer[3];
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) break;
        length = Number(new DataView(buffer.buffer, buffer.byteOffset + 2, 8).getBigUint64(0));
        offset = 10;
      }
      if (buffer.length < offset + length) break;
      const frame = { opcode, payload: buffer.slice(offset, offset + length) };
      buffer = buffer.subarray(offset + length);
      if (stop(frame)) return frame;
    }
    const n = await readWithTimeout(conn, chunk, deadline - Date.now());
    if (n === null) return null;
    const merged = new Uint8Array(buffer.length + n);
    merged.set(buffer);
    merged.set(chunk.subarray(0, n), buffer.length);
    buffer = merged;
  }
}
