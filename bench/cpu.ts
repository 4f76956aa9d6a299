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
