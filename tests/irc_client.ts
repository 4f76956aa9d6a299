/**
 * IRC test clients: {@link RawIrc}, lines over a plain socket (CRLF, parsed
 * replies, waiting for conditions), and {@link Kiwi}, a client made with
 * irc-framework (the library behind Kiwi IRC), recording its events and the
 * raw lines it got.
 *
 * @module
 */

// Imported here, not in deno.json: only the tests need it, and a dependency listed there is
// installed (with a warning about its install scripts) on every first `deno task start`.
// deno-lint-ignore no-import-prefix
import IRC from "npm:irc-framework@^4.14.0";
import { Arrivals, LineClient, WAIT_MS } from "./helpers.ts";

/** One IRC line as received, parsed. */
export interface IrcLine {
  /** The line as it came, without its CRLF. */
  raw: string;
  tags: Record<string, string>;
  source: string | null;
  command: string;
  params: string[];
}

/** Parses one IRC line (without its line ending); tag values are unescaped. */
export function parseIrcLine(raw: string): IrcLine {
  let rest = raw;
  const tags: Record<string, string> = {};
  if (rest.startsWith("@")) {
    const space = rest.indexOf(" ");
    for (const tag of rest.slice(1, space).split(";")) {
      const eq = tag.indexOf("=");
      const name = eq === -1 ? tag : tag.slice(0, eq);
      const value = eq === -1 ? "" : tag.slice(eq + 1).replace(
        /\\(.)/g,
        (_, c: string) =>
          ({ ":": ";", s: " ", r: "\r", n: "\n" } as Record<string, string>)[c] ?? c,
      );
      tags[name] = value;
    }
    rest = rest.slice(space + 1).trimStart();
  }
  let source: string | null = null;
  if (rest.startsWith(":")) {
    const space = rest.indexOf(" ");
    source = rest.slice(1, space);
    rest = rest.slice(space + 1).trimStart();
  }
  const params: string[] = [];
  let command = "";
  while (rest !== "") {
    if (rest.startsWith(":") && command !== "") {
      params.push(rest.slice(1));
      break;
    }
    const space = rest.indexOf(" ");
    const word = space === -1 ? rest : rest.slice(0, space);
    if (command === "") command = word.toUpperCase();
    else params.push(word);
    rest = space === -1 ? "" : rest.slice(space + 1).replace(/^ +/, "");
  }
  return { raw, tags, source, command, params };
}

/** The nick of a `nick!user@host` source. */
export function nickOf(source: string | null): string {
  return (source ?? "").split("!")[0];
}

const encoder = new TextEncoder();

/** An IRC client over a plain socket: lines out with CRLF, lines in parsed. */
export class RawIrc implements AsyncDisposable {
  readonly #lines: LineClient;
  #cursor = 0;
  #pings = 0;

  private constructor(lines: LineClient) {
    this.#lines = lines;
  }

  /** Connects to 127.0.0.1:port. */
  static async connect(port: number): Promise<RawIrc> {
    return new RawIrc(await LineClient.connect(port));
  }

  /**
   * Connects and registers as `nick` (after `PASS`, caps and SASL PLAIN as
   * `nick` with `sasl` as the password, when given); waits for the burst.
   */
  static async register(
    port: number,
    nick: string,
    options: { caps?: string[]; pass?: string; sasl?: string } = {},
  ): Promise<RawIrc> {
    const client = await RawIrc.connect(port);
    const lines: string[] = [];
    const caps = options.sasl === undefined ? options.caps : [...options.caps ?? [], "sasl"];
    if (options.pass !== undefined) lines.push(`PASS ${options.pass}`);
    if (caps !== undefined) lines.push("CAP LS 302", `CAP REQ :${caps.join(" ")}`);
    if (options.sasl !== undefined) {
      await client.send(...lines, "AUTHENTICATE PLAIN");
      lines.length = 0;
      await client.waitFor((m) => m.command === "AUTHENTICATE" && m.params[0] === "+");
      await client.send(`AUTHENTICATE ${btoa(`${nick}\0${nick}\0${options.sasl}`)}`);
      await client.expect("903");
    }
    lines.push(`NICK ${nick}`, `USER ${nick} 0 * :Real ${nick}`);
    if (caps !== undefined) lines.push("CAP END");
    await client.send(...lines);
    await client.waitFor((m) => m.command === "001");
    await client.waitFor((m) => m.command === "376" || m.command === "422");
    return client;
  }

