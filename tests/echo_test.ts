/**
 * Echo mode: the tutorial's stage-2 server, byte for byte.
 */
import assert from "node:assert/strict";
import { FIRST_LINE_GRACE_MS } from "../src/transport/tcp.ts";
import { LineClient, withServer } from "./helpers.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("echo mode: the tutorial's two-window transcript", async () => {
  await using server = withServer({ echo: true });
  await using left = await LineClient.connect(server.port);
  await using right = await LineClient.connect(server.port);
  await left.send("hello from the left");
  await right.send("hello from the right");
  await left.expect("hello from the left");
  await right.expect("hello from the right");
  await left.send("how are you?");
  await left.expect("how are you?");
  // Each line went back to its sender only, and nothing else was sent: no welcome.
  assert.deepEqual(left.lines, ["hello from the left", "how are you?"]);
  assert.deepEqual(right.lines, ["hello from the right"]);
});

Deno.test("echo mode returns each line verbatim, terminator included", async () => {
  await using server = withServer({ echo: true });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    const input = "crlf\r\n  spaces  \n\x1b[31mraw\x1b[0m\n\n\u00e9t\u00e9 \u{1F600}\nlast";
    await conn.write(bytes(input));
    await conn.closeWrite();
    const got = new Uint8Array(await new Response(conn.readable).arrayBuffer());
    assert.equal(new TextDecoder().decode(got), input);
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the readable
    }
  }
});

Deno.test("echo mode answers invalid UTF-8 and keeps the connection", async () => {
  await using server = withServer({ echo: true });
  await using c = await LineClient.connect(server.port);
  await c.write(new Uint8Array([0x61, 0xff, 0xfe, 0x0a]));
  await c.expect("Invalid UTF-8 detected");
  await c.send("still here");
  await c.expect("still here");
});

Deno.test("echo mode refuses an over-long line once and goes on", async () => {
  await using server = withServer({ echo: true, maxLineBytes: 100 });
  await using c = await LineClient.connect(server.port);
  await c.write(bytes("y".repeat(5000) + "\nshort\n"));
  await c.expect("! line too long (max 100 bytes)");
  await c.expect("short");
  assert.equal(c.lines.length, 2);
});

