/**
 * A client's output over any sink: a broadcast is encoded once per encoder,
 * a turn's events leave as one batch, and a client past its bound is cut off.
 */
import assert from "node:assert/strict";
import { Broadcast, type Encoder } from "../core/broadcast.ts";
import { Stats } from "../core/stats.ts";
import { jsonCodec } from "../protocol/json.ts";
import { textCodec } from "../protocol/text.ts";
import { frameItemEncoder } from "./encoders.ts";
import { ClientOutput, type Goodbye, type OutputSink } from "./output.ts";
import { counting, joined, turn } from "./output_test_support.ts";
import type { Delivery, Outbox } from "./writer.ts";

/** Waits (up to two seconds) until `done()`: flush rounds are paced, and a busy machine is slow. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!done() && Date.now() < deadline) await turn();
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
