import assert from "node:assert/strict";
import { Broadcast, type Encoder } from "../core/broadcast.ts";
import { Stats } from "../core/stats.ts";
import type { ServerEvent } from "../core/events.ts";
import { jsonCodec } from "../protocol/json.ts";
import { textCodec } from "../protocol/text.ts";
import { frameItemEncoder, frameLinesEncoder, streamEncoder } from "./encoders.ts";
import { ClientOutput, type Goodbye, type OutputSink } from "./output.ts";
import { TcpSink } from "./socket.ts";
import { WsJoinedSink, WsLineSink } from "./ws_sink.ts";
import type { Delivery, Outbox } from "./writer.ts";

const text = new TextDecoder();

/** Long enough for the end-of-turn flush (and its pacing pause) to have run. */
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

/** Waits (up to two seconds) until `done()`: flush rounds are paced, and a busy machine is slow. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!done() && Date.now() < deadline) await turn();
}

/** An encoder that counts its calls. */
function counting<T>(encoder: Encoder<T>): Encoder<T> & { calls: number } {
  const counted = {
    calls: 0,
    encode(event: ServerEvent): T {
      counted.calls++;
      return encoder.encode(event);
    },
  };
  return counted;
}

/** A sink that records every batch and every close, writing at once. */
class RecordingSink implements OutputSink<string> {
  batches: string[][] = [];
  closes: string[] = [];
  open = true;
  backlogUnits = 0;
  size(item: string): number {
    return item.length;
  }
  ready(): boolean {
    return this.open;
  }
  backlog(): number {
    return this.backlogUnits;
  }
  send(items: string[], size: number, done: Delivery): number {
    this.batches.push(items);
    done.sent(size);
    return 1;
  }
  end(outbox: Outbox<string>, goodbye?: Goodbye): void {
    this.closes.push(`end ${goodbye?.code ?? "-"}`);
    outbox.flush();
  }
  abort(outbox: Outbox<string>, goodbye?: Goodbye): void {
    this.closes.push(`abort ${goodbye?.code ?? "-"}`);
    outbox.stop();
  }
  cutOff(): void {
    this.closes.push("cut");
  }
}

function output(maxQueueBytes = 1024, encoder: Encoder<string> = frameItemEncoder(textCodec)) {
  const sink = new RecordingSink();
  const stats = new Stats();
  const slow = { count: 0 };
  const out = new ClientOutput(sink, encoder, {
    maxQueueBytes,
    stats,
    owner: { onTooSlow: () => slow.count++ },
  });
  return { sink, stats, slow, out };
}

const joined = (nick: string): ServerEvent => ({ type: "joined", room: "dev", nick });

// --- encoding once ----------------------------------------------------------------------------

Deno.test("a broadcast to many members is encoded once per encoder and shared", async () => {
  const items = counting(frameItemEncoder(textCodec));
  const members = Array.from({ length: 500 }, () => output(1024, items));
  const broadcast = new Broadcast(joined("bob"));
  for (const { out } of members) out.send(broadcast);
  assert.equal(items.calls, 1);
  // 500 different writes take two flush rounds (MAX_ROUND_WRITES), the second after a pause.
  await until(() => members.every(({ sink }) => sink.batches.length > 0));
  const first = members[0].sink.batches[0][0];
  assert.equal(first, "* bob joined dev");
  for (const { sink, stats } of members) {
    assert.equal(sink.batches.length, 1);
    assert.equal(sink.batches[0][0], first);
    assert.equal(stats.eventsOut, 1);
  }
});

Deno.test("members of two doors share one broadcast: each door's encoder runs once", async () => {
  const textItems = counting(frameItemEncoder(textCodec));
  const jsonItems = counting(frameItemEncoder(jsonCodec));
  const members = Array.from(
    { length: 10 },
    (_, i) => output(1024, i % 2 === 0 ? textItems : jsonItems),
  );
  const broadcast = new Broadcast(joined("bob"));
  for (const { out } of members) out.send(broadcast);
  assert.equal(textItems.calls, 1);
  assert.equal(jsonItems.calls, 1);
  await turn();
  assert.equal(members[0].sink.batches[0][0], "* bob joined dev");
  assert.equal(members[1].sink.batches[0][0], '{"type":"joined","room":"dev","nick":"bob"}');
});

