/**
 * A client's output over TCP: members of a room write the same bytes, and a
 * client cut off gets its door's last words, unless it is stalled.
 */
import assert from "node:assert/strict";
import { Broadcast } from "../core/broadcast.ts";
import { Stats } from "../core/stats.ts";
import { textCodec } from "../protocol/text.ts";
import { streamEncoder } from "./encoders.ts";
import { ClientOutput } from "./output.ts";
import { joined, text, turn } from "./output_test_support.ts";
import { TcpSink } from "./socket.ts";

// --- the TCP sink -----------------------------------------------------------------------------

/** A connection whose writes complete at once (or never, when stalled). */
class FakeConn {
  writes: Uint8Array[] = [];
  closed = 0;
  stalled = false;
  write(bytes: Uint8Array): Promise<number> {
    this.writes.push(bytes);
    return this.stalled ? new Promise(() => {}) : Promise.resolve(bytes.length);
  }
  close(): void {
    this.closed++;
  }
}

function tcpOutput(conn: FakeConn, maxQueueBytes = 1024, lastWords?: Uint8Array) {
  const stats = new Stats();
  const sink = new TcpSink(conn as unknown as Deno.Conn, lastWords);
  const out = new ClientOutput(sink, TEXT_STREAM, {
    maxQueueBytes,
    stats,
    owner: { onTooSlow() {} },
  });
  return { out, stats };
}

const TEXT_STREAM = streamEncoder(textCodec);

Deno.test("TCP members of a room write the very same bytes: one encoding, one joined buffer", async () => {
  const conns = Array.from({ length: 100 }, () => new FakeConn());
  const outs = conns.map((conn) => tcpOutput(conn).out);
  const one = new Broadcast(joined("a"));
  const two = new Broadcast(joined("b"));
  for (const out of outs) {
    out.send(one);
    out.send(two);
  }
  await turn();
  const first = conns[0].writes[0];
  assert.equal(text.decode(first), "* a joined dev\n* b joined dev\n");
  for (const conn of conns) assert.deepEqual(conn.writes, [first]);
  for (const conn of conns) assert.equal(conn.writes[0], first, "the same buffer");
});

Deno.test("a TCP client past its bound gets its last words, then the close", async () => {
  const conn = new FakeConn();
  const { out, stats } = tcpOutput(conn, 20);
  out.send(joined("a"));
  out.send(joined("b"));
  assert.equal(stats.slowConsumers, 1);
  await turn();
  assert.deepEqual(conn.writes.map((w) => text.decode(w)), ["! disconnected: too slow\n"]);
  assert.equal(conn.closed, 1);
});

Deno.test("a door gives its own last words (IRC's ERROR line)", async () => {
  const conn = new FakeConn();
  const words = new TextEncoder().encode("ERROR :Closing link (too slow)\r\n");
  const { out } = tcpOutput(conn, 20, words);
  out.write(new Uint8Array(30));
  await turn();
  assert.deepEqual(conn.writes, [words]);
  assert.equal(conn.closed, 1);
});

Deno.test("a stalled TCP client cut off gets no last words, and is closed after a short wait", async () => {
  const conn = new FakeConn();
  conn.stalled = true;
  const { out } = tcpOutput(conn, 20);
  out.send(joined("a"));
  await turn();
  // That write never completes: it stays in flight, and counts against the bound.
  out.send(joined("b"));
  assert.equal(conn.closed, 0);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(conn.writes.length, 1, "no last words after a write that never finished");
  assert.equal(conn.closed, 1);
});

Deno.test("closing a TCP output writes what is queued, then closes; forceClose does not wait", async () => {
  const conn = new FakeConn();
  const { out } = tcpOutput(conn);
  out.send(joined("a"));
  out.close();
  assert.equal(conn.closed, 0);
  await out.idle();
  await null;
  assert.deepEqual(conn.writes.map((w) => text.decode(w)), ["* a joined dev\n"]);
  assert.equal(conn.closed, 1);
  const other = new FakeConn();
  const { out: forced } = tcpOutput(other);
  forced.send(joined("b"));
  forced.forceClose();
  assert.equal(other.closed, 1);
  await turn();
  assert.deepEqual(other.writes, []);
});
