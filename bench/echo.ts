/**
 * The echo scenario: closed-loop round trips against a server started with `--echo`.
 *
 * Each of C connections keeps W lines of S bytes in flight. Every line carries its send time;
 * for each line that comes back the round trip is recorded and a new line is sent (all replies to
 * one read go out in one write). Lines returned during the measured window (after the warm-up)
 * give the rate and the latency percentiles.
 *
 * @module
 */

import { connectAll, type LineConn } from "./conn.ts";
import { startCpuMeter } from "./cpu.ts";
import { findStamp, LineEncoder, MAX_SENDER, nowNs, readSender, readStamp } from "./lines.ts";
import { sleep, type Target } from "./net.ts";
import { Histogram, type LatencySummary } from "./stats.ts";

/** Settings of an echo run. */
export interface EchoOptions {
  /** Server to load (loopback). */
  target: Target;
  /** Number of connections (C). */
  connections: number;
  /** Lines in flight per connection (W). */
  window: number;
  /** Bytes per line including `\n` (S). */
  size: number;
  /** Measured seconds (D). */
  durationS: number;
  /** Seconds of load before measuring starts. */
  warmupS: number;
  /** Longest wait for outstanding lines once sending stops, in ms. */
  drainMaxMs?: number;
  /** Receives progress messages (e.g. to print on stderr). */
  progress?: (message: string) => void;
}

/** What an echo run measured. */
export interface EchoResult {
  mode: "echo";
  connections: number;
  window: number;
  size: number;
  durationS: number;
  warmupS: number;
  /** Connections that could not be established. */
  connectFailed: number;
  /** Connections the server closed (or that failed) during the run. */
  connectionsLost: number;
  /** First connect error, if any. */
  connectError: string | null;
  /** Lines sent over the whole run, warm-up included. */
  sent: number;
  /** Timestamped lines received back over the whole run. */
  received: number;
  /** Lines of other connections received (a server not in echo mode broadcasts); normally 0. */
  foreign: number;
  /** Lines sent but never returned after the drain. */
  lost: number;
  /** Lines returned per second during the measured window. */
  linesPerSec: number;
  /** Round-trip times in µs of the lines returned during the measured window. */
  latencyUs: LatencySummary;
  /** The generator's own CPU use while sending (1.0 = one core busy): near 1, it was the limit. */
  loadgenCpu: number;
}

/** Per-connection state. */
interface EchoClient {
  /** The connection's number, written into its lines as the sender. */
  id: number;
  conn: LineConn;
  encoder: LineEncoder;
  /** Returned lines seen in the current read, to be replaced after it. */
  replies: number;
}

/** Runs the echo scenario and resolves with its figures. All connections are closed at the end. */
export async function runEcho(options: EchoOptions): Promise<EchoResult> {
  const { target, connections, window, size, durationS, warmupS } = options;
  const progress = options.progress ?? (() => {});
  const drainMaxMs = options.drainMaxMs ?? 2000;

  if (connections > MAX_SENDER + 1) {
    throw new RangeError(`at most ${MAX_SENDER + 1} connections (line numbering)`);
  }
  new LineEncoder(size, 0); // validates the line size before any connection is made
  progress(`connecting ${connections} clients`);
  const { conns, failed, firstError } = await connectAll(target, connections);
  const clients: EchoClient[] = [];
  conns.forEach((conn, i) => {
    if (conn !== null) clients.push({ id: i, conn, encoder: new LineEncoder(size, i), replies: 0 });
  });
  if (clients.length === 0) throw new Error(`no connection succeeded: ${firstError}`);
  if (failed > 0) progress(`${failed} connections failed (${firstError})`);

  const latency = new Histogram();
  let sending = true;
  let sent = 0;
  let received = 0;
  let inWindow = 0;
  let foreign = 0;
  const cpu = startCpuMeter();
  const startNs = nowNs();
  const measureFromNs = startNs + warmupS * 1e9;
  const measureToNs = measureFromNs + durationS * 1e9;

  const readers = clients.map((client) =>
    client.conn.readLines(
      (buf, start, end, recvNs) => {
        const at = findStamp(buf, start, end);
        if (at < 0) return; // not one of ours (e.g. a greeting)
        const stamp = readStamp(buf, at);
        if (stamp < startNs || stamp > recvNs) return; // from another run (another clock)
        if (readSender(buf, at, end) !== client.id) {
          // Another connection's line: the server broadcasts instead of echoing. Replying to it
          // would multiply the load, so it is only counted.
          foreign++;
          return;
        }
        received++;
        client.replies++;
        if (recvNs >= measureFromNs && recvNs < measureToNs) {
          inWindow++;
          latency.record((recvNs - stamp) / 1000);
        }
      },
      () => {
        const n = client.replies;
        if (n === 0) return;
        client.replies = 0;
        if (!sending) return;
        client.conn.write(client.encoder.encode(n, nowNs()));
        sent += n;
      },
    )
  );

  // Fill every connection's window in one write each.
  for (const client of clients) {
    client.conn.write(client.encoder.encode(window, nowNs()));
    sent += window;
  }
  progress(
    `${clients.length} connections, window ${window}: ${warmupS} s warm-up + ${durationS} s measured`,
  );
  await sleep(warmupS * 1000 + durationS * 1000);
  sending = false;
  const loadgenCpu = cpu();

  // Let the lines still in flight come back, so the loss count is meaningful.
  const drainUntil = performance.now() + drainMaxMs;
  while (received < sent && performance.now() < drainUntil && clients.some((c) => !c.conn.closed)) {
    await sleep(20);
  }
  if (foreign > 0) {
    progress(`received ${foreign} lines of other connections: is the server running with --echo?`);
  }
  const connectionsLost = clients.filter((c) => c.conn.lost).length;
  for (const client of clients) client.conn.close();
  await Promise.all(readers);

  return {
    mode: "echo",
    connections,
    window,
    size,
    durationS,
    warmupS,
    connectFailed: failed,
    connectionsLost,
    connectError: firstError,
    sent,
    received,
    foreign,
    lost: Math.max(0, sent - received),
    linesPerSec: Math.round(inWindow / durationS),
    latencyUs: latency.summary(),
    loadgenCpu,
  };
}
