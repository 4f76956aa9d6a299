/**
 * IRC over WebSocket (`text.ircv3.net`, `binary.ircv3.net` on `/ws`), in the
 * same rooms as nc users, and the registration timeout on both IRC doors.
 * Every wait is bounded.
 *
 * @module
 */

import assert from "node:assert/strict";
import { LineClient, WAIT_MS, withHttpServer } from "./helpers.ts";
import { type IrcLine, parseIrcLine, RawIrc } from "./irc_client.ts";

/** An IRC client on a WebSocket: one line per frame, no CRLF. */
class WsIrc implements AsyncDisposable {
  readonly frames: (string | Uint8Array)[] = [];
  readonly socket: WebSocket;
  closed = false;
  #cursor = 0;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) =>
      this.frames.push(typeof e.data === "string" ? e.data : new Uint8Array(e.data));
    socket.onclose = () => (this.closed = true);
  }

  static async connect(port: number, protocol: string): Promise<WsIrc> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, [protocol]);
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error("WebSocket did not open"));
    });
    return new WsIrc(socket);
  }

  /** The frames so far as text lines (binary frames decoded). */
  get lines(): string[] {
    return this.frames.map((f) => typeof f === "string" ? f : new TextDecoder().decode(f));
  }

  send(line: string | Uint8Array): void {
    this.socket.send(line);
  }

  async waitFor(match: (m: IrcLine) => boolean): Promise<IrcLine> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const lines = this.lines;
      for (; this.#cursor < lines.length; this.#cursor++) {
        const line = parseIrcLine(lines[this.#cursor]);
        if (match(line)) {
          this.#cursor++;
          return line;
        }
      }
      if (this.closed) throw new Error(`closed; got:\n${lines.slice(-10).join("\n")}`);
      if (Date.now() > deadline) throw new Error(`timed out; got:\n${lines.slice(-10).join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async waitClosed(): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!this.closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(this.closed, "the server closed the WebSocket");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.closed) return;
    const closed = new Promise((resolve) => this.socket.addEventListener("close", resolve));
    this.socket.close();
    await closed;
  }
}

for (const protocol of ["text.ircv3.net", "binary.ircv3.net"]) {
  Deno.test(`IRC over WebSocket (${protocol}) talks with an nc user in #dev`, async () => {
    await using server = await withHttpServer({ irc: { hostname: "127.0.0.1", port: 0 } });
    await using nc = await LineClient.chat(server.port);
    await nc.send("/join dev");
    await nc.waitFor((l) => l.endsWith(" joined dev"));
    await using irc = await WsIrc.connect(server.httpPort, protocol);
    assert.equal(irc.socket.protocol, protocol);
    irc.send("NICK wsnick");
    irc.send("USER wsnick 0 * :On a WebSocket");
    await irc.waitFor((m) => m.command === "001");
    irc.send("JOIN #dev");
    await irc.waitFor((m) => m.command === "366");
    await nc.expect("* wsnick joined dev");

    await nc.send("hello from nc");
    const got = await irc.waitFor((m) => m.command === "PRIVMSG");
    assert.deepEqual(got.params, ["#dev", "hello from nc"]);
    irc.send("PRIVMSG #dev :hello from a browser's IRC client");
    await nc.expect("[dev] wsnick: hello from a browser's IRC client");

    // One line per frame, without CRLF, in the frame type the subprotocol names.
    const binary = protocol === "binary.ircv3.net";
    assert.ok(irc.frames.every((f) => (typeof f !== "string") === binary), "frame types");
    assert.ok(irc.lines.every((l) => !l.includes("\r") && !l.includes("\n")), "no CRLF");

    // Invalid UTF-8 in a binary frame gets FAIL, and the client goes on.
    irc.send(new Uint8Array([0x50, 0x52, 0x49, 0xff, 0xfe]));
    await irc.waitFor((m) => m.command === "FAIL" && m.params[1] === "INVALID_UTF8");
    irc.send("PRIVMSG #dev :still here");
    await nc.expect("[dev] wsnick: still here");
  });
}

Deno.test("an IRC client that never registers is closed after the registration timeout (TCP and WebSocket)", async () => {
  // A 300 ms --idle-timeout shortens the 60 s registration timeout to it.
  await using server = await withHttpServer({
    irc: { hostname: "127.0.0.1", port: 0 },
    idleTimeoutMs: 300,
  });
  await using tcp = await RawIrc.connect(server.ircAddr!.port);
  await tcp.send("NICK halfway");
  await using ws = await WsIrc.connect(server.httpPort, "text.ircv3.net");
  ws.send("NICK halfway2");
  const error = await tcp.waitFor((m) => m.command === "ERROR");
  assert.match(error.params[0], /registration timed out/);
  await tcp.waitClosed();
  await ws.waitFor((m) => m.command === "ERROR" && /registration timed out/.test(m.params[0]));
  await ws.waitClosed();
  // A client that registers in time stays: past the timeout it gets the idle PING, not an ERROR.
  await using done = await RawIrc.register(server.ircAddr!.port, "intime");
  await done.waitFor((m) => m.command === "PING" || m.command === "ERROR");
  assert.ok(!done.lines.some((m) => m.command === "ERROR"), done.tail());
  await done.send("PING still");
  await done.waitFor((m) => m.command === "PONG");
});
