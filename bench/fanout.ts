/**
 * The fan-out scenario: K senders post into a room of C members and every member counts what it
 * receives.
 *
 * All members connect (the server puts them in `lobby`), then the join/welcome traffic is allowed
 * to settle. The first K members send timestamped lines, either
 *
 * - at full speed (rate 0): each sender keeps at most W lines in flight, a line counting as
 *   delivered once the last member has received it (closed loop, so the server is saturated but
 *   not buried), or
 * - at a fixed total rate R lines/s, split evenly over the senders and paced by the clock
 *   (open loop, so a server that falls behind shows it in latency and loss).
 *
 * Every member records the delivery latency of each timestamped line it receives. After sending
 * stops, deliveries still in flight get a short drain; what is still missing then is reported as
 * lost. Whether the server echoes a sender's own line back to it is detected, not assumed.
 *
 * @module
 */

import { connectAll, type LineConn } from "./conn.ts";
import { startCpuMeter } from "./cpu.ts";
import { findStamp, LineEncoder, MAX_SENDER, nowNs, readSender, readStamp } from "./lines.ts";
import { sleep, type Target } from "./net.ts";
import { Histogram, type LatencySummary } from "./stats.ts";

/** Settings of a fan-out run. */
export interface FanoutOptions {
  /** Server to load (loopback). */
  target: Target;
  /** Room members to connect (C), senders included. */
  members: number;
  /** Members that send (K), 1..C-1. */
  senders: number;
  /** Total lines per second over all senders (R); 0 means full speed, window-limited. */
  rate: number;
  /** At full speed, lines in flight per sender (W). */
  window: number;
  /** Bytes per line including `\n` (S). */
  size: number;
  /** Measured seconds (D). */
  durationS: number;
  /** Seconds of load before measuring starts. */
  warmupS: number;
  /** Quiet time that counts as "join traffic has settled", in ms (default 300). */
  settleQuietMs?: number;
  /** Longest wait for the join traffic to settle, in ms (default 30 000). */
  settleMaxMs?: number;
  /** Longest drain once sending stops, in ms (default 3000). */
  drainMaxMs?: number;
  /** Receives progress messages (e.g. to print on stderr). */
  progress?: (message: string) => void;
}

/** What a fan-out run measured. */
export interface FanoutResult {
  mode: "fanout";
  members: number;
  senders: number;
  /** Requested total send rate in lines/s; 0 for full speed. */
  rate: number;
  window: number;
  size: number;
  durationS: number;
  warmupS: number;
  /** Members that connected. */
  connected: number;
  /** Members that could not connect. */
  connectFailed: number;
  /** Members whose connection the server closed (or that failed) during the run. */
  connectionsLost: number;
  /** First connect error, if any. */
  connectError: string | null;
  /** Lines not from this run (joins, welcomes, history, …) received before sending started. */
  noiseLines: number;
  /** Time spent waiting for the join traffic to settle, in ms. */
  settleMs: number;
  /** Whether senders receive their own lines (detected). */
  selfDelivery: boolean;
  /** Lines sent, warm-up included. */
  sent: number;
  /** Achieved send rate over the sending period, lines/s. */
  sentPerSec: number;
  /** Deliveries expected for the lines sent: sent × receiving members. */
  expected: number;
  /** Timestamped lines received by all members. */
  received: number;
  /** Expected deliveries that never arrived after the drain. */
  lost: number;
  /** Deliveries beyond the expected count (duplicates), normally 0. */
  extra: number;
  /** Deliveries per second during the measured window, over all members. */
  deliveriesPerSec: number;
  /** Full speed only: windows reopened because the last member saw nothing for a second. */
  windowResets: number;
  /** Send-to-receive latency in µs of the deliveries during the measured window. */
  latencyUs: LatencySummary;
  /** The generator's own CPU use while sending (1.0 = one core busy): near 1, it was the limit. */
  loadgenCpu: number;
}

