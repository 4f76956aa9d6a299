import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { type ByteSink, ConnWriter, MAX_ROUND_WRITES } from "./writer.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();
const b = (s: string) => utf8.encode(s);

/** Long enough for the end-of-turn flush timer (and its pacing pause) to have fired. */
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

interface SinkCall {
  /** A copy of what was passed to `write`. */
  bytes: string;
  resolve(n: number): void;
  reject(err: unknown): void;
}

/** A sink whose writes complete only when the test says so. */
class FakeSink implements ByteSink {
  calls: SinkCall[] = [];
  write(bytes: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      this.calls.push({ bytes: text.decode(bytes), resolve, reject });
    });
  }
  /** The last call, which must be the only one not yet completed by the test. */
  get last(): SinkCall {
    const call = this.calls.at(-1);
    assert.ok(call, "expected a sink write");
    return call;
  }
  /** Completes the last write in full. */
  completeLast(): void {
    const call = this.last;
    call.resolve(utf8.encode(call.bytes).length);
  }
}

/** A writer with a fake sink and recorded callbacks. */
function setup(maxQueueBytes = 1024) {
  const sink = new FakeSink();
  const record = { overflows: 0, errors: [] as unknown[], written: [] as number[] };
  const writer = new ConnWriter(sink, maxQueueBytes, {
    onOverflow: () => record.overflows++,
    onError: (err) => record.errors.push(err),
    onWritten: (n) => record.written.push(n),
  });
  return { sink, writer, record };
}

