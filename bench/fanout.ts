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
 * Members use TCP lines, WebSocket text frames (`/ws` on the server's HTTP listener, see `ws.ts`),
 * or half of each (`mixed`, senders split the same way); the figures are given in total and per
 * transport.
 *
 * @module
 */

import { type ChurnFigures, startChurn } from "./churn.ts";
import { connectAll, type ConnectResult, type LineClient } from "./conn.ts";
import { startCpuMeter } from "./cpu.ts";
import { findStamp, LineEncoder, MAX_SENDER, nowNs, readSender, readStamp } from "./lines.ts";
import { sleep, type Target } from "./net.ts";
import { Histogram, type LatencySummary } from "./stats.ts";
import { connectAllWs } from "./ws.ts";

/** The transports members can use. */
export type Transport = "tcp" | "ws";
/** Which transport(s) the members of a fan-out run use; `mixed` is half TCP, half WebSocket. */
export type TransportMix = Transport | "mixed";

/** Settings of a fan-out run. */
export interface FanoutOptions {
  /** Server's line protocol listener (loopback); needed unless all members use WebSocket. */
  target?: Target;
  /** Server's HTTP listener for `/ws` (loopback); needed when members use WebSocket. */
  wsTarget?: Target;
  /** Members' transport (default `tcp`); `mixed`: C/2 and K/2 (rounded down) use WebSocket. */
  transport?: TransportMix;
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
  /**
   * Other clients joining and leaving the room per second while the senders send (0: none); each
   * stays `churnHoldMs` (default 1000). They use the members' transport(s).
   */
  churn?: number;
  churnHoldMs?: number;
  /** Receives progress messages (e.g. to print on stderr). */
  progress?: (message: string) => void;
}

/** The figures of the members that use one transport. */
export interface TransportFigures {
  transport: Transport;
  /** Members requested with this transport, senders included. */
  members: number;
  /** Senders requested with this transport. */
  senders: number;
  /** Members that connected. */
  connected: number;
  /** Members that could not connect (WebSocket: including a refused handshake). */
  connectFailed: number;
  /** Members whose connection the server closed (or that failed) during the run. */
  connectionsLost: number;
  /** First connect error, if any. */
  connectError: string | null;
  /** Lines sent by this transport's senders, warm-up included. */
  sent: number;
  /** Deliveries expected to this transport's members for all lines sent. */
  expected: number;
  /** Timestamped lines of this run received by this transport's members. */
  received: number;
  /** Expected deliveries that never arrived after the drain. */
  lost: number;
  /** Deliveries beyond the expected count (duplicates), normally 0. */
  extra: number;
  /** Deliveries per second during the measured window, over this transport's members. */
  deliveriesPerSec: number;
  /** Send-to-receive latency in µs of this transport's deliveries in the measured window. */
  latencyUs: LatencySummary;
}

/** What a fan-out run measured. */
export interface FanoutResult {
  mode: "fanout";
  /** Members' transport. */
  transport: TransportMix;
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
  /** The same figures per transport (one entry unless `mixed`). */
  byTransport: TransportFigures[];
  /** What the churn did, when there was one. */
  churn?: ChurnFigures;
}

/** How many members and senders of a run use each transport. */
export function splitTransports(
  transport: TransportMix,
  members: number,
  senders: number,
): { transport: Transport; members: number; senders: number }[] {
  if (transport !== "mixed") return [{ transport, members, senders }];
  const wsMembers = Math.floor(members / 2);
  const wsSenders = Math.floor(senders / 2);
  return [
    { transport: "tcp", members: members - wsMembers, senders: senders - wsSenders },
    { transport: "ws", members: wsMembers, senders: wsSenders },
  ];
}

/** Connects one transport's members, `progress` reporting every quarter. Never rejects. */
function connectGroup(
  transport: Transport,
  count: number,
  options: FanoutOptions,
  progress: (message: string) => void,
): Promise<ConnectResult<LineClient>> {
  const label = transport === "tcp" ? "TCP" : "WebSocket";
  progress(`connecting ${count} ${label} members`);
  const step = Math.max(1, Math.ceil(count / 4));
  const onProgress = (done: number) => {
    if (done % step === 0 && done < count) progress(`connected ${done}/${count} ${label}`);
  };
  if (transport === "tcp") {
    if (options.target === undefined) throw new Error("TCP members need a target");
    return connectAll(options.target, count, { onProgress });
  }
  if (options.wsTarget === undefined) throw new Error("WebSocket members need a WebSocket target");
  return connectAllWs({ target: options.wsTarget }, count, { onProgress });
}

/** Runs the fan-out scenario and resolves with its figures. All connections are closed at the end. */
export async function runFanout(options: FanoutOptions): Promise<FanoutResult> {
  const { members, senders: k, rate, window, size, durationS, warmupS } = options;
  const transport = options.transport ?? "tcp";
  const progress = options.progress ?? (() => {});
  const settleQuietMs = options.settleQuietMs ?? 300;
  const settleMaxMs = options.settleMaxMs ?? 30_000;
  const drainMaxMs = options.drainMaxMs ?? 3000;
  if (!(k >= 1 && k < members && k <= MAX_SENDER + 1)) {
    throw new RangeError(`senders must be in 1..${Math.min(members - 1, MAX_SENDER + 1)}`);
  }
  const plan = splitTransports(transport, members, k);
  if (plan.some((g) => g.members < 1)) throw new RangeError("mixed needs at least 2 members");

  new LineEncoder(size, 0); // validates the line size before any connection is made
  // --- connect ---------------------------------------------------------------------------------
  // One group per transport; members then line up as [senders of each group, other members of
  // each group], so sender s is conns[s] and the last member acknowledges the senders' windows.
  const groups: {
    transport: Transport;
    members: number;
    senders: number;
    conns: LineClient[];
    failed: number;
    firstError: string | null;
  }[] = [];
  for (const g of plan) {
    const result = await connectGroup(g.transport, g.members, options, progress);
    const ok = result.conns.filter((c): c is LineClient => c !== null);
    if (result.failed > 0) {
      progress(`${result.failed} ${g.transport} members failed to connect (${result.firstError})`);
    }
    if (ok.length < g.senders || ok.length === 0) {
      for (const group of groups) group.conns.forEach((c) => c.close());
      ok.forEach((c) => c.close());
      throw new Error(
        `only ${ok.length} of ${g.members} ${g.transport} members connected, ` +
          `need at least ${Math.max(1, g.senders)}` +
          (result.firstError ? ` (${result.firstError})` : ""),
      );
    }
    groups.push({ ...g, conns: ok, failed: result.failed, firstError: result.firstError });
  }
  const conns: LineClient[] = [];
  const groupOf: number[] = [];
  groups.forEach((g, gi) => {
    conns.push(...g.conns.slice(0, g.senders));
    groupOf.push(...g.conns.slice(0, g.senders).map(() => gi));
  });
  groups.forEach((g, gi) => {
    conns.push(...g.conns.slice(g.senders));
    groupOf.push(...g.conns.slice(g.senders).map(() => gi));
  });
  const connectFailed = groups.reduce((n, g) => n + g.failed, 0);
  const connectError = groups.find((g) => g.firstError !== null)?.firstError ?? null;
  if (conns.length <= k) {
    conns.forEach((c) => c.close());
    throw new Error(
      `only ${conns.length} of ${members} members connected, need more than ${k} senders` +
        (connectError ? ` (${connectError})` : ""),
    );
  }
  const ackIndex = conns.length - 1; // the last member to connect acknowledges the senders' windows

  // --- shared counters ---------------------------------------------------------------------------
  const latencyBy = groups.map(() => new Histogram());
  const receivedBy = groups.map(() => 0);
  const inWindowBy = groups.map(() => 0);
  const encoders = Array.from({ length: k }, (_, s) => new LineEncoder(size, s));
  const sentBy = new Array<number>(k).fill(0);
  const ackedBy = new Array<number>(k).fill(0);
  const lastAckNs = new Array<number>(k).fill(0);
  let sending = false;
  let totalSent = 0;
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
    const g = groupOf[index];
    const latency = latencyBy[g];
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
        receivedBy[g]++;
        if (recvNs >= measureFromNs && recvNs < measureToNs) {
          inWindowBy[g]++;
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
  const churn = (options.churn ?? 0) > 0
    ? startChurn({
      target: options.target,
      wsTarget: options.wsTarget,
      perSecond: options.churn!,
      holdMs: options.churnHoldMs ?? 1000,
      transport,
      script: "stay",
    })
    : null;
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
  const churned = churn === null ? undefined : await churn.stop();
  const loadgenCpu = cpu();
  const sendSeconds = (performance.now() - runStartMs) / 1000;

  // --- drain -------------------------------------------------------------------------------------
  progress(`sent ${totalSent} lines; draining`);
  // A line reaches every member of the room, its sender only if the server echoes it.
  const sentByGroup = () => {
    const out = groups.map(() => 0);
    for (let s = 0; s < k; s++) out[groupOf[s]] += sentBy[s];
    return out;
  };
  const expectedBy = () => {
    const own = sentByGroup();
    return groups.map((g, gi) => totalSent * g.conns.length - (selfDelivery ? 0 : own[gi]));
  };
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const drainStart = performance.now();
  while (sum(receivedBy) < sum(expectedBy())) {
    const now = performance.now();
    // Give up at the drain limit, or once nothing has arrived for a second.
    if (now - drainStart > drainMaxMs || now - Math.max(lastLineMs, drainStart) > 1000) break;
    if (conns.every((c) => c.closed)) break;
    await sleep(20);
  }
  const lostBy = groups.map((_, gi) => conns.filter((c, i) => c.lost && groupOf[i] === gi).length);
  for (const conn of conns) conn.close();
  await Promise.all(readers);

  const expectedByGroup = expectedBy();
  const sentGroup = sentByGroup();
  const byTransport: TransportFigures[] = groups.map((g, gi) => ({
    transport: g.transport,
    members: g.members,
    senders: g.senders,
    connected: g.conns.length,
    connectFailed: g.failed,
    connectionsLost: lostBy[gi],
    connectError: g.firstError,
    sent: sentGroup[gi],
    expected: expectedByGroup[gi],
    received: receivedBy[gi],
    lost: Math.max(0, expectedByGroup[gi] - receivedBy[gi]),
    extra: Math.max(0, receivedBy[gi] - expectedByGroup[gi]),
    deliveriesPerSec: Math.round(inWindowBy[gi] / durationS),
    latencyUs: latencyBy[gi].summary(),
  }));
  const latency = new Histogram();
  for (const h of latencyBy) latency.merge(h);
  const expected = sum(expectedByGroup);
  const received = sum(receivedBy);
  return {
    mode: "fanout",
    transport,
    members,
    senders: k,
    rate,
    window,
    size,
    durationS,
    warmupS,
    connected: conns.length,
    connectFailed,
    connectionsLost: sum(lostBy),
    connectError,
    noiseLines,
    settleMs,
    selfDelivery,
    sent: totalSent,
    sentPerSec: Math.round(totalSent / sendSeconds),
    expected,
    received,
    lost: Math.max(0, expected - received),
    extra: Math.max(0, received - expected),
    deliveriesPerSec: Math.round(sum(inWindowBy) / durationS),
    windowResets,
    latencyUs: latency.summary(),
    loadgenCpu,
    byTransport,
    ...(churned === undefined ? {} : { churn: churned }),
  };
}