/** Runs the fan-out scenario and resolves with its figures. All connections are closed at the end. */
export async function runFanout(options: FanoutOptions): Promise<FanoutResult> {
  const { target, members, senders: k, rate, window, size, durationS, warmupS } = options;
  const progress = options.progress ?? (() => {});
  const settleQuietMs = options.settleQuietMs ?? 300;
  const settleMaxMs = options.settleMaxMs ?? 30_000;
  const drainMaxMs = options.drainMaxMs ?? 3000;
  if (!(k >= 1 && k < members && k <= MAX_SENDER + 1)) {
    throw new RangeError(`senders must be in 1..${Math.min(members - 1, MAX_SENDER + 1)}`);
  }

  new LineEncoder(size, 0); // validates the line size before any connection is made
  // --- connect ---------------------------------------------------------------------------------
  progress(`connecting ${members} members`);
  const step = Math.max(1, Math.ceil(members / 4));
  const connected = await connectAll(target, members, {
    onProgress: (done) => {
      if (done % step === 0 && done < members) progress(`connected ${done}/${members}`);
    },
  });
  const conns = connected.conns.filter((c): c is LineConn => c !== null);
  if (connected.failed > 0) {
    progress(`${connected.failed} members failed to connect (${connected.firstError})`);
  }
  if (conns.length <= k) {
    throw new Error(
      `only ${conns.length} of ${members} members connected, need more than ${k} senders` +
        (connected.firstError ? ` (${connected.firstError})` : ""),
    );
  }
  const ackIndex = conns.length - 1; // the last member to connect acknowledges the senders' windows

  // --- shared counters ---------------------------------------------------------------------------
  const latency = new Histogram();
  const encoders = Array.from({ length: k }, (_, s) => new LineEncoder(size, s));
  const sentBy = new Array<number>(k).fill(0);
  const ackedBy = new Array<number>(k).fill(0);
  const lastAckNs = new Array<number>(k).fill(0);
  let sending = false;
  let totalSent = 0;
  let received = 0;
  let inWindow = 0;
  let noiseLines = 0;
  let selfDelivery = false;
  let windowResets = 0;
  let lastLineMs = performance.now();
  let runStartNs = Infinity; // set when sending starts
  let measureFromNs = Infinity;
  let measureToNs = Infinity;

  /** Full speed: top up sender `s` to a full window, as one write. */
  const pump = (s: number) => {
    if (!sending) return;
    const n = window - (sentBy[s] - ackedBy[s]);
    if (n <= 0) return;
    conns[s].write(encoders[s].encode(n, nowNs()));
    sentBy[s] += n;
    totalSent += n;
  };

  // --- read loops --------------------------------------------------------------------------------
  const readers = conns.map((conn, index) => {
    const isAck = index === ackIndex;
    const isSender = index < k;
    let acked = false;
    return conn.readLines(
      (buf, start, end, recvNs) => {
        const at = findStamp(buf, start, end);
        // Only stamps from this run count: anything else (joins, welcomes, history replayed from
        // an earlier run, which used another clock) is noise.
        const stamp = at < 0 ? -1 : readStamp(buf, at);
        if (stamp < runStartNs || stamp > recvNs) {
          if (totalSent === 0) noiseLines++;
          return;
        }
        received++;
        if (recvNs >= measureFromNs && recvNs < measureToNs) {
          inWindow++;
          latency.record((recvNs - stamp) / 1000);
        }
        if (isAck || isSender) {
          const s = readSender(buf, at, end);
          if (isSender && s === index) selfDelivery = true;
          if (isAck && s >= 0 && s < k && ackedBy[s] < sentBy[s]) {
            ackedBy[s]++;
            lastAckNs[s] = recvNs;
            acked = true;
          }
        }
      },
      () => {
        lastLineMs = performance.now();
        if (acked) {
          acked = false;
          if (rate === 0) {
            for (let s = 0; s < k; s++) pump(s);
          }
        }
      },
    );
  });

  // --- let join/welcome traffic settle -----------------------------------------------------------
  const settleStart = performance.now();
  for (;;) {
    const now = performance.now();
    if (now - settleStart >= settleQuietMs && now - lastLineMs >= settleQuietMs) break;
    if (now - settleStart > settleMaxMs) {
      progress(`join traffic still flowing after ${settleMaxMs} ms; starting anyway`);
      break;
    }
    await sleep(25);
  }
  const settleMs = Math.round(performance.now() - settleStart);
  progress(`settled after ${settleMs} ms (${noiseLines} join/welcome lines)`);

  // --- send --------------------------------------------------------------------------------------
  const mode = rate === 0 ? `full speed, window ${window}/sender` : `${rate} lines/s`;
  progress(
    `${conns.length} members, ${k} senders, ${mode}: ${warmupS} s warm-up + ${durationS} s measured`,
  );
  const cpu = startCpuMeter();
  const runStartMs = performance.now();
  runStartNs = nowNs();
  measureFromNs = runStartNs + warmupS * 1e9;
  measureToNs = measureFromNs + durationS * 1e9;
  sending = true;
  let timer: ReturnType<typeof setInterval>;
  if (rate === 0) {
    for (let s = 0; s < k; s++) {
      lastAckNs[s] = runStartNs;
      pump(s);
    }
    // Watchdog: a line the last member never gets would close a window for good; after a second
    // without progress, count the window as delivered and reopen it.
    timer = setInterval(() => {
      const now = nowNs();
      for (let s = 0; s < k; s++) {
        if (sentBy[s] > ackedBy[s] && now - lastAckNs[s] > 1e9) {
          windowResets++;
          ackedBy[s] = sentBy[s];
          lastAckNs[s] = now;
          pump(s);
        }
      }
    }, 250);
  } else {
    // Pace by the clock: sender s has sent floor(t * R/K + (K - s)/K) lines by time t, which
    // spreads the senders' lines evenly; a late timer tick catches up in one write.
    const perSender = rate / k;
    timer = setInterval(() => {
      const t = (performance.now() - runStartMs) / 1000;
      const stamp = nowNs();
      for (let s = 0; s < k; s++) {
        const n = Math.floor(t * perSender + (k - s) / k) - sentBy[s];
        if (n <= 0) continue;
        conns[s].write(encoders[s].encode(n, stamp));
        sentBy[s] += n;
        totalSent += n;
      }
    }, 1);
  }
  await sleep((warmupS + durationS) * 1000);
  sending = false;
  clearInterval(timer);
  const loadgenCpu = cpu();
  const sendSeconds = (performance.now() - runStartMs) / 1000;

  // --- drain -------------------------------------------------------------------------------------
  progress(`sent ${totalSent} lines; draining`);
  const expectedNow = () => totalSent * (conns.length - 1 + (selfDelivery ? 1 : 0));
  const drainStart = performance.now();
  while (received < expectedNow()) {
    const now = performance.now();
    // Give up at the drain limit, or once nothing has arrived for a second.
    if (now - drainStart > drainMaxMs || now - Math.max(lastLineMs, drainStart) > 1000) break;
    if (conns.every((c) => c.closed)) break;
    await sleep(20);
  }
  const connectionsLost = conns.filter((c) => c.lost).length;
  for (const conn of conns) conn.close();
  await Promise.all(readers);

  const expected = expectedNow();
  return {
    mode: "fanout",
    members,
    senders: k,
    rate,
    window,
    size,
    durationS,
    warmupS,
    connected: conns.length,
    connectFailed: connected.failed,
    connectionsLost,
    connectError: connected.firstError,
    noiseLines,
    settleMs,
    selfDelivery,
    sent: totalSent,
    sentPerSec: Math.round(totalSent / sendSeconds),
    expected,
    received,
    lost: Math.max(0, expected - received),
    extra: Math.max(0, received - expected),
    deliveriesPerSec: Math.round(inWindow / durationS),
    windowResets,
    latencyUs: latency.summary(),
    loadgenCpu,
  };
}