Deno.test("echo mode: lines split anywhere across reads, good and bad mixed, come back in order", async () => {
  await using server = withServer({ echo: true, maxLineBytes: 10 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    const good = ["0123456789\r\n", "abc\n", "\u00e9t\u00e9\n", "\n", "x\r\n"];
    const input = [
      ...good,
      "a\xff\n", // not UTF-8 once encoded as below
      "z".repeat(11) + "\n", // one byte over the limit
      "0123456789\r\n", // at the limit, \r not counted
      ...good,
    ];
    const encoded = input.map((line) =>
      line.includes("\xff") ? new Uint8Array([0x61, 0xff, 0x0a]) : bytes(line)
    );
    const all = new Uint8Array(encoded.reduce((n, b) => n + b.length, 0));
    encoded.reduce((at, b) => (all.set(b, at), at + b.length), 0);
    // Pieces of 1 to 7 bytes: lines and characters cut at every kind of place.
    for (let at = 0, size = 1; at < all.length; at += size, size = size % 7 + 1) {
      await conn.write(all.subarray(at, at + size));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await conn.closeWrite();
    const got = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
    const expected = [
      ...good,
      "Invalid UTF-8 detected\n",
      "! line too long (max 10 bytes)\n",
      "0123456789\r\n",
      ...good,
    ].join("");
    assert.equal(got, expected);
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the readable
    }
  }
});

Deno.test("echo mode: many lines in one read, good and bad mixed, come back in order", async () => {
  await using server = withServer({ echo: true, maxLineBytes: 10 });
  await using c = await LineClient.connect(server.port);
  const lines = ["one", "two\r", "z".repeat(11), "three", "\u00e9", "four"];
  const payload = bytes(lines.join("\n") + "\n");
  const withBad = new Uint8Array(payload.length + 3);
  withBad.set(payload);
  withBad.set([0xc3, 0x28, 0x0a], payload.length); // an invalid two-byte sequence
  await c.write(withBad);
  await c.expect("Invalid UTF-8 detected");
  assert.deepEqual(c.lines, [
    "one",
    "two\r", // verbatim: the \r\n comes back
    "! line too long (max 10 bytes)",
    "three",
    "\u00e9",
    "four",
    "Invalid UTF-8 detected",
  ]);
});

/** `total` bytes of numbered 64-byte lines. */
function numberedLines(total: number): Uint8Array {
  const out = new Uint8Array(total);
  for (let i = 0, at = 0; at < total; i++, at += 64) {
    out.set(bytes(String(i).padStart(63, ".") + "\n"), at);
  }
  return out;
}

Deno.test("echo mode: a client that does not read is not read either, loses nothing, is not cut off", async () => {
  // Far more than the queue bound and than loopback's socket buffers hold.
  const input = numberedLines(32 << 20);
  await using server = withServer({ echo: true, maxQueueBytes: 64 << 10 });
  const lazy = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    let written = 0;
    const writing = (async () => {
      for (let at = 0; at < input.length;) at = written += await lazy.write(input.subarray(at));
    })();
    await using other = await LineClient.connect(server.port);
    await other.send("meanwhile");
    await other.expect("meanwhile");
    // The server stopped reading the lazy client: its writes stall instead of its queue growing.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(written < input.length, `all ${written} bytes were taken`);
    assert.equal(server.stats.slowConsumers, 0);
    // It reads at last: every line comes back, in order.
    const got = new Uint8Array(input.length);
    for (let at = 0; at < got.length;) {
      const n = await lazy.read(got.subarray(at));
      assert.notEqual(n, null, `closed after ${at} bytes`);
      at += n!;
    }
    await writing;
    assert.ok(got.every((b, i) => b === input[i]), "the replies differ from the lines sent");
    await other.send("still served");
    await other.expect("still served");
  } finally {
    lazy.close();
  }
});

Deno.test("echo mode: at shutdown connections close at once, one that never reads after the drain deadline", async () => {
  await using server = withServer({ echo: true, drainTimeoutMs: 500 });
  await using idle = await LineClient.connect(server.port);
  await idle.send("hello");
  await idle.expect("hello");
  const lazy = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    // Writes until the server's reply to it cannot leave (a stall of 100 ms).
    const chunk = numberedLines(1 << 20);
    for (;;) {
      const wrote = lazy.write(chunk);
      const stalled = await Promise.race([
        wrote.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 100)),
      ]);
      if (stalled) {
        wrote.catch(() => {}); // ends with the close
        break;
      }
    }
    const started = performance.now();
    await server.shutdown();
    const took = performance.now() - started;
    await idle.waitClosed();
    assert.ok(took >= 450 && took < 2000, `shutdown took ${took} ms`);
    assert.equal(server.stats.openConnections(), 0);
  } finally {
    lazy.close();
  }
});

Deno.test("echo mode behind a proxy: the header is not echoed, the lines after it and a silent client's are", async () => {
  await using server = withServer({ echo: true, trustedProxies: ["127.0.0.1/32"] });
  // The header and the first lines in one write, as a proxy sends them.
  await using one = await LineClient.connect(server.port);
  await one.write(bytes("PROXY TCP4 203.0.113.7 127.0.0.1 51234 8080\r\nfirst\nsecond\n"));
  await one.expect("first");
  await one.expect("second");
  // Silent past the header's grace (a health check's way): the read left under way takes the line.
  await using two = await LineClient.connect(server.port);
  await new Promise((resolve) => setTimeout(resolve, 3 * FIRST_LINE_GRACE_MS));
  await two.send("later");
  await two.expect("later");
  await two.send("and on");
  await two.expect("and on");
  assert.deepEqual([one.lines, two.lines], [["first", "second"], ["later", "and on"]]);
});