Deno.test("single events are encoded for each send, even the same object again", () => {
  const items = counting(frameItemEncoder(textCodec));
  const { out } = output(1024, items);
  out.send(joined("a"));
  out.send(joined("a"));
  assert.equal(items.calls, 2, "two event objects, two encodings");
  // Sharing an encoding is a Broadcast's job, not an accident of identity.
  const event = joined("b");
  const others = Array.from({ length: 5 }, () => output(1024, items));
  for (const { out } of others) out.send(event);
  assert.equal(items.calls, 7);
});

// --- queueing, the bound and closing ----------------------------------------------------------

Deno.test("what a turn queued leaves as one batch, in order", async () => {
  const { sink, out, stats } = output();
  out.send(joined("a"));
  out.send(new Broadcast(joined("b")));
  assert.equal(out.write("raw"), true);
  assert.equal(sink.batches.length, 0, "nothing leaves before the end of the turn");
  await turn();
  assert.deepEqual(sink.batches, [["* a joined dev", "* b joined dev", "raw"]]);
  assert.equal(stats.eventsOut, 2, "raw items are not events");
  assert.equal(stats.bytesOut, 14 + 14 + 3);
  await out.idle();
});

Deno.test("past its bound a client is cut off once: counted, its sink cuts, the owner is told", async () => {
  const { sink, out, stats, slow } = output(20);
  out.send(joined("a")); // 14
  out.send(joined("b")); // 28 > 20
  assert.equal(slow.count, 1);
  assert.equal(stats.slowConsumers, 1);
  assert.deepEqual(sink.closes, ["cut"]);
  assert.equal(out.closing, true);
  assert.equal(stats.eventsOut, 1, "the refused event is not counted");
  out.send(joined("c"));
  out.close();
  out.forceClose();
  assert.equal(slow.count, 1);
  assert.deepEqual(sink.closes, ["cut", "abort -"], "a close after the cut changes nothing");
  await turn();
  assert.deepEqual(sink.batches, [], "the dropped queue is never written");
});

Deno.test("what the medium holds counts against the bound at the flush", async () => {
  const { sink, out, stats, slow } = output(20);
  sink.backlogUnits = 10;
  out.send(joined("a")); // 14 + 10 > 20
  assert.equal(slow.count, 0, "the medium's backlog is read at the flush, not per event");
  await turn();
  assert.equal(slow.count, 1);
  assert.equal(stats.slowConsumers, 1);
  assert.deepEqual(sink.batches, []);
});

Deno.test("a medium that is not ready keeps the items until it is", async () => {
  const { sink, out } = output();
  sink.open = false;
  out.send(joined("a"));
  await turn();
  assert.deepEqual(sink.batches, []);
  sink.open = true;
  out.send(joined("b"));
  await turn();
  assert.deepEqual(sink.batches, [["* a joined dev", "* b joined dev"]]);
});

Deno.test("close ends through the sink once; nothing is queued after it", async () => {
  const { sink, out, stats } = output();
  out.send(joined("a"));
  out.closeAfterFlush({ code: 1001, reason: "server shutting down" });
  out.close();
  out.send(joined("b"));
  assert.equal(out.write("x"), false);
  assert.deepEqual(sink.closes, ["end 1001"]);
  assert.deepEqual(sink.batches, [["* a joined dev"]]);
  assert.equal(stats.eventsOut, 1);
  await turn();
  assert.equal(sink.batches.length, 1);
});

Deno.test("discard drops what is queued without a close", async () => {
  const { sink, out } = output();
  out.send(joined("a"));
  out.discard();
  await turn();
  assert.deepEqual(sink.batches, []);
  assert.deepEqual(sink.closes, []);
  assert.equal(out.closing, true);
});

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

// --- the WebSocket sinks ----------------------------------------------------------------------

/** The part of a WebSocket the sinks use. */
class FakeSocket {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  frames: string[] = [];
  closes: [number, string][] = [];
  send(data: string): void {
    this.frames.push(data);
  }
  close(code: number, reason: string): void {
    this.closes.push([code, reason]);
    this.readyState = WebSocket.CLOSING;
  }
}

function wsOutput<T>(sink: OutputSink<T>, encoder: Encoder<T>, maxQueueBytes = 1024) {
  const stats = new Stats();
  const out = new ClientOutput(sink, encoder, {
    maxQueueBytes,
    stats,
    owner: { onTooSlow() {} },
  });
  return { out, stats };
}

