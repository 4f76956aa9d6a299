/**
 * Measures how busy the load generator itself is, so a result can say whether the generator,
 * rather than the server, was the limit.
 *
 * @module
 */

import process from "node:process";

/**
 * Starts measuring this process's CPU time. The returned function gives the CPU time used since
 * the start divided by the wall time since the start: 1.0 means one core fully busy.
 */
export function startCpuMeter(): () => number {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  return () => {
    const used = process.cpuUsage(cpu0);
    const wallUs = (performance.now() - wall0) * 1000;
    return wallUs > 0 ? Math.round(((used.user + used.system) / wallUs) * 100) / 100 : 0;
  };
}

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Another process's CPU time in seconds and resident memory in bytes, from `/proc` (Linux). */
export function processUsage(pid: number): { cpuSeconds: number; rssBytes: number } | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
    return { cpuSeconds, rssBytes: rssKb * 1024 };
  } catch {
    return null; // not Linux, or the process is gone
  }
}

/** Starts measuring process `pid`: the returned function gives its CPU use (1.0 = one core) and RSS. */
export function startProcessMeter(pid: number): () => { cpu: number; rssBytes: number } | null {
  const first = processUsage(pid);
  const wall0 = performance.now();
  return () => {
    const now = processUsage(pid);
    if (first === null || now === null) return null;
    const wallS = (performance.now() - wall0) / 1000;
    return {
      cpu: wallS > 0 ? Math.round(((now.cpuSeconds - first.cpuSeconds) / wallS) * 100) / 100 : 0,
      rssBytes: now.rssBytes,
    };
  };
}
