import assert from "node:assert/strict";
import { contiguous, encodeShared } from "./arena.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("encodeShared: consecutive lines lie back to back, and join without a copy", () => {
  const lines = ["[dev] ann: hi\n", "[dev] bob: héllo ✓\n", "[dev] ann: 🙂\n"];
  const parts = lines.map(encodeShared);
  assert.deepEqual(parts.map(text), lines);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const joined = contiguous(parts, total);
  assert.ok(joined !== null, "back to back");
  assert.equal(joined.buffer, parts[0].buffer, "a view, not a copy");
  assert.equal(text(joined), lines.join(""));
  // Any run of them joins too (a member that already had the first one written).
  assert.equal(text(contiguous(parts.slice(1), total - parts[0].length)!), lines.slice(1).join(""));
});

Deno.test("contiguous: parts out of order, with a gap, or from other buffers are not", () => {
  const [a, b, c] = ["one\n", "two\n", "three\n"].map(encodeShared);
  assert.equal(contiguous([b, a], a.length + b.length), null, "out of order");
  assert.equal(contiguous([a, c], a.length + c.length), null, "a gap");
  const own = new TextEncoder().encode("x\n");
  assert.equal(contiguous([a, own], a.length + own.length), null, "another buffer");
  assert.equal(text(contiguous([own], own.length)!), "x\n", "one part is itself");
});

Deno.test("encodeShared: earlier views survive chunk after chunk; long text gets its own buffer", () => {
  const first = encodeShared("first line\n");
  const many = Array.from(
    { length: 20_000 },
    (_, i) => encodeShared(`line ${i} ${"é".repeat(i % 7)}\n`),
  );
  assert.equal(text(first), "first line\n", "never written over");
  assert.equal(text(many[12_345]), `line 12345 ${"é".repeat(12_345 % 7)}\n`);
  assert.ok(new Set(many.map((v) => v.buffer)).size > 1, "several chunks were used");
  const long = "y".repeat(5000);
  const view = encodeShared(long);
  assert.equal(view.byteOffset, 0);
  assert.equal(view.buffer.byteLength, 5000, "a buffer of its own");
  assert.equal(text(view), long);
});
