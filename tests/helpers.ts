/**
 * Test helpers: a server on an ephemeral loopback port, and a line client
 * that waits for conditions instead of sleeping.
 *
 * @module
 */

import { type Config, parseInvocation } from "../src/config.ts";
import { type RunningServer, startServer } from "../src/server.ts";
import type { HistoryStore } from "../src/core/history.ts";
import { MemoryHistoryStore } from "../src/store/memory.ts";
import { loadAssets } from "../src/transport/http.ts";

/** Default config for tests: port 0, no HTTP, in-memory history. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const invocation = parseInvocation([
    "127.0.0.1:0",
    "--http",
    "off",
    "--irc",
    "off",
    "--db",
    ":memory:",
  ]);
  if (invocation.kind !== "run") throw new Error("unreachable");
  // Flood control off unless a test asks for it: most tests send far faster than 10 lines/s.
  return { ...invocation.config, drainTimeoutMs: 2000, flood: null, ...overrides };
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

/**
 * Starts a server with its HTTP listener on an ephemeral port and the web
 * client loaded; `httpPort` is that port. `await using` shuts it down.
 */
export async function withHttpServer(
  overrides: Partial<Config> = {},
  store?: HistoryStore,
): Promise<RunningServer & AsyncDisposable & { port: number; httpPort: number; origin: string }> {
  const config = testConfig({ http: { hostname: "127.0.0.1", port: 0 }, ...overrides });
  const history = store ?? new MemoryHistoryStore(config.historySize);
  const server = startServer(config, history, await loadAssets());
  const httpPort = server.httpAddr!.port;
  return {
    ...server,
    port: server.tcpAddr.port,
    httpPort,
    origin: `http://127.0.0.1:${httpPort}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const encoder = new TextEncoder();

/** Lets a test client wait for the next arrival of data, with a timeout, without polling. */
export class Arrivals {
  #waiters: (() => void)[] = [];

  /** Resolves at the next {@link wake} or after `timeoutMs`, whichever comes first. */
  next(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#waiters.push(done);
    });
  }

  /** Something arrived (or the connection closed): wake everyone waiting. */
  wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** How long a test waits for an expected line before failing. */
export const WAIT_MS = 10_000;

/** A line-protocol client over a real socket. */
export class LineClient implements AsyncDisposable {
  readonly lines: string[] = [];
  #buffer = new Uint8Array(0);
  readonly #arrivals = new Arrivals();
  #closed = false;
  readonly #reading: Promise<void>;
  readonly #decoder = new TextDecoder();

  private constructor(readonly conn: Deno.TcpConn | Deno.TlsConn) {
    this.#reading = this.#readLoop();
  }

  /** A client over a connection opened elsewhere (a TLS one, say). */
  static over(conn: Deno.TcpConn | Deno.TlsConn): LineClient {
    return new LineClient(conn);
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
      await this.#arrivals.next(left);
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
      await this.#arrivals.next(left);
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
      await this.#arrivals.next(left);
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
        this.#arrivals.wake();
      }
    } catch {
      // reset or closed by us
    } finally {
      if (this.#buffer.length > 0) this.lines.push(this.#decoder.decode(this.#buffer));
      this.#closed = true;
      this.#arrivals.wake();
    }
  }
}

/**
 * The client that connected last, by the server's count: guests are numbered
 * in the order the server took them, which among clients connected
 * concurrently need not be the order of the array.
 */
export function lastGuest<T extends { nick: string }>(clients: T[]): T {
  const number = (c: T) => Number(c.nick.replace(/^guest-/, ""));
  return clients.reduce((a, b) => (number(b) > number(a) ? b : a));
}

/** Resolves after `ms` milliseconds (only where a test must let time pass). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A server started as its own process from `main.ts`. */
export interface ServerProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly port: number;
  /** Everything the server logged so far (JSON lines on stderr). */
  readonly log: string[];
  /** Resolves with the exit status. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Resident memory in KiB. */
  rssKiB(): Promise<number>;
  kill(signal?: Deno.Signal): void;
}

const mainTs = new URL("../main.ts", import.meta.url).pathname;

/** Runs `main.ts` with `args` and waits for its "listening" log line. */
export async function spawnServer(
  args: string[] = [],
  options: {
    env?: Record<string, string>;
    shell?: string;
    executable?: string;
    /** Flags for V8 (`deno run --v8-flags=...`), such as a heap cap. */
    v8Flags?: string;
    /** `--allow-all` instead of the task's permissions (reading /proc needs it). */
    allowAll?: boolean;
  } = {},
): Promise<ServerProcess> {
  // By default `deno run main.ts`; `executable` runs a compiled binary instead.
  const program = options.executable ?? Deno.execPath();
  const v8 = options.v8Flags === undefined ? [] : [`--v8-flags=${options.v8Flags}`];
  const run = options.executable === undefined
    ? [
      "run",
      ...(options.allowAll
        ? ["--allow-all"]
        : ["--allow-net", "--allow-env", "--allow-read", "--allow-write"]),
      ...v8,
      mainTs,
    ]
    : [];
  const defaults = [
    "127.0.0.1:0",
    "--http",
    "off",
    "--irc",
    "off",
    "--db",
    ":memory:",
    "--log-format",
    "json",
    "--no-limits",
  ];
  const full = [...run, ...defaults, ...args];
  // `shell` wraps the command, e.g. "ulimit -n 64;" to start with fewer descriptors.
  const command = options.shell === undefined
    ? new Deno.Command(program, { args: full, stdout: "piped", stderr: "piped", env: options.env })
    : new Deno.Command("bash", {
      args: ["-c", `${options.shell} exec "$0" "$@"`, program, ...full],
      stdout: "piped",
      stderr: "piped",
      env: options.env,
    });
  const child = command.spawn();
  const log: string[] = [];
  let resolvePort!: (port: number) => void;
  const port = new Promise<number>((resolve) => (resolvePort = resolve));
  const stderrDone = (async () => {
    const lines = child.stderr.pipeThrough(new TextDecoderStream());
    let rest = "";
    for await (const text of lines) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        log.push(line);
        const m = /^\{.*"address":"[^"]*:(\d+)"/.exec(line);
        if (m && line.includes('"listening on')) resolvePort(Number(m[1]));
        // With --log-format text.
        const t = /listening on \S+:(\d+) \((chat|echo) mode\)/.exec(line);
        if (t && !line.startsWith("{")) resolvePort(Number(t[1]));
      }
    }
    if (rest) log.push(rest);
    resolvePort(0);
  })();
  const stdoutDone = child.stdout.cancel();
  const status = Promise.all([child.status, stderrDone, stdoutDone]).then(([s]) => s);
  const bound = await port;
  if (bound === 0) {
    await status;
    throw new Error(`server did not start:\n${log.join("\n")}`);
  }
  const kill = (signal: Deno.Signal = "SIGTERM") => {
    try {
      child.kill(signal);
    } catch {
      // already exited
    }
  };
  return {
    child,
    port: bound,
    log,
    status,
    kill,
    async rssKiB() {
      // `ps` rather than /proc, which Deno only opens with --allow-all.
      const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(child.pid)] })
        .output();
      return Number(new TextDecoder().decode(out.stdout).trim());
    },
    async [Symbol.asyncDispose]() {
      kill("SIGKILL");
      await status;
    },
  };
}

/** Runs `main.ts` with `args` to completion; returns status and output. */
export async function runMain(
  args: string[],
  env?: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", mainTs, ...args],
    stdout: "piped",
    stderr: "piped",
    // No IRC listener on the default port unless a test asks for one.
    env: { CHAT_IRC: "off", ...env },
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * A self-signed certificate for 127.0.0.1 written to `dir`/cert.pem and
 * `dir`/key.pem, named `name` (not a CA: Deno's TLS refuses those as server
 * certificates). Needs `openssl`.
 */
export async function selfSigned(
  dir: string,
  name = "127.0.0.1",
): Promise<{ cert: string; key: string }> {
  const out = await new Deno.Command("openssl", {
    args: [
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"],
      ...["-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`, "-subj", `/CN=${name}`],
      ...["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
      ...["-addext", "basicConstraints=critical,CA:FALSE"],
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`openssl failed: ${new TextDecoder().decode(out.stderr)}`);
  return {
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
  };
}
