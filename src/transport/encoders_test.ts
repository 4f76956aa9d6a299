/** The encoders: a codec's lines as bytes for a stream, as items or lines for frames. */
import assert from "node:assert/strict";
import type { ServerEvent } from "../core/events.ts";
import { jsonCodec } from "../protocol/json.ts";
import { textCodec } from "../protocol/text.ts";
import { frameItemEncoder, frameLinesEncoder, streamEncoder } from "./encoders.ts";
import { HISTORY, joined, text } from "./output_test_support.ts";

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
