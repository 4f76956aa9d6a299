/**
 * Churn: clients that come and go at a steady rate while the rest of a scenario runs.
 *
 * Each churn client connects (TCP lines or WebSocket text; `mixed` alternates), is put in `lobby`
 * by the server, and then either stays there for `holdMs` (`stay`: the join and leave traffic of a
 * big room) or joins a room of its own choosing, says a line, leaves it and stays `holdMs`
 * (`talk`: the connect-join-talk-leave-disconnect cycle of the leak test) before it disconnects.
 * What the server sends it is read and dropped.
 *
 * @module
 */

import { type LineClient, LineConn } from "./conn.ts";
import type { TransportMix } from "./fanout.ts";
import { connectWithTimeout, sleep, type Target } from "./net.ts";
import { WsConn } from "./ws.ts";

/** Settings of a churn. */
export interface ChurnOptions {
  /** The line protocol listener, for TCP churn clients. */
  target?: Target;
  /** The HTTP listener serving `/ws`, for WebSocket churn clients. */
  wsTarget?: Target;
  /** Clients started per second. */
  perSecond: number;
  /** How long each client stays connected, in ms. */
  holdMs: number;
  /** Transports of the churn clients (`mixed` alternates). */
  transport: TransportMix;
  /** `stay` in lobby, or `talk`: join one of `rooms` rooms, say a line, leave. */
  script: "stay" | "talk";
  /** `talk`: how many rooms the clients spread over (default 100). */
  rooms?: number;
}

/** What a churn did. */
export interface ChurnFigures {
  perSecond: number;
  holdMs: number;
  /** Clients started. */
  started: number;
  /** Clients that connected, did their script and disconnected. */
  completed: number;
  /** Clients that could not connect or were cut off. */
  failed: number;
  firstError: string | null;
}

const encoder = new TextEncoder();

/** Starts churning at once; `stop()` stops starting clients and waits for those under way. */
export function startChurn(options: ChurnOptions): { stop(): Promise<ChurnFigures> } {
  const { perSecond, holdMs, transport, script } = options;
  const rooms = options.rooms ?? 100;
  const figures: ChurnFigures = {
    perSecond,
    holdMs,
    started: 0,
    completed: 0,
    failed: 0,
    firstError: null,
  };
  const running = new Set<Promise<void>>();
  let stopping = false;

  const one = async (n: number) => {
    const ws = transport === "ws" || (transport === "mixed" && n % 2 === 1);
    let conn: LineClient;
    try {
      conn = ws
        ? await WsConn.connect({ target: options.wsTarget! }, 5000)
        : new LineConn(await connectWithTimeout(options.target!, 5000));
    } catch (err) {
      figures.failed++;
      figures.firstError ??= err instanceof Error ? err.message : String(err);
      return;
    }
    const reading = conn.readLines(() => {});
    if (script === "talk") {
      const room = `churn-${n % rooms}`;
      conn.write(encoder.encode(`/join ${room}\nhello from churn ${n}\n/leave ${room}\n`));
    }
    await sleep(holdMs);
    const lost = conn.lost;
    conn.close();
    await reading;
    if (lost) figures.failed++;
    else figures.completed++;
  };

  const startedAt = performance.now();
  const timer = setInterval(() => {
    if (stopping) return;
    const due = Math.floor(((performance.now() - startedAt) / 1000) * perSecond) -
      figures.started;
    for (let i = 0; i < due; i++) {
      const task = one(figures.started++);
      running.add(task);
      task.finally(() => running.delete(task));
    }
  }, 10);

  return {
    async stop() {
      stopping = true;
      clearInterval(timer);
      await Promise.all(running);
      return figures;
    },
  };
}
