/**
 * Test helpers: a server on an ephemeral loopback port, and a line client
 * that waits for conditions instead of sleeping.
 *
 * @module
 */

import { type Config, parseInvocation } from "../src/config.ts";
import { type RunningServer, startServer } from "../src/server.ts";
import { MemoryHistoryStore } from "../src/store/memory.ts";

/** Default config for tests: port 0, no HTTP, in-memory history. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const invocation = parseInvocation(["127.0.0.1:0", "--http", "off", "--db", ":memory:"]);
  if (invocation.kind !== "run") throw new Error("unreachable");
  return { ...invocation.config, drainTimeoutMs: 2000, ...overrides };
}

/** Starts a server for one test; `await using` shuts it down. */
export function withServer(
  overrides: Partial<Config> = {},
): RunningServer & AsyncDisposable & { port: number } {
  const config = testConfig(overrides);
  const server = startServer(config, new MemoryHistoryStore(config.historySize));
  return {
    ...server,
    port: server.tcpAddr.port,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const encoder = new TextEncoder();

/** How long a test waits for an expected line before failing. */
export const WAIT_MS = 10_000;

/** A line-protocol client over a real socket. */
export class LineClient implements AsyncDisposable {
  readonly lines: string[] = [];
  #buffer = new Uint8Array(0);
  #waiters: (() => void)[] = [];
  #closed = false;
  readonly #reading: Promise<void>;
  readonly #decoder = new TextDecoder();

  private constructor(readonly conn: Deno.TcpConn) {
    this.#reading = this.#readLoop();
  }

  /** Connects to 127.0.0.1:port. */
  static async connect(port: number): Promise<LineClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    return new LineClient(conn);
  }

  /** Connects and waits for the welcome and lobby join; returns the client and its nick. */
  static async chat(port: number): Promise<LineClient> {
    const client = await LineClient.connect(port);
    await client.waitFor((l) => l.startsWith("* welcome"));
    await client.waitFor((l) => / joined lobby$/.test(l));
    return client;
  }

  /** The guest nick from the welcome notice. */
  get nick(): string {
    const welcome = this.lines.find((l) => l.startsWith("* welcome"));
    return /you are (\S+)/.exec(welcome ?? "")?.[1] ?? "";
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends lines, each followed by `\n`. */
  async send(...lines: string[]): Promise<void> {
    await this.write(encoder.encode(lines.map((l) => l + "\n").join("")));
  }

  /** Sends raw bytes. */
  async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) done += await this.conn.write(bytes.subarray(done));
  }

  /**
   * Waits until a line received after position `from` matches; returns it.
   * Lines are consumed in order: the next call starts after the match unless
   * `from` says otherwise.
   */
  #cursor = 0;
  async waitFor(match: (line: string) => boolean, timeoutMs = WAIT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (; this.#cursor < this.lines.length; this.#cursor++) {
        const line = this.lines[this.#cursor];
        if (match(line)) {
          this.#cursor++;
          return line;
        }
      }
      if (this.#closed) throw new Error(`closed before a matching line; got:\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a line; got:\n${this.tail()}`);
      await this.#next(left);
    }
  }

  /** Waits for the exact line. */
  expect(line: string, timeoutMs = WAIT_MS): Promise<string> {
    return this.waitFor((l) => l === line, timeoutMs);
  }

  /** Waits until `count` lines in all have arrived. */
  async waitForCount(count: number, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < count) {
      if (this.#closed) throw new Error(`closed after ${this.lines.length} of ${count} lines`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${this.lines.length} of ${count} lines`);
      await this.#next(left);
    }
  }

  /** Lines from the cursor on (what has not been matched yet). */
  rest(): string[] {
    return this.lines.slice(this.#cursor);
  }

  /** Skips everything received so far. */
  skip(): void {
    this.#cursor = this.lines.length;
  }

  /** Resolves when the server closes the connection. */
  async waitClosed(timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for the server to close");
      await this.#next(left);
    }
  }

  tail(n = 15): string {
    return this.lines.slice(-n).join("\n");
  }

  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    await this.#reading;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #next(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#waiters.push(done);
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  async #readLoop(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.conn.read(chunk);
        if (n === null) break;
        const merged = new Uint8Array(this.#buffer.length + n);
        merged.set(this.#buffer);
        merged.set(chunk.subarray(0, n), this.#buffer.length);
        let start = 0;
        for (let nl = merged.indexOf(10); nl !== -1; nl = merged.indexOf(10, start)) {
          this.lines.push(this.#decoder.decode(merged.subarray(start, nl)));
          start = nl + 1;
        }
        this.#buffer = merged.slice(start);
        this.#wake();
      }
    } catch {
      // reset or closed by us
    } finally {
      if (this.#buffer.length > 0) this.lines.push(this.#decoder.decode(this.#buffer));
      this.#closed = true;
      this.#wake();
    }
  }
}

/** Resolves after `ms` milliseconds (only where a test must let time pass). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
