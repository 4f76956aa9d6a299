/**
 * A client's output over a WebSocket: one text frame per flush, or one per
 * line; a peer that does not read is closed with 1008.
 */
import assert from "node:assert/strict";
import { Broadcast, type Encoder } from "../core/broadcast.ts";
import { Stats } from "../core/stats.ts";
import { jsonCodec } from "../protocol/json.ts";
import { textCodec } from "../protocol/text.ts";
import { frameItemEncoder, frameLinesEncoder } from "./encoders.ts";
import { ClientOutput, type OutputSink } from "./output.ts";
import { counting, HISTORY, joined, turn } from "./output_test_support.ts";
import { WsJoinedSink, WsLineSink } from "./ws_sink.ts";

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