const HISTORY: Extract<ServerEvent, { type: "history" }> = {
  type: "history",
  room: "dev",
  messages: [{ room: "dev", nick: "a", text: "hi", id: 1, ts: 0, kind: "say" }],
};

Deno.test("a WebSocket's items leave joined with \\n as one text frame per flush", async () => {
  const socket = new FakeSocket();
  const { out, stats } = wsOutput(
    new WsJoinedSink(socket as unknown as WebSocket),
    frameItemEncoder(textCodec),
  );
  out.send(joined("a"));
  out.send(HISTORY);
  await turn();
  const frame = "* a joined dev\n* history dev begin\n[dev] a: hi\n* history dev end";
  assert.deepEqual(socket.frames, [frame]);
  assert.equal(stats.bytesOut, frame.length);
  out.send(joined("b"));
  await turn();
  assert.deepEqual(socket.frames.slice(1), ["* b joined dev"], "one item: the item itself");
});

Deno.test("a WebSocket whose peer does not read is closed with 1008 at the flush", async () => {
  const socket = new FakeSocket();
  const { out, stats } = wsOutput(
    new WsJoinedSink(socket as unknown as WebSocket),
    frameItemEncoder(textCodec),
    100,
  );
  socket.bufferedAmount = 90;
  out.send(joined("a"));
  await turn();
  assert.deepEqual(socket.frames, []);
  assert.deepEqual(socket.closes, [[1008, "disconnected: too slow"]]);
  assert.equal(stats.slowConsumers, 1);
});

Deno.test("closing a WebSocket output sends what is queued at once, then the close frame", () => {
  const socket = new FakeSocket();
  const { out } = wsOutput(
    new WsJoinedSink(socket as unknown as WebSocket),
    frameItemEncoder(jsonCodec),
  );
  out.send({ type: "shutdown" });
  out.closeAfterFlush({ code: 1001, reason: "server shutting down" });
  assert.deepEqual(socket.frames, ['{"type":"shutdown"}']);
  assert.deepEqual(socket.closes, [[1001, "server shutting down"]]);
  const other = new FakeSocket();
  const { out: bye } = wsOutput(
    new WsJoinedSink(other as unknown as WebSocket),
    frameItemEncoder(jsonCodec),
  );
  bye.close();
  assert.deepEqual(other.closes, [[1000, "bye"]]);
});

Deno.test("the line framing sends each line of each event as its own frame", async () => {
  const socket = new FakeSocket();
  const lines = counting(frameLinesEncoder(textCodec));
  const { out, stats } = wsOutput(new WsLineSink(socket as unknown as WebSocket), lines);
  const broadcast = new Broadcast(HISTORY);
  out.send(joined("a"));
  out.send(broadcast);
  await turn();
  assert.deepEqual(socket.frames, [
    "* a joined dev",
    "* history dev begin",
    "[dev] a: hi",
    "* history dev end",
  ]);
  assert.equal(stats.bytesOut, socket.frames.join("").length);
  const again = wsOutput(new WsLineSink(new FakeSocket() as unknown as WebSocket), lines);
  again.out.send(broadcast);
  assert.equal(lines.calls, 2, "the broadcast's lines were split once");
});

// --- encoders ---------------------------------------------------------------------------------

Deno.test("stream encoders give the codec's lines as UTF-8, with \\r\\n where asked", () => {
  const event: ServerEvent = { ...HISTORY, messages: [{ ...HISTORY.messages[0], text: "é😀" }] };
  assert.equal(
    text.decode(streamEncoder(textCodec).encode(event)),
    "* history dev begin\n[dev] a: é😀\n* history dev end\n",
  );
  assert.equal(
    text.decode(streamEncoder(textCodec, "\r\n").encode(event)),
    "* history dev begin\r\n[dev] a: é😀\r\n* history dev end\r\n",
  );
});

Deno.test("frame encoders drop the last \\n, or split the lines", () => {
  assert.equal(frameItemEncoder(jsonCodec).encode({ type: "bye" }), '{"type":"bye"}');
  assert.deepEqual(frameLinesEncoder(jsonCodec).encode({ type: "bye" }), ['{"type":"bye"}']);
  assert.deepEqual(frameLinesEncoder(textCodec).encode(joined("a")), ["* a joined dev"]);
});