/** Whether `promise` has settled after the microtasks queued so far have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => (done = true));
  for (let i = 0; i < 5; i++) await null;
  return done;
}

Deno.test("writes start at the end of the turn, not at once", async () => {
  const { sink, writer } = setup();
  assert.equal(writer.write(b("a")), true);
  assert.equal(sink.calls.length, 0);
  await null;
  assert.equal(sink.calls.length, 0, "microtasks do not start the write");
  await turn();
  assert.equal(sink.calls.length, 1);
  sink.completeLast();
  await writer.idle();
});

Deno.test("several writes in one turn leave as a single sink write with the bytes joined in order", async () => {
  const { sink, writer, record } = setup();
  writer.write(b("one "));
  writer.write(b("two "));
  writer.write(b("three é\n"));
  await turn();
  assert.deepEqual(sink.calls.map((c) => c.bytes), ["one two three é\n"]);
  sink.completeLast();
  await writer.idle();
  assert.deepEqual(record.written, [17]);
  assert.equal(writer.pendingBytes, 0);
});

Deno.test("while a write is in flight nothing else is written, and what was queued meanwhile leaves as one write", async () => {
  const { sink, writer, record } = setup();
  writer.write(b("first\n"));
  await turn();
  assert.equal(sink.calls.length, 1);

  writer.write(b("second\n"));
  await turn();
  writer.write(b("third\n"));
  await turn();
  assert.equal(sink.calls.length, 1, "nothing is written while a write is in flight");
  assert.equal(writer.pendingBytes, 6 + 7 + 6);

  sink.calls[0].resolve(6);
  await turn();
  assert.deepEqual(sink.calls.map((c) => c.bytes), ["first\n", "second\nthird\n"]);
  assert.equal(writer.pendingBytes, 13);
  sink.completeLast();
  await writer.idle();
  assert.deepEqual(record.written, [6, 13]);
  assert.equal(writer.pendingBytes, 0);
});

Deno.test("a partial write is continued with the rest until all bytes are written, in order", async () => {
  const { sink, writer, record } = setup();
  writer.write(b("hello "));
  writer.write(b("world\n"));
  await turn();
  assert.deepEqual(sink.calls.map((c) => c.bytes), ["hello world\n"]);

  sink.last.resolve(4);
  await turn();
  // Queued during the partial writes: must not be mixed into the rest of the first chunk.
  writer.write(b("NEXT"));
  assert.deepEqual(sink.calls.map((c) => c.bytes), ["hello world\n", "o world\n"]);
  assert.deepEqual(record.written, [], "nothing reported before the chunk is complete");

  sink.last.resolve(3);
  await turn();
  assert.equal(sink.last.bytes, "orld\n");
  sink.last.resolve(5);
  await turn();
  assert.deepEqual(record.written, [12]);
  assert.equal(sink.last.bytes, "NEXT");
  sink.completeLast();
  await writer.idle();

  assert.deepEqual(sink.calls.map((c) => c.bytes), [
    "hello world\n",
    "o world\n",
    "orld\n",
    "NEXT",
  ]);
  assert.deepEqual(record.written, [12, 4]);
});

Deno.test("a queue of exactly maxQueueBytes is accepted", async () => {
  const { sink, writer, record } = setup(10);
  assert.equal(writer.write(b("123456")), true);
  assert.equal(writer.write(b("7890")), true);
  assert.equal(writer.pendingBytes, 10);
  assert.equal(record.overflows, 0);
  await turn();
  assert.equal(sink.last.bytes, "1234567890");
  sink.completeLast();
  await writer.idle();
  assert.equal(writer.stopped, false);
});

Deno.test("passing maxQueueBytes stops the writer, drops the queue, calls onOverflow once and refuses further writes", async () => {
  const { sink, writer, record } = setup(10);
  writer.write(b("123456"));
  writer.write(b("7890"));
  assert.equal(writer.write(b("x")), false);
  assert.equal(record.overflows, 1);
  assert.equal(writer.stopped, true);
  assert.equal(writer.pendingBytes, 0, "the queue was dropped");

  assert.equal(writer.write(b("y")), false);
  assert.equal(writer.write(new Uint8Array(0)), false);
  assert.equal(record.overflows, 1, "onOverflow is called only once");

  await turn();
  assert.equal(sink.calls.length, 0, "nothing of the dropped queue is written");
  assert.equal(await settled(writer.idle()), true);
  assert.deepEqual(record.errors, []);
});

Deno.test("the bound counts the bytes in flight as well as the queued ones", async () => {
  const { sink, writer, record } = setup(10);
  writer.write(b("12345678"));
  await turn();
  assert.equal(sink.calls.length, 1);
  assert.equal(writer.write(b("ab")), true, "8 in flight + 2 queued = 10 is accepted");
  assert.equal(writer.write(b("c")), false, "8 in flight + 3 queued passes 10");
  assert.equal(record.overflows, 1);

  // The write in flight finishes; the dropped queue is never written.
  const idle = writer.idle();
  assert.equal(await settled(idle), false, "idle waits for the write in flight");
  sink.completeLast();
  await idle;
  await turn();
  assert.deepEqual(sink.calls.map((c) => c.bytes), ["12345678"]);
  assert.deepEqual(record.written, [8]);
});

Deno.test("a single write larger than maxQueueBytes overflows at once and writes nothing", async () => {
  const { sink, writer, record } = setup(4);
  assert.equal(writer.write(b("12345")), false);
  assert.equal(record.overflows, 1);
  assert.equal(writer.stopped, true);
  await turn();
  assert.equal(sink.calls.length, 0);
});

Deno.test("a sink write that rejects calls onError once and stops the writer", async () => {
  const { sink, writer, record } = setup();
  writer.write(b("a"));
  await turn();
  writer.write(b("queued meanwhile"));
  const err = new Error("connection reset");
  sink.last.reject(err);
  await turn();
  assert.deepEqual(record.errors, [err]);
  assert.equal(writer.stopped, true);
  assert.equal(writer.pendingBytes, 0);
  assert.equal(writer.write(b("b")), false);
  await turn();
  assert.equal(sink.calls.length, 1, "nothing is written after the error");
  assert.deepEqual(record.errors, [err], "onError is called only once");
  assert.equal(record.overflows, 0);
  assert.deepEqual(record.written, []);
  assert.equal(await settled(writer.idle()), true);
});

Deno.test("a rejection after a partial write calls onError once", async () => {
  const { sink, writer, record } = setup();
  writer.write(b("abcdef"));
  await turn();
  sink.last.resolve(2);
  await turn();
  assert.equal(sink.last.bytes, "cdef");
  sink.last.reject(new Error("broken pipe"));
  await turn();
  assert.equal(record.errors.length, 1);
  assert.equal(writer.stopped, true);
  assert.deepEqual(record.written, []);
  await writer.idle();
});

Deno.test("idle() resolves at once when nothing is pending", async () => {
  const { sink, writer } = setup();
  assert.equal(await settled(writer.idle()), true, "a new writer is idle");
  writer.write(b("x"));
  await turn();
  sink.completeLast();
  await turn();
  assert.equal(await settled(writer.idle()), true, "a writer that wrote everything is idle");
});

Deno.test("idle() resolves only after everything queued was written", async () => {
  const { sink, writer } = setup();
  writer.write(b("a"));
  const idle = writer.idle();
  assert.equal(await settled(idle), false, "queued, not yet written");
  await turn();
  assert.equal(await settled(idle), false, "in flight");
  writer.write(b("b"));
  sink.completeLast();
  assert.equal(await settled(idle), false, "'b' is still queued");
  await turn();
  assert.equal(sink.last.bytes, "b");
  assert.equal(await settled(idle), false, "'b' is in flight");
  sink.completeLast();
  assert.equal(await settled(idle), true);
  assert.equal(writer.pendingBytes, 0);
});

Deno.test("stop() drops the queue and refuses writes without calling onOverflow", async () => {
  const { sink, writer, record } = setup();
  writer.write(b("dropped"));
  writer.stop();
  assert.equal(writer.stopped, true);
  assert.equal(writer.pendingBytes, 0);
  assert.equal(writer.write(b("more")), false);
  assert.equal(await settled(writer.idle()), true);
  await turn();
  assert.equal(sink.calls.length, 0);
  assert.equal(record.overflows, 0);
  assert.deepEqual(record.errors, []);
});

Deno.test("onWritten reports the bytes of each completed write", async () => {
  const { sink, writer, record } = setup();
  writer.write(b("abc"));
  await turn();
  sink.completeLast();
  await writer.idle();
  writer.write(b("défg"));
  writer.write(b("hi"));
  await turn();
  sink.completeLast();
  await writer.idle();
  assert.deepEqual(record.written, [3, 7]);
});

Deno.test("a writer whose write is stuck does not hold up another writer", async () => {
  const slow = setup();
  const fast = setup();
  slow.writer.write(b("slow"));
  fast.writer.write(b("fast 1"));
  await turn();
  assert.equal(slow.sink.calls.length, 1);
  assert.equal(fast.sink.calls.length, 1);
  fast.sink.completeLast();
  await turn();
  fast.writer.write(b("fast 2"));
  await turn();
  assert.deepEqual(fast.sink.calls.map((c) => c.bytes), ["fast 1", "fast 2"]);
  fast.sink.completeLast();
  await fast.writer.idle();
  assert.equal(await settled(slow.writer.idle()), false);
  slow.sink.completeLast();
  await slow.writer.idle();
});

Deno.test("a write in flight that fails after an overflow does not also call onError", async () => {
  const { sink, writer, record } = setup(10);
  writer.write(b("12345678"));
  await turn();
  assert.equal(writer.write(b("abc")), false);
  assert.equal(record.overflows, 1);
  sink.last.reject(new Error("reset"));
  await writer.idle();
  assert.deepEqual(record.errors, []);
  assert.equal(record.overflows, 1);
});

Deno.test("members queued the same broadcasts share one joined buffer; others get their own", async () => {
  const raw: Uint8Array[] = [];
  const sink: ByteSink = {
    write(bytes) {
      raw.push(bytes);
      return Promise.resolve(bytes.length);
    },
  };
  const events = { onOverflow() {}, onError() {} };
  const members = [1, 2, 3].map(() => new ConnWriter(sink, 1024, events));
  const hello = b("[lobby] a: hello\n");
  const again = b("[lobby] a: again\n");
  for (const w of members) {
    w.write(hello);
    w.write(again);
  }
  const other = new ConnWriter(sink, 1024, events);
  other.write(again);
  other.write(hello); // the same parts in another order: its own bytes
  await turn();
  assert.equal(raw.length, 4);
  assert.equal(raw[0], raw[1], "one buffer for the members with the same queue");
  assert.equal(raw[1], raw[2]);
  assert.equal(text.decode(raw[0]), "[lobby] a: hello\n[lobby] a: again\n");
  assert.notEqual(raw[3], raw[0]);
  assert.equal(text.decode(raw[3]), "[lobby] a: again\n[lobby] a: hello\n");
  await Promise.all([...members, other].map((w) => w.idle()));
});

Deno.test("a flush round starts at most MAX_ROUND_WRITES different writes; the rest follow", async () => {
  const calls: string[] = [];
  const sink: ByteSink = {
    write(bytes) {
      calls.push(text.decode(bytes));
      return Promise.resolve(bytes.length);
    },
  };
  const events = { onOverflow() {}, onError() {} };
  const writers = Array.from({ length: 600 }, () => new ConnWriter(sink, 1024, events));
  writers.forEach((w, i) => w.write(b(`line ${i}\n`)));
  // The first round runs in the first immediate after this turn.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(calls.length, MAX_ROUND_WRITES);
  for (let i = 0; i < 20 && calls.length < 600; i++) await turn();
  assert.equal(calls.length, 600, "the writers past the first round were flushed too");
  assert.deepEqual(calls, writers.map((_, i) => `line ${i}\n`), "in the order queued");
  await Promise.all(writers.map((w) => w.idle()));
});

Deno.test("writes repeating the previous member's bytes (a big room) all leave in one round", async () => {
  let calls = 0;
  const sink: ByteSink = {
    write(bytes) {
      calls++;
      return Promise.resolve(bytes.length);
    },
  };
  const events = { onOverflow() {}, onError() {} };
  const members = Array.from({ length: 1500 }, () => new ConnWriter(sink, 1024, events));
  const hello = b("[big] a: hello\n");
  const again = b("[big] a: again\n");
  for (const w of members) {
    w.write(hello);
    w.write(again);
  }
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(calls, 1500);
  await Promise.all(members.map((w) => w.idle()));
});