  /** Every line received so far, parsed. */
  get lines(): IrcLine[] {
    // A line that did not end in CRLF keeps no `\r`: kept as it came, so a test can see it.
    return this.#lines.lines.map((l) => parseIrcLine(l.endsWith("\r") ? l.slice(0, -1) : l));
  }

  /** Lines received that did not end in CRLF (the last one, if the connection closed mid-line, included). */
  get bareLines(): string[] {
    return this.#lines.lines.filter((l) => !l.endsWith("\r"));
  }

  get closed(): boolean {
    return this.#lines.closed;
  }

  /** Sends lines, each followed by CRLF, in one write. */
  async send(...lines: string[]): Promise<void> {
    await this.write(encoder.encode(lines.map((l) => l + "\r\n").join("")));
  }

  /** Sends raw bytes. */
  write(bytes: Uint8Array): Promise<void> {
    return this.#lines.write(bytes);
  }

  /** Waits until a line after the cursor matches; returns it. */
  async waitFor(match: (m: IrcLine) => boolean, timeoutMs = WAIT_MS): Promise<IrcLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.#lines.lines;
      for (; this.#cursor < lines.length; this.#cursor++) {
        const line = parseIrcLine(lines[this.#cursor].replace(/\r$/, ""));
        if (match(line)) {
          this.#cursor++;
          return line;
        }
      }
      if (this.#lines.closed) {
        throw new Error(`closed before a matching line; got:\n${this.tail()}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a line; got:\n${this.tail()}`);
      // Rejects on a close or at the deadline: both are checked above.
      await this.#lines.waitForCount(lines.length + 1, left).catch(() => {});
    }
  }

  /** Waits for a numeric (or command) after the cursor; returns it. */
  expect(command: string, timeoutMs = WAIT_MS): Promise<IrcLine> {
    return this.waitFor((m) => m.command === command, timeoutMs);
  }

  /**
   * Sends `PING` with a fresh token and waits for its `PONG`; returns the
   * lines after the cursor up to it (everything caused by earlier lines
   * comes before it).
   */
  async sync(): Promise<IrcLine[]> {
    const token = `sync${++this.#pings}`;
    const from = this.#cursor;
    await this.send(`PING ${token}`);
    await this.waitFor((m) => m.command === "PONG" && m.params[m.params.length - 1] === token);
    return this.#lines.lines.slice(from, this.#cursor - 1).map((l) =>
      parseIrcLine(l.replace(/\r$/, ""))
    );
  }

  /** Skips everything received so far. */
  skip(): void {
    this.#cursor = this.#lines.lines.length;
  }

  /** Resolves when the server has closed the connection. */
  waitClosed(timeoutMs = WAIT_MS): Promise<void> {
    return this.#lines.waitClosed(timeoutMs);
  }

  tail(n = 15): string {
    return this.#lines.tail(n);
  }

