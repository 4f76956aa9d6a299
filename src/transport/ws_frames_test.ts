import assert from "node:assert/strict";
import {
  closePayload,
  encodeFrame,
  encodeTextFrame,
  FrameError,
  FrameParser,
  OP_CLOSE,
  OP_PING,
  OP_TEXT,
  parseClose,
} from "./ws_frames.ts";
import { acceptKey, headEnd, upgradeRequest } from "./ws_upgrade.ts";
import { seededRandom } from "../protocol/codec_fuzz.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** A client's frame: masked with `mask`, as RFC 6455 requires of clients. */
function clientFrame(
  opcode: number,
  payload: Uint8Array,
  { fin = true, mask = [1, 2, 3, 4], rsv = 0 } = {},
): Uint8Array {
  const n = payload.length;
  const header = n < 126
    ? [n | 0x80]
    : n < 65536
    ? [126 | 0x80, n >> 8, n & 0xff]
    : [127 | 0x80, 0, 0, 0, 0, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(1 + header.length + 4 + n);
  out[0] = (fin ? 0x80 : 0) | rsv | opcode;
  out.set(header, 1);
  out.set(mask, 1 + header.length);
  for (let i = 0; i < n; i++) out[1 + header.length + 4 + i] = payload[i] ^ mask[i % 4];
  return out;
}

function framesOf(parser: FrameParser): { opcode: number; fin: boolean; text: string }[] {
  const out = [];
  for (let f = parser.next(); f !== null; f = parser.next()) {
    out.push({ opcode: f.opcode, fin: f.fin, text: text.decode(f.payload) });
  }
  return out;
}

Deno.test("frames cut at every place come out whole, unmasked, in order", () => {
  // Lengths on each side of the 7- and 16-bit length forms.
  const payloads = ["", "hi", "é".repeat(62), "x".repeat(125), "y".repeat(126), "z".repeat(70000)];
  const stream = new Uint8Array(
    payloads.reduce((n, p) => n + clientFrame(OP_TEXT, utf8.encode(p)).length, 0),
  );
  let at = 0;
  for (const p of payloads) {
    const frame = clientFrame(OP_TEXT, utf8.encode(p), { mask: [0x37, 0xfa, 0x21, 0x3d] });
    stream.set(frame, at);
    at += frame.length;
  }
  const cuts = [1, 2, 3, 5, 9, 10, 11, 130, 131, 4096];
  for (const cut of cuts) {
    const parser = new FrameParser(1 << 20);
    const got = [];
    for (let i = 0; i < stream.length; i += cut) {
      parser.push(stream.slice(i, i + cut));
      got.push(...framesOf(parser));
    }
    assert.deepEqual(got.map((f) => f.text), payloads, `cut every ${cut} bytes`);
  }
});

Deno.test("a frame is refused with the close code the RFC names", () => {
  const cases: [string, Uint8Array, number][] = [
    ["unmasked", encodeFrame(OP_TEXT, utf8.encode("hi")), 1002],
    ["reserved bit", clientFrame(OP_TEXT, utf8.encode("hi"), { rsv: 0x40 }), 1002],
    ["unknown opcode", clientFrame(0x3, utf8.encode("hi")), 1002],
    ["unknown control", clientFrame(0xb, new Uint8Array(0)), 1002],
    ["fragmented ping", clientFrame(OP_PING, new Uint8Array(0), { fin: false }), 1002],
    ["long ping", clientFrame(OP_PING, new Uint8Array(126)), 1002],
  ];
  for (const [name, bytes, code] of cases) {
    const parser = new FrameParser(1 << 20);
    parser.push(bytes);
    assert.throws(
      () => parser.next(),
      (err) => err instanceof FrameError && err.code === code,
      name,
    );
  }
});

Deno.test("a frame too big to hold is skipped as it comes, and the next one is read", () => {
  const big = clientFrame(OP_TEXT, utf8.encode("x".repeat(70_000)));
  const next = clientFrame(OP_TEXT, utf8.encode("after"));
  for (const cut of [1, 7, 1000, 100_000]) {
    const parser = new FrameParser(1000);
    const stream = new Uint8Array([...big, ...next]);
    const got = [];
    for (let i = 0; i < stream.length; i += cut) {
      parser.push(stream.slice(i, i + cut));
      for (let f = parser.next(); f !== null; f = parser.next()) {
        got.push(f.tooBig ? "too big" : text.decode(f.payload));
      }
    }
    // Known from the header alone: it comes out before its payload has arrived.
    assert.deepEqual(got, ["too big", "after"], `cut every ${cut} bytes`);
  }
});

Deno.test("server frames: header forms by length, text encoded once behind its header", () => {
  for (
    const s of ["", "hello", "é".repeat(41), "é".repeat(42), "a".repeat(65535), "ü".repeat(40000)]
  ) {
    const bytes = utf8.encode(s);
    const frame = encodeTextFrame(s);
    assert.deepEqual(frame, encodeFrame(OP_TEXT, bytes), `${s.length} characters`);
    const header = bytes.length < 126 ? 2 : bytes.length < 65536 ? 4 : 10;
    assert.equal(frame.length, header + bytes.length);
    assert.equal(frame[0], 0x81);
    // A big frame does not keep a buffer three times its size.
    if (frame.length > 65536) assert.ok(frame.buffer.byteLength < 2 * frame.length);
  }
});

Deno.test("close frames: the code and a reason cut to fit, never inside a character", () => {
  const payload = closePayload(1008, "é".repeat(100));
  assert.ok(payload.length <= 125);
  assert.deepEqual(parseClose(payload), { code: 1008, reason: "é".repeat(61) });
  assert.deepEqual(parseClose(new Uint8Array(0)), { code: 1005, reason: "" });
  for (const bad of [[3], [0x03, 0xe7], [0x03, 0xee], [0x13, 0x88]]) {
    assert.throws(() => parseClose(new Uint8Array(bad)), FrameError, String(bad));
  }
  const badText = new Uint8Array([0x03, 0xe8, 0xff]);
  assert.throws(() => parseClose(badText), (err) => err instanceof FrameError && err.code === 1007);
  assert.equal(clientFrame(OP_CLOSE, payload)[0], 0x88);
});

Deno.test("the handshake: RFC 6455's sample key, and which heads ask for a WebSocket", () => {
  assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  const head = (s: string) => utf8.encode(s.replaceAll("\n", "\r\n"));
  const upgrade = head("GET /ws?format=json HTTP/1.1\nHost: chat.example\nUpgrade: WebSocket\n\n");
  assert.equal(headEnd(upgrade), upgrade.length);
  assert.equal(headEnd(upgrade.subarray(0, upgrade.length - 1)), -1);
  const request = upgradeRequest(upgrade, "127.0.0.1:8081")!;
  assert.equal(request.url, "http://chat.example/ws?format=json");
  assert.equal(request.headers.get("upgrade"), "WebSocket");
  const noHost = upgradeRequest(head("GET /ws HTTP/1.1\nUpgrade: websocket\n\n"), "127.0.0.1:8081");
  assert.equal(noHost?.url, "http://127.0.0.1:8081/ws");
  // Anything else is Deno.serve's to answer.
  for (
    const other of [
      "GET / HTTP/1.1\nHost: a\n\n",
      "POST /ws HTTP/1.1\nUpgrade: websocket\n\n",
      "GET /ws HTTP/1.0\nUpgrade: websocket\n\n",
      "GET /ws HTTP/1.1\nUpgrade websocket\n\n",
      "GET /ws HTTP/1.1\nBad Name: x\nUpgrade: websocket\n\n",
      "GET /ws HTTP/1.1\nHost: a\nHost: b\nUpgrade: websocket\n\n",
      "GET /ws HTTP/1.1\nUpgrade: websocket\nUpgrade: h2c\n\n",
      "GET /ws HTTP/1.1\nHost: a b\nUpgrade: websocket\n\n",
    ]
  ) {
    assert.equal(upgradeRequest(head(other), "h"), null, other);
  }
});

Deno.test("hostile bytes in any cuts: frames or a FrameError, never anything else", () => {
  const rnd = seededRandom(6455);
  const byte = () => Math.floor(rnd() * 256);
  for (let run = 0; run < 2000; run++) {
    // Mostly well-formed headers with random payloads and lengths, some pure noise.
    const parts: number[] = [];
    for (let f = 0; f < 1 + rnd() * 4; f++) {
      if (rnd() < 0.2) parts.push(...Array.from({ length: 1 + rnd() * 20 }, byte));
      else {parts.push(
          ...clientFrame(byte() & 0x8f, Uint8Array.from({ length: rnd() * 300 }, byte)),
        );}
    }
    const stream = Uint8Array.from(parts);
    const parser = new FrameParser(200);
    let frames = 0;
    try {
      for (let at = 0; at < stream.length;) {
        const cut = 1 + Math.floor(rnd() * 64);
        parser.push(stream.slice(at, at + cut));
        at += cut;
        for (let f = parser.next(); f !== null; f = parser.next()) {
          assert.ok(f.tooBig ? f.payload.length === 0 : f.payload.length <= 200);
          assert.ok(++frames <= stream.length / 2, "every frame takes at least its 2-byte header");
        }
      }
    } catch (err) {
      assert.ok(err instanceof FrameError, `run ${run}: ${err}`);
    }
  }
});
