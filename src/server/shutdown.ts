/**
 * A running server's orderly stop, step by step: stop accepting; tell every
 * connection it is going away and let it drain, for at most the drain
 * timeout; stop the HTTP servers (not waiting long for peers that never
 * answer); then close the cluster link and the store, and log the totals.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { Hub } from "../core/hub.ts";
import type { HistoryStore } from "../core/history.ts";
import type { Stats } from "../core/stats.ts";
import type { LoopLag } from "../transport/loop_lag.ts";
import type { MemoryTrim } from "./memory_trim.ts";
import type { Doors } from "./doors.ts";
import { count } from "../protocol/text.ts";

/** What a shutdown stops. */
export interface Stoppable {
  log: Logger;
  doors: Doors;
  hub: Hub | null;
  cluster: { close(): Promise<void> } | null;
  store: HistoryStore;
  stats: Stats;
  /** The idle connections' sweep, if there is one. */
  idleSweep: ReturnType<typeof setInterval> | null;
  loopLag: LoopLag;
  memoryTrim: MemoryTrim;
  /** How long the drain may take; read when it starts, as a reload may have changed it. */
  drainTimeoutMs(): number;
}

/** Stops `server` (see the module doc); resolves once the store is closed. */
export async function shutdownServer(server: Stoppable): Promise<void> {
  const { log, doors, hub, stats } = server;
  const { live, serving } = doors;
  log.info("shutting down: {open}", {
    open: count(live.size, "connection"),
    connections: live.size,
  });
  if (server.idleSweep !== null) clearInterval(server.idleSweep);
  server.loopLag.stop();
  server.memoryTrim.stop();
  for (const l of [doors.tcp, doors.irc, doors.ircTls]) {
    if (l === null) continue;
    try {
      l.close();
    } catch {
      // Already closed.
    }
  }
  await Promise.all(doors.accepting);
  // The hub tells every chat client; the transports then write what is
  // queued and close every connection (echo mode's too). The HTTP server
  // stops once they are gone.
  hub?.shutdown();
  for (const entry of [...live]) entry.goingAway();
  const drained = serving.idle().then(() => true);
  const deadline = new Promise<false>((resolve) => {
    const timer = setTimeout(() => resolve(false), server.drainTimeoutMs());
    drained.then(() => clearTimeout(timer));
  });
  if (!(await Promise.race([drained, deadline]))) {
    log.warn("drain deadline passed: closing {open}", {
      open: count(live.size, "connection"),
      n: live.size,
    });
    for (const entry of [...live]) entry.forceClose();
    await serving.idle();
  }
  // A WSS peer that never answers the close keeps its connection open in
  // the runtime (Deno.serve's): do not wait for it past a short grace.
  if (doors.http !== null) {
    const { front } = doors.http;
    front.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<false>((resolve) => (timer = setTimeout(resolve, 1000, false)));
    const servers = front.servers();
    const stopped = Promise.all(servers.map((h) => h.shutdown())).then(() => true, () => true);
    const closed = await Promise.race([stopped, grace]);
    clearTimeout(timer);
    front.closeAll();
    if (!closed) log.warn("http listener still has unresponsive connections; not waiting");
  }
  if (doors.metrics !== null) {
    // A scraper's keep-alive connection is not worth waiting for.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise((resolve) => (timer = setTimeout(resolve, 1000)));
    await Promise.race([doors.metrics.shutdown().catch(() => {}), grace]);
    clearTimeout(timer);
  }
  await server.cluster?.close();
  await server.store.close();
  log.info(
    "stopped: {messages} in, {events} out, {bytes} out, {slowConsumers} cut off",
    {
      messages: count(stats.messagesIn, "message"),
      events: count(stats.eventsOut, "event"),
      bytes: count(stats.bytesOut, "byte"),
      slowConsumers: count(stats.slowConsumers, "slow consumer"),
      messagesIn: stats.messagesIn,
      eventsOut: stats.eventsOut,
      bytesOut: stats.bytesOut,
      slow: stats.slowConsumers,
    },
  );
}
