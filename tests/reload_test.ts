/**
 * The config file and live reload over real processes: `--config`, SIGHUP,
 * `/rehash`, and a certificate swapped while a TLS client stays connected.
 */
import assert from "node:assert/strict";
import { RawIrc } from "./irc_client.ts";
import {
  delay,
  LineClient,
  runMain,
  selfSigned,
  type ServerProcess,
  spawnServer,
  WAIT_MS,
} from "./helpers.ts";

/** Waits until the server has logged a line matching `pattern`; returns it. */
async function logged(server: ServerProcess, pattern: RegExp, after = 0): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const line = server.log.slice(after).find((l) => pattern.test(l));
    if (line !== undefined) return line;
    if (Date.now() > deadline) assert.fail(`no log line ${pattern}:\n${server.log.join("\n")}`);
    await delay(20);
  }
}

/** Sends SIGHUP and waits for the reload's outcome in the log. */
async function hangUp(server: ServerProcess, outcome: RegExp): Promise<string> {
  const after = server.log.length;
  server.kill("SIGHUP");
  return await logged(server, outcome, after);
}

Deno.test("--config: the file's values are used, a flag overrides one, a bad key exits 2 naming its line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-config-" });
  try {
    const file = `${dir}/chat.toml`;
    await Deno.writeTextFile(file, "max-line-bytes = 128\nquiet-room-size = 5\n");
    await using server = await spawnServer(["--config", file, "--quiet-room-size", "6"]);
    await using a = await LineClient.chat(server.port);
    await a.send("x".repeat(200));
    await a.expect("! line too long (max 128 bytes)");

    await Deno.writeTextFile(file, "max-line-bytes = 128\n\nflood-rate = 'fast'\n");
    const bad = await runMain(["127.0.0.1:0", "--config", file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /chat\.toml:3: flood-rate: expected a whole number/);
    await Deno.writeTextFile(file, "max-lines = 1\n");
    const unknown = await runMain(["127.0.0.1:0", "--config", file]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /chat\.toml:1: max-lines: unknown key/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGHUP re-reads the file and the password files; connected clients stay; a bad file changes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-reload-" });
  try {
    const file = `${dir}/chat.toml`;
    const adminFile = `${dir}/admin.txt`;
    await Deno.writeTextFile(adminFile, "old-secret\n");
    const settings = (maxLine: number) =>
      `max-line-bytes = ${maxLine}\nadmin-password-file = "${adminFile}"\n`;
    await Deno.writeTextFile(file, settings(256));
    await using server = await spawnServer(["--config", file]);
    await using a = await LineClient.chat(server.port);
    await a.send("/admin old-secret");
    await a.expect("* you are now a server operator");

    await Deno.writeTextFile(file, settings(128) + 'server-name = "elsewhere.example"\n');
    await Deno.writeTextFile(adminFile, "new-secret\n");
    const summary = await hangUp(server, /config reloaded/);
    assert.match(summary, /applied max-line-bytes, admin-password/);
    assert.match(summary, /needs a restart: server-name/);
    await logged(server, /"setting":"server-name"/);

    // The old client is still here and still an operator; new clients get the new settings.
    await a.send("/stats");
    await a.waitFor((l) => l.startsWith("* stats:"));
    await using b = await LineClient.chat(server.port);
    await b.send("x".repeat(200));
    await b.expect("! line too long (max 128 bytes)");
    await b.send("/admin old-secret");
    await b.waitFor((l) => l.startsWith("! ") && /password/.test(l));
    await b.send("/admin new-secret");
    await b.expect("* you are now a server operator");

    // A bad file: logged with its reason, and the running settings stay.
    await Deno.writeTextFile(file, "max-line-bytes = 1\n");
    const failure = await hangUp(server, /reload failed/);
    assert.match(failure, /chat\.toml:1: max-line-bytes: expected a whole number/);
    await using c = await LineClient.chat(server.port);
    await c.send("x".repeat(200));
    await c.expect("! line too long (max 128 bytes)");
    assert.equal(a.closed, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("/rehash reloads for a server operator, says what changed, and is refused to others", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-rehash-" });
  try {
    const file = `${dir}/chat.toml`;
    await Deno.writeTextFile(file, 'admin-password = "root"\nhistory-on-join = 20\n');
    await using server = await spawnServer(["--config", file]);
    await using op = await LineClient.chat(server.port);
    await using guest = await LineClient.chat(server.port);
    await guest.send("/rehash");
    await guest.waitFor((l) => l.startsWith("! ") && /operator/.test(l));

    await op.send("/admin root");
    await op.expect("* you are now a server operator");
    await Deno.writeTextFile(
      file,
      'admin-password = "root"\nhistory-on-join = 5\nhistory-size = 50\nlog-level = "debug"\n',
    );
    await op.send("/rehash");
    const reply = await op.waitFor((l) => l.startsWith("* config reloaded"));
    assert.match(reply, /applied history-on-join, log-level/);
    assert.match(reply, /needs a restart: history-size/);

    await Deno.writeTextFile(file, 'admin-password = "root"\nbogus = 1\n');
    await op.send("/rehash");
    const error = await op.waitFor((l) => l.startsWith("! rehash failed"));
    assert.match(error, /chat\.toml:2: bogus: unknown key/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a renewed certificate is served after SIGHUP while TLS clients stay connected", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-renew-" });
  try {
    const first = (await selfSigned(dir, "first")).cert;
    await using server = await spawnServer([
      ...["--tls-cert", `${dir}/cert.pem`, "--tls-key", `${dir}/key.pem`],
      ...["--http", "127.0.0.1:0"],
    ]);
    const connect = (ca: string) =>
      Deno.connectTls({ hostname: "127.0.0.1", port: server.port, caCerts: [ca] });
    await using old = LineClient.over(await connect(first));
    await old.waitFor((l) => / joined lobby$/.test(l));
    // A WSS client too: HTTPS serves through a relay that can change certificates.
    const http = await logged(server, /http listening on/);
    const httpPort = Number(/"httpAddress":"[^"]*:(\d+)"/.exec(http)![1]);
    const wss = await openWss(httpPort, first);

    // A renewal rewrites the same files, then sends SIGHUP.
    const second = (await selfSigned(dir, "second")).cert;
    assert.notEqual(second, first);
    const summary = await hangUp(server, /config reloaded|reload failed/);
    assert.match(summary, /TLS certificate re-read/);

    await using renewed = LineClient.over(await connect(second));
    await renewed.waitFor((l) => / joined lobby$/.test(l));
    // The old certificate is no longer served to new connections.
    await assert.rejects(async () => {
      const conn = await connect(first);
      try {
        await conn.handshake();
      } finally {
        conn.close();
      }
    });
    // The client from before the renewal still chats, with the new one.
    await old.send("still here");
    await renewed.waitFor((l) => l.endsWith(": still here"));
    // HTTPS: the new certificate for new connections, the old WebSocket still open and served.
    const client = Deno.createHttpClient({ caCerts: [second] });
    const health = await fetch(`https://127.0.0.1:${httpPort}/healthz`, { client });
    assert.equal(health.status, 200);
    await health.body?.cancel();
    client.close();
    await assert.rejects(async () => {
      const conn = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: httpPort,
        caCerts: [first],
      });
      try {
        await conn.handshake();
      } finally {
        conn.close();
      }
    });
    await renewed.send("to the websocket");
    await wss.until(() => wss.lines.some((l) => l.endsWith(": to the websocket")));
    wss.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("IRC REHASH: 481 for others, a NOTICE with what changed for an operator", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-rehash-irc-" });
  try {
    const file = `${dir}/chat.toml`;
    await Deno.writeTextFile(file, 'admin-password = "root"\n');
    await using server = await spawnServer(["--config", file, "--irc", "127.0.0.1:0"]);
    const listening = await logged(server, /irc listening on/);
    const port = Number(/"ircAddress":"[^"]*:(\d+)"/.exec(listening)![1]);
    await using irc = await RawIrc.register(port, "ops");
    await irc.send("REHASH");
    await irc.waitFor((m) => m.command === "481");
    await irc.send("OPER ops root");
    await irc.waitFor((m) => m.command === "381");
    await Deno.writeTextFile(file, 'admin-password = "root"\nquiet-room-size = 3\n');
    await irc.send("REHASH");
    const notice = await irc.waitFor((m) =>
      m.command === "NOTICE" && /config reloaded/.test(m.raw)
    );
    assert.match(notice.params.at(-1)!, /applied quiet-room-size/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A text-format WebSocket over TLS trusting only `ca`, collecting the lines it gets. */
async function openWss(port: number, ca: string) {
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [ca] });
  const encoder = new TextEncoder();
  await conn.write(encoder.encode(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  ));
  const lines: string[] = [];
  const decoder = new TextDecoder();
  // Frames from the server are unmasked: a tiny reader of text frames is enough here.
  const reading = (async () => {
    const buffer = new Uint8Array(65536);
    let pending = new Uint8Array(0);
    let upgraded = false;
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) return;
      pending = new Uint8Array([...pending, ...buffer.subarray(0, n)]);
      if (!upgraded) {
        const head = decoder.decode(pending);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) continue;
        assert.match(head, /^HTTP\/1\.1 101/);
        upgraded = true;
        pending = pending.subarray(new TextEncoder().encode(head.slice(0, end + 4)).length);
      }
      while (pending.length >= 2) {
        let length = pending[1] & 0x7f;
        let at = 2;
        if (length === 126) {
          if (pending.length < 4) break;
          length = (pending[2] << 8) | pending[3];
          at = 4;
        }
        if (pending.length < at + length) break;
        // A frame holds whole lines, several separated by newlines.
        lines.push(...decoder.decode(pending.subarray(at, at + length)).split("\n"));
        pending = pending.subarray(at + length);
      }
    }
  })();
  return {
    lines,
    async until(ok: () => boolean) {
      const deadline = Date.now() + 10_000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`not seen; got ${JSON.stringify(lines)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close() {
      conn.close();
      void reading;
    },
  };
}
