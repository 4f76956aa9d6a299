/**
 * A client connection for the line protocol: reads into one 64 KiB buffer, splits on `\n` and hands
 * each line to a callback without copying; writes are queued and coalesced so that a connection
 * never has more than one write in progress.
 *
 * @module
 */

import { NEWLINE, nowNs } from "./lines.ts";
import { connectWithTimeout, type Target, writeAll } from "./net.ts";

/** Size of each connection's read buffer; a longer line is dropped (and counted). */
export const READ_BUFFER_SIZE = 64 * 1024;

/**
 * Called for each complete line: the line is `buf[start, end)` without its `\n`, valid only during
 * the call. `recvNs` is the benchmark clock ({@link nowNs}) when the chunk holding it was read.
 */
export type LineCallback = (buf: Uint8Array, start: number, end: number, recvNs: number) => void;

/**
 * What the scenarios need from a client connection, whatever its transport: TCP lines
 * ({@link LineConn}) or WebSocket text frames (`WsConn` in `ws.ts`).
 */
export interface LineClient {
  /** Whether the connection was closed, by us or by a failure. */
  readonly closed: boolean;
  /** Set when the peer closed the connection or an I/O error happened (not on our own close). */
  readonly lost: boolean;
  /** Lines too long for the read buffer that were dropped. */
  readonly overlong: number;
  /**
   * Reads until the connection ends, calling `onLine` for every line and then `afterChunk` once
   * per read. Resolves when the connection is closed by either side; never rejects.
   */
  readLines(onLine: LineCallback, afterChunk?: () => void): Promise<void>;
  /** Queues complete `\n`-terminated lines for sending (coalesced); dropped after close. */
  write(data: Uint8Array): void;
  /** Closes the connection (idempotent). */
  close(): void;
}

/** One TCP connection speaking the line protocol. */
export class LineConn implements LineClient {
  readonly #conn: Deno.TcpConn;
  #pending: Uint8Array[] = [];
  #writing = false;
  #closed = false;
  /** Set when the peer closed the connection or an I/O error happened (not on our own close). */
  lost = false;
  /** Lines longer than the read buffer that were dropped. */
  overlong = 0;

  /** Wraps an established connection and turns Nagle's algorithm off. */
  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    conn.setNoDelay(true);
  }

  /** Whether {@link close} was called or the connection failed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Reads until the connection ends, calling `onLine` for every line and then `afterChunk` (if
   * given) once per read, which is the place to send replies in one coalesced write. Resolves when
   * the connection is closed by either side; never rejects.
   */
  async readLines(onLine: LineCallback, afterChunk?: () => void): Promise<void> {
    const buf = new Uint8Array(READ_BUFFER_SIZE);
    let filled = 0; // bytes of an incomplete line kept at the start of buf
    let skipping = false; // dropping the rest of an overlong line
    try {
      for (;;) {
        if (filled === buf.length) {
          // No newline in a full buffer: drop this line up to its end.
          this.overlong++;
          filled = 0;
          skipping = true;
        }
        const n = await this.#conn.read(buf.subarray(filled));
        if (n === null) break;
        const recvNs = nowNs();
        const end = filled + n;
        const view = buf.subarray(0, end);
        let start = 0;
        let nl = view.indexOf(NEWLINE, filled);
        if (skipping && nl !== -1) {
          skipping = false;
          start = nl + 1;
          nl = view.indexOf(NEWLINE, start);
        }
        while (nl !== -1) {
          onLine(buf, start, nl, recvNs);
          start = nl + 1;
          nl = view.indexOf(NEWLINE, start);
        }
        if (skipping) {
          filled = 0;
        } else {
          buf.copyWithin(0, start, end);
          filled = end - start;
        }
        afterChunk?.();
      }
      if (!this.#closed) this.lost = true;
    } catch {
      if (!this.#closed) this.lost = true;
    }
    this.close();
  }

  /**
   * Queues `data` for sending. While a write is in progress, further data is collected and sent as
   * one write afterwards. Data written after {@link close} is dropped.
   */
  write(data: Uint8Array): void {
    if (this.#closed || data.length === 0) return;
    this.#pending.push(data);
    if (!this.#writing) void this.#flush();
  }

  /** Bytes queued but not yet handed to the socket. */
  get queuedBytes(): number {
    let n = 0;
    for (const chunk of this.#pending) n += chunk.length;
    return n;
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending.length > 0 && !this.#closed) {
        const chunk = concat(this.#pending);
        this.#pending = [];
        await writeAll(this.#conn, chunk);
      }
    } catch {
      if (!this.#closed) this.lost = true;
      this.close();
    } finally {
      this.#writing = false;
    }
  }

  /** Closes the connection (idempotent); a pending read then ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime.
    }
  }
}

/** Joins byte arrays into one (returns the only one as is). */
export function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Outcome of {@link connectAll}: one slot per requested connection, null where it failed. */
export interface ConnectResult<T = LineConn> {
  /** Connections in the order they were requested; null for a failed one. */
  conns: (T | null)[];
  /** Number of connections that failed. */
  failed: number;
  /** First error message seen, if any. */
  firstError: string | null;
}

/** Options of {@link connectAll} and {@link connectEach}. */
export interface ConnectOptions {
  /** Connections being opened at the same time (default 50). */
  concurrency?: number;
  /** Time limit per connection in ms (default 5000). */
  timeoutMs?: number;
  /** Called after each attempt with the number of attempts done. */
  onProgress?: (done: number) => void;
}

/**
 * Opens `count` connections with `open`, at most `concurrency` at a time so the server's accept
 * backlog is not overrun; `open` gets the time limit. Never rejects.
 */
export async function connectEach<T>(
  count: number,
  open: (timeoutMs: number) => Promise<T>,
  options: ConnectOptions = {},
): Promise<ConnectResult<T>> {
  const { concurrency = 50, timeoutMs = 5000, onProgress } = options;
  const conns: (T | null)[] = new Array(count).fill(null);
  let next = 0;
  let done = 0;
  let failed = 0;
  let firstError: string | null = null;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      try {
        conns[i] = await open(timeoutMs);
      } catch (err) {
        failed++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
      onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { conns, failed, firstError };
}

/** Opens `count` TCP line connections to `target` (see {@link connectEach}). Never rejects. */
export function connectAll(
  target: Target,
  count: number,
  options: ConnectOptions = {},
): Promise<ConnectResult> {
  return connectEach(
    count,
    async (timeoutMs) => new LineConn(await connectWithTimeout(target, timeoutMs)),
    options,
  );
}