  close(): Promise<void> {
    return this.#lines.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** An irc-framework event as the library emits it (fields vary by event). */
// deno-lint-ignore no-explicit-any
export type KiwiEvent = { [field: string]: any };

/** What {@link Kiwi.connect} takes besides the port and nick. */
export interface KiwiOptions {
  /** Ask for `echo-message` (irc-framework asks for the other caps it knows by itself). */
  echo?: boolean;
  username?: string;
  gecos?: string;
}

/**
 * An irc-framework client that records every event (by name) and every raw
 * line the server sent, and waits for them without sleeping.
 */
export class Kiwi implements AsyncDisposable {
  // deno-lint-ignore no-explicit-any
  readonly client: any;
  readonly nick: string;
  /** Every parsed event, in order: `[name, event]`. */
  readonly events: [string, KiwiEvent][] = [];
  /** Every line the server sent, as it came (no CRLF). */
  readonly raw: string[] = [];
  readonly #arrivals = new Arrivals();
  #cursor = 0;
  #rawCursor = 0;
  #closed = false;

  private constructor(nick: string) {
    this.nick = nick;
    this.client = new IRC.Client();
    this.client.command_handler.on("all", (name: string, event: KiwiEvent) => {
      this.events.push([name, event]);
      this.#arrivals.wake();
    });
    this.client.on("raw", (event: KiwiEvent) => {
      if (!event.from_server) return;
      this.raw.push(String(event.line).replace(/\r?\n$/, ""));
      this.#arrivals.wake();
    });
    this.client.on("close", () => {
      this.#closed = true;
      this.#arrivals.wake();
    });
  }

  /** Connects to 127.0.0.1:port as `nick` and waits until it is registered. */
  static async connect(port: number, nick: string, options: KiwiOptions = {}): Promise<Kiwi> {
    const kiwi = new Kiwi(nick);
    kiwi.client.connect({
      host: "127.0.0.1",
      port,
      nick,
      username: options.username ?? nick,
      gecos: options.gecos ?? `Real ${nick}`,
      auto_reconnect: false,
      // No timers of its own: each test bounds its waits, and leaves no timer behind.
      ping_interval: 0,
      ping_timeout: 0,
      enable_echomessage: options.echo ?? false,
      version: null,
    });
    await kiwi.waitEvent("registered");
    return kiwi;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Waits for an event named `name` (after the cursor) that matches; returns it. */
  async waitEvent(
    name: string,
    match: (event: KiwiEvent) => boolean = () => true,
    timeoutMs = WAIT_MS,
  ): Promise<KiwiEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (; this.#cursor < this.events.length; this.#cursor++) {
        const [n, event] = this.events[this.#cursor];
        if (n === name && match(event)) {
          this.#cursor++;
          return event;
        }
      }
      if (this.#closed) throw new Error(`closed before a "${name}" event; got:\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for a "${name}" event; got:\n${this.tail()}`);
      }
      await this.#arrivals.next(left);
    }
  }

  /** Waits for a raw line (after the raw cursor) that matches; returns it parsed. */
  async waitRaw(match: (m: IrcLine) => boolean, timeoutMs = WAIT_MS): Promise<IrcLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (; this.#rawCursor < this.raw.length; this.#rawCursor++) {
        const line = parseIrcLine(this.raw[this.#rawCursor]);
        if (match(line)) {
          this.#rawCursor++;
          return line;
        }
      }
      if (this.#closed) throw new Error(`closed before a matching line; got:\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a line; got:\n${this.tail()}`);
      await this.#arrivals.next(left);
    }
  }

  /** Where the raw cursor is (to look at what came after a point). */
  get rawMark(): number {
    return this.#rawCursor;
  }

  /** Joins `channel` (with `key`) and waits for the end of its names. */
  async join(channel: string, key?: string): Promise<void> {
    this.client.join(channel, key);
    await this.waitRaw((m) => m.command === "366" && m.params[1] === channel);
  }

  tail(n = 20): string {
    return this.raw.slice(-n).join("\n");
  }

  /** Quits (if still connected) and waits until the connection is closed. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.client.quit("bye");
      const deadline = Date.now() + WAIT_MS;
      while (!this.#closed && Date.now() < deadline) {
        await this.#arrivals.next(deadline - Date.now());
      }
      if (!this.#closed) {
        this.client.connection.end();
        throw new Error("the server did not close the connection after QUIT");
      }
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
