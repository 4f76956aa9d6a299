/**
 * The WebSocket protocol as the server speaks it on its own connections
 * (RFC 6455): handshakes however they arrive, fragmented messages, pings,
 * the close handshake from either side, and the close codes of frames it
 * refuses. Raw clients over TCP, so every byte is the test's.
 */
import assert from "node:assert/strict";
import { LineClient, withHttpServer } from "./helpers.ts";
import { type RawFrame, rawHandshake, readFrames, readWithTimeout } from "./ws_client.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** A client frame, masked. */
function frame(opcode: number, payload: Uint8Array | string, fin = true): Uint8Array {
  const bytes = typeof payload === "string" ? utf8.encode(payload) : payload;
  const n = bytes.length;
  const header = n < 126
    ? [0x80 | n]
    : n < 65536
    ? [0x80 | 126, n >> 8, n & 0xff]
    : [0x80 | 127, 0, 0, 0, 0, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  const mask = [0x12, 0x34, 0x56, 0x78];
  const out = new Uint8Array(1 + header.length + 4 + n);
  out[0] = (fin ? 0x80 : 0) | opcode;
  out.set(header, 1);
  out.set(mask, 1 + header.length);
  for (let i = 0; i < n; i++) out[1 + header.length + 4 + i] = bytes[i] ^ mask[i % 4];
  return out;
}

async function write(conn: Deno.Conn, ...chunks: Uint8Array[]): Promise<void> {
  for (const chunk of chunks) {
    for (let at = 0; at < chunk.length;) at += await conn.write(chunk.subarray(at));
  }
}

function closeCode(f: RawFrame): number {
  return (f.payload[0] << 8) | f.payload[1];
}

/** A raw client past its welcome: its connection and the bytes read after the last frame. */
async function welcomed(httpPort: number) {
  const raw = await rawHandshake(httpPort);
  assert.equal(raw.status, 101, raw.head);
  await readFrames(raw.conn, raw.rest, (f) => / joined lobby$/m.test(text.decode(f.payload)));
  return raw.conn;
}

Deno.test("a handshake sent a byte at a time is answered; other requests on the port still are", async () => {
  await using server = await withHttpServer();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.httpPort });
  try {
    const request = utf8.encode(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${server.httpPort}\r\nUpgrade: websocket\r\n` +
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Version: 13\r\n\r\n",
    );
    for (let i = 0; i < request.length; i++) await write(conn, request.subarray(i, i + 1));
    let got = new Uint8Array(0);
    const chunk = new Uint8Array(4096);
    while (!text.decode(got).includes("\r\n\r\n")) {
      const n = await readWithTimeout(conn, chunk, 5000);
      assert.ok(n !== null, "the connection ended before the response head");
      got = new Uint8Array([...got, ...chunk.subarray(0, n)]);
    }
    const head = text.decode(got).split("\r\n\r\n")[0];
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /^Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=$/m);
    const rest = got.subarray(head.length + 4);
    const welcome = await readFrames(
      conn,
      rest,
      (f) => / joined lobby$/m.test(text.decode(f.payload)),
    );
    assert.ok(welcome !== null);
  } finally {
    conn.close();
  }
  const health = await fetch(`http://127.0.0.1:${server.httpPort}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  const page = await fetch(`http://127.0.0.1:${server.httpPort}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<html/i);
});

Deno.test("a handshake with a bad version or key is refused with 400, however it is read", async () => {
  await using server = await withHttpServer();
  const bad: Record<string, string>[] = [
    { "Sec-WebSocket-Version": "8" },
    { "Sec-WebSocket-Key": "short" },
    { Connection: "keep-alive" },
  ];
  for (const headers of bad) {
    const raw = await rawHandshake(server.httpPort, { headers });
    raw.conn.close();
    assert.equal(raw.status, 400, raw.head);
  }
  // A head too long to read here goes to Deno.serve, whose upgrade refuses it the same way.
  const relayed = await rawHandshake(server.httpPort, {
    headers: { "X-Pad": "a".repeat(20_000), Connection: "keep-alive" },
  });
  relayed.conn.close();
  assert.equal(relayed.status, 400, relayed.head);
  const ok = await rawHandshake(server.httpPort);
  ok.conn.close();
  assert.equal(ok.status, 101);
  assert.match(ok.head, /^Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=$/m);
});

Deno.test("a fragmented message with a ping between its fragments is one message; the ping is answered", async () => {
  await using server = await withHttpServer();
  await using watcher = await LineClient.chat(server.port);
  const conn = await welcomed(server.httpPort);
  try {
    await write(
      conn,
      frame(0x1, "frag", false),
      frame(0x9, "are you there"),
      frame(0x0, "mented ", false),
      frame(0x0, "héllo"),
    );
    const pong = await readFrames(conn, new Uint8Array(0), (f) => f.opcode === 0xa);
    assert.equal(text.decode(pong!.payload), "are you there");
    await watcher.waitFor((l) => l.endsWith(": fragmented héllo"));
  } finally {
    conn.close();
  }
});

Deno.test("the client's close is answered with its code and the connection ends; the nick leaves", async () => {
  await using server = await withHttpServer();
  await using watcher = await LineClient.chat(server.port);
  const conn = await welcomed(server.httpPort);
  try {
    await write(conn, frame(0x8, new Uint8Array([0x0f, 0xa0, ...utf8.encode("see you")])));
    const close = await readFrames(conn, new Uint8Array(0), (f) => f.opcode === 0x8);
    assert.equal(closeCode(close!), 4000);
    // Then the server closes the TCP connection.
    assert.equal(await readFrames(conn, new Uint8Array(0), () => false), null);
    await watcher.waitFor((l) => / left lobby \(quit\)$/.test(l));
    assert.equal(server.stats.connections.get("ws"), 0);
  } finally {
    conn.close();
  }
});

Deno.test("frames the protocol refuses close the connection with the RFC's code", async () => {
  await using server = await withHttpServer({ maxLineBytes: 1024 });
  const cases: [string, Uint8Array, number][] = [
    ["text that is not UTF-8", frame(0x1, new Uint8Array([0x68, 0xff, 0x69])), 1007],
    ["an unmasked frame", new Uint8Array([0x81, 0x02, 0x68, 0x69]), 1002],
    ["a continuation with no message", frame(0x0, "x"), 1002],
  ];
  for (const [name, bytes, code] of cases) {
    const conn = await welcomed(server.httpPort);
    try {
      await write(conn, bytes);
      const close = await readFrames(conn, new Uint8Array(0), (f) => f.opcode === 0x8);
      assert.ok(close !== null, name);
      assert.equal(closeCode(close), code, name);
      assert.equal(await readFrames(conn, new Uint8Array(0), () => false), null, name);
    } finally {
      conn.close();
    }
  }
  // The server goes on.
  const conn = await welcomed(server.httpPort);
  conn.close();
});

Deno.test("a message too big to hold, whole or in fragments, is refused and the connection goes on", async () => {
  await using server = await withHttpServer({ maxLineBytes: 1024 });
  await using watcher = await LineClient.chat(server.port);
  const conn = await welcomed(server.httpPort);
  const error = (f: RawFrame) => text.decode(f.payload).startsWith("! frame too long");
  try {
    // Past 64 KiB (the most a connection holds): skipped as it comes, never kept.
    await write(conn, frame(0x1, "x".repeat(200_000)));
    assert.ok(await readFrames(conn, new Uint8Array(0), error));
    await write(conn, frame(0x1, "y".repeat(40_000), false), frame(0x0, "y".repeat(40_000)));
    assert.ok(await readFrames(conn, new Uint8Array(0), error));
    // Under 64 KiB but over the line limit: the same answer.
    await write(conn, frame(0x1, "z".repeat(2000)));
    assert.ok(await readFrames(conn, new Uint8Array(0), error));
    await write(conn, frame(0x1, "still here"));
    await watcher.waitFor((l) => l.endsWith(": still here"));
  } finally {
    conn.close();
  }
});
