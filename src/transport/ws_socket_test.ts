import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { RawWebSocket } from "./ws_socket.ts";
import { scheduleFlush } from "./flush.ts";
import { encodeTextFrame } from "./ws_frames.ts";
import { WsLineSink } from "./ws_sink.ts";
import type { Delivery } from "./writer.ts";

const utf8 = new TextEncoder();

/** A connection that records each write and whose reads wait until it is closed. */
class RecordingConn {
  readonly writes: Uint8Array[] = [];
  #closed: (() => void) | null = null;

  write(bytes: Uint8Array): Promise<number> {
    this.writes.push(bytes.slice());
    return Promise.resolve(bytes.length);
  }

  read(_buffer: Uint8Array): Promise<number | null> {
    return new Promise((resolve) => this.#closed = () => resolve(null));
  }

  close(): void {
    this.#closed?.();
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

const handshake = "HTTP/1.1 101 Switching Protocols\r\n\r\n";

/** A socket on a recording connection, not started yet. */
function socketOnRecorder(): { conn: RecordingConn; socket: RawWebSocket } {
  const conn = new RecordingConn();
  const socket = new RawWebSocket(conn as unknown as Deno.Conn, {
    idleTimeoutS: 0,
    maxMessageBytes: 1024,
  });
  return { conn, socket };
}

Deno.test("a new WebSocket's handshake and the welcome its door flushes leave in one write", async () => {
  const { conn, socket } = socketOnRecorder();
  socket.addEventListener("open", {
    // As a door does: its output is flushed at the end of the turn.
    handleEvent: () => scheduleFlush({ flush: () => (socket.send("welcome"), 1) }),
  });
  socket.start(utf8.encode(handshake), new Uint8Array(0));
  assert.equal(conn.writes.length, 0, "nothing is written before the end of the turn");
  assert.equal(socket.readyState, 1, "open at once");
  await turn();
  await turn();
  assert.equal(conn.writes.length, 1);
  assert.deepEqual(
    conn.writes[0],
    new Uint8Array([...utf8.encode(handshake), ...encodeTextFrame("welcome")]),
  );
  // A frame sent later is a write of its own.
  socket.send("later");
  await turn();
  assert.equal(conn.writes.length, 2);
  assert.deepEqual(conn.writes[1], encodeTextFrame("later"));
  conn.close();
  await turn();
  assert.equal(socket.readyState, 3, "closed when the connection ended");
});

Deno.test("a WebSocket whose door says nothing on open still gets its handshake", async () => {
  const { conn, socket } = socketOnRecorder();
  socket.start(utf8.encode(handshake), new Uint8Array(0));
  await turn();
  assert.deepEqual(conn.writes, [utf8.encode(handshake)]);
  assert.equal(socket.bufferedAmount, 0);
  conn.close();
  await turn();
});

Deno.test("IRC over WebSocket: a flush's lines leave in one write, a frame each", async () => {
  const { conn, socket } = socketOnRecorder();
  socket.start(utf8.encode(handshake), new Uint8Array(0));
  await turn();
  const sink = new WsLineSink(socket);
  let sent = 0;
  const done = { sent: (units: number) => sent += units } as unknown as Delivery;
  // Two events of one flush: a message, and a join's two lines.
  const items = [[":a PRIVMSG #dev :hi"], [":b JOIN #dev", ":srv 353 b = #dev :a b"]];
  assert.equal(sink.send(items, sink.size(items[0]) + sink.size(items[1]), done), 1, "one write");
  await turn();
  assert.equal(conn.writes.length, 2, "the handshake, then the flush");
  assert.deepEqual(
    conn.writes[1],
    new Uint8Array(items.flat().flatMap((l) => [...encodeTextFrame(l)])),
  );
  assert.equal(sent, items.flat().join("").length, "every line's units are accounted for");
  // One line alone is one frame, written as it is.
  sink.send([["one"]], 3, done);
  await turn();
  assert.deepEqual(conn.writes[2], encodeTextFrame("one"));
  conn.close();
  await turn();
});
