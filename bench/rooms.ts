/**
 * The many-rooms scenario: C connections in C/P rooms of P members each; in every room its first
 * member says one timestamped line every 1/R seconds, and every member records the delivery
 * latency of what it receives. It is the opposite of the fan-out scenario: the work is spread over
 * thousands of small rooms, so the per-connection and per-room costs show, not the cost of one
 * big broadcast.
 *
 * With `mixed` transports the connections alternate TCP and WebSocket while both last, so those
 * rooms have members of both; the rest of the larger group fill the last rooms.
 *
 * @module
 */

import { connectAll, type LineClient } from "./conn.ts";
import { startCpuMeter } from "./cpu.ts";
import type { Transport, TransportMix } from "./fanout.ts";
import { findStamp, LineEncoder, MAX_SENDER, nowNs, readStamp } from "./lines.ts";
import { sleep, type Target } from "./net.ts";
import { Histogram, type LatencySummary } from "./stats.ts";
import { connectAllWs } from "./ws.ts";

/** Settings of a many-rooms run. */
export interface RoomsOptions {
  target?: Target;
  wsTarget?: Target;
  transport: TransportMix;
  /** Connections in all (C). */
  connections: number;
  /** Members per room (P, at least 2). */
  perRoom: number;
  /** With mixed transports: members on WebSocket (default half, rounded down). */
  wsMembers?: number;
  /** Lines per second said in each room (R). */
  ratePerRoom: number;
  /** Bytes per line including `\n`. */
  size: number;
  durationS: number;
  warmupS: number;
  progress?: (message: string) => void;
  /** Called when every member has joined and the lines begin. */
  onLoadStart?: () => void;
}

/** What a many-rooms run measured. */
export interface RoomsResult {
  mode: "rooms";
  transport: TransportMix;
  connections: number;
  connected: number;
  connectFailed: number;
  connectError: string | null;
  connectionsLost: number;
  rooms: number;
  perRoom: number;
  ratePerRoom: number;
  durationS: number;
  warmupS: number;
  /** Seconds to connect every member and have them join their rooms. */
  setupS: number;
  sent: number;
  /** Deliveries expected: each line reaches every member of its room, its sender included. */
  expected: number;
  received: number;
  lost: number;
  deliveriesPerSec: number;
  latencyUs: LatencySummary;
  loadgenCpu: number;
}

const encoder = new TextEncoder();
/** What each member says once it has joined; see the set-up in {@link runRooms}. */
const READY = encoder.encode("ready");

/** Whether `buf[start, end)` ends with `suffix`. */
function endsWith(buf: Uint8Array, start: number, end: number, suffix: Uint8Array): boolean {
  if (end - start < suffix.length) return false;
  for (let i = 0; i < suffix.length; i++) {
    if (buf[end - suffix.length + i] !== suffix[i]) return false;
  }
  return true;
}

async function connectSome(
  transport: Transport,
  count: number,
  options: RoomsOptions,
): Promise<{ conns: LineClient[]; failed: number; firstError: string | null }> {
  if (count === 0) return { conns: [], failed: 0, firstError: null };
  const progress = options.progress ?? (() => {});
  const step = Math.max(1, Math.ceil(count / 4));
  const onProgress = (done: number) => {
    if (done % step === 0 && done < count) progress(`connected ${done}/${count} ${transport}`);
  };
  const result: { conns: (LineClient | null)[]; failed: number; firstError: string | null } =
    transport === "tcp"
      ? await connectAll(options.target!, count, { onProgress, concurrency: 100 })
      : await connectAllWs({ target: options.wsTarget! }, count, { onProgress, concurrency: 100 });
  return {
    conns: result.conns.filter((c): c is LineClient => c !== null),
    failed: result.failed,
    firstError: result.firstError,
  };
}

/** Runs the many-rooms scenario. All connections are closed at the end. */
export async function runRooms(options: RoomsOptions): Promise<RoomsResult> {
  const { connections, perRoom, ratePerRoom, size, durationS, warmupS, transport } = options;
  const progress = options.progress ?? (() => {});
  if (perRoom < 2) throw new RangeError("rooms need at least 2 members");
  const setupStart = performance.now();
  const wsCount = transport === "ws"
    ? connections
    : transport === "mixed"
    ? Math.min(connections, options.wsMembers ?? Math.floor(connections / 2))
    : 0;
  progress(`connecting ${connections - wsCount} TCP and ${wsCount} WebSocket members`);
  const tcp = await connectSome("tcp", connections - wsCount, options);
  const ws = await connectSome("ws", wsCount, options);
  // Alternate the transports, so that every room of a mixed run has both.
  const conns: LineClient[] = [];
  for (let i = 0; i < Math.max(tcp.conns.length, ws.conns.length); i++) {
    if (i < tcp.conns.length) conns.push(tcp.conns[i]);
    if (i < ws.conns.length) conns.push(ws.conns[i]);
  }
  const rooms = Math.floor(conns.length / perRoom);
  if (rooms < 1) throw new Error(`only ${conns.length} members connected`);
  const roomOf = (member: number) => Math.floor(member / perRoom);

  const latency = new Histogram();
  let received = 0;
  let inWindow = 0;
  let runStartNs = Infinity;
  let measureFromNs = Infinity;
  let measureToNs = Infinity;
  // Set-up is over when every member has read every member's `ready` line in its room: what the
  // server sent before (welcomes, joins, history) has been read by then, not left in the sockets.
  const readySeen = new Uint32Array(conns.length);
  let membersNotReady = rooms * perRoom;
  const readers = conns.map((conn, member) =>
    conn.readLines((buf, start, end, recvNs) => {
      if (membersNotReady > 0 && endsWith(buf, start, end, READY)) {
        if (++readySeen[member] === perRoom) membersNotReady--;
        return;
      }
      const at = findStamp(buf, start, end);
      const stamp = at < 0 ? -1 : readStamp(buf, at);
      if (stamp < runStartNs || stamp > recvNs) return;
      received++;
      if (recvNs >= measureFromNs && recvNs < measureToNs) {
        inWindow++;
        latency.record((recvNs - stamp) / 1000);
      }
    })
  );
  progress(`${conns.length} members joining ${rooms} rooms of ${perRoom}`);
  conns.forEach((conn, i) => {
    if (roomOf(i) < rooms) conn.write(encoder.encode(`/join r${roomOf(i)}\nready\n`));
  });
  const setupDeadline = performance.now() + 120_000;
  while (membersNotReady > 0 && performance.now() < setupDeadline) await sleep(50);
  if (membersNotReady > 0) throw new Error(`${membersNotReady} members never saw their room ready`);
  const setupS = (performance.now() - setupStart) / 1000;
  progress(`set up in ${setupS.toFixed(1)} s; ${rooms} rooms saying ${ratePerRoom} line/s each`);

  const encoders = new Map<number, LineEncoder>();
  const encoderFor = (room: number) => {
    let e = encoders.get(room % (MAX_SENDER + 1));
    if (e === undefined) {
      encoders.set(room % (MAX_SENDER + 1), e = new LineEncoder(size, room % (MAX_SENDER + 1)));
    }
    return e;
  };
  options.onLoadStart?.();
  const cpu = startCpuMeter();
  const startMs = performance.now();
  runStartNs = nowNs();
  measureFromNs = runStartNs + warmupS * 1e9;
  measureToNs = measureFromNs + durationS * 1e9;
  let sent = 0;
  // Lines are spread evenly over time and rooms: by time t, floor(t * rooms * R) have been said.
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - startMs) / 1000) * rooms * ratePerRoom) - sent;
    const stamp = nowNs();
    for (let i = 0; i < due; i++) {
      const room = sent % rooms;
      conns[room * perRoom].write(encoderFor(room).encode(1, stamp));
      sent++;
    }
  }, 5);
  await sleep((warmupS + durationS) * 1000);
  clearInterval(timer);
  const loadgenCpu = cpu();
  const expected = sent * perRoom;
  const drainStart = performance.now();
  while (received < expected && performance.now() - drainStart < 3000) await sleep(20);
  const connectionsLost = conns.filter((c) => c.lost).length;
  for (const conn of conns) conn.close();
  await Promise.all(readers);
  return {
    mode: "rooms",
    transport,
    connections,
    connected: conns.length,
    connectFailed: tcp.failed + ws.failed,
    connectError: tcp.firstError ?? ws.firstError,
    connectionsLost,
    rooms,
    perRoom,
    ratePerRoom,
    durationS,
    warmupS,
    setupS: Math.round(setupS * 10) / 10,
    sent,
    expected,
    received,
    lost: Math.max(0, expected - received),
    deliveriesPerSec: Math.round(inWindow / durationS),
    latencyUs: latency.summary(),
    loadgenCpu,
  };
}
