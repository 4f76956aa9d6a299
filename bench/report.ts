/**
 * Turning benchmark results into the summary table printed at the end of `deno task bench`.
 *
 * @module
 */

import type { LoadResult, TransportFigures } from "./loadgen.ts";

/** One scenario's outcome as recorded by the benchmark runner. */
export interface ScenarioRecord {
  /** Scenario name, e.g. `fanout-max`. */
  name: string;
  /** What the scenario does, in words. */
  description: string;
  /** Arguments passed to the load generator. */
  loadgenArgs: string[];
  /** The generator's results, when it produced any. */
  result?: LoadResult;
  /** Why the scenario failed, when it did. */
  error?: string;
  /** The server's CPU use during the load (1.0 = one core) and its resident memory at the end. */
  serverCpu?: number;
  serverRssBytes?: number;
  /** A result that is not the load generator's (sweeps, start and stop), as its table row. */
  summary?: string;
}

/** Formats an integer with thousands separators. */
function int(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Bytes as MB with one decimal. */
export function mb(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

/** Formats a latency in µs, or `-` without samples. */
function micros(us: number | null): string {
  return us === null ? "-" : `${int(us)} µs`;
}

/** Warnings and context worth a glance next to a result. */
function notes(r: Exclude<LoadResult, { mode: "leak" | "churn" }>): string[] {
  const out: string[] = [`gen cpu ${Math.round(r.loadgenCpu * 100)}%`];
  if (r.loadgenCpu >= 0.9) out.push("generator saturated");
  if (r.connectFailed > 0) out.push(`${r.connectFailed} conn failed`);
  if (r.connectionsLost > 0) out.push(`${r.connectionsLost} conn lost`);
  if (r.mode === "fanout" && r.transport !== "tcp") {
    const refused = r.byTransport.find((t) => t.transport === "ws")?.connectError;
    if (refused) out.push(`ws: ${refused}`);
  }
  if (r.mode === "echo" && r.foreign > 0) out.push("server broadcasts: not in --echo mode?");
  if (r.mode === "rooms") out.push(`${r.rooms} rooms of ${r.perRoom}, set up in ${r.setupS} s`);
  if (r.mode === "fanout") {
    if (r.churn) out.push(`churn ${r.churn.completed} clients (${r.churn.failed} failed)`);
    if (r.windowResets > 0) out.push(`${r.windowResets} window resets`);
    if (r.rate > 0 && r.sentPerSec < r.rate * 0.95) out.push(`sent only ${int(r.sentPerSec)}/s`);
    if (r.extra > 0) out.push(`${int(r.extra)} extra`);
  }
  return out;
}

/** Notes of one transport's row of a mixed run. */
function transportNotes(t: TransportFigures): string[] {
  const out = [`${t.connected} members, ${t.senders} senders`];
  if (t.connectFailed > 0) out.push(`${t.connectFailed} conn failed`);
  if (t.connectionsLost > 0) out.push(`${t.connectionsLost} conn lost`);
  if (t.extra > 0) out.push(`${int(t.extra)} extra`);
  return out;
}

/** Renders rows as columns padded to equal width, each left- or right-aligned as given. */
export function alignRows(rows: string[][], rightAligned: boolean[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c]?.length ?? 0)));
  return rows
    .map((row) =>
      row
        .map((cell, c) => rightAligned[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))
        .join("  ")
        .trimEnd()
    )
    .join("\n");
}

/** The summary table: scenario, rate, p50, p99, lost, notes. */
export function formatTable(records: ScenarioRecord[]): string {
  // Rates carry different units (lines/s, deliveries/s): pad the numbers so they line up.
  const rates = records.map((rec) => {
    const r = rec.result;
    if (r === undefined) return null;
    if (r.mode === "leak") {
      return { value: `${mb(r.start.rssBytes)} -> ${mb(r.end.rssBytes)}`, unit: "MB RSS" };
    }
    if (r.mode === "churn") return { value: int(r.churn.completed), unit: "clients" };
    return r.mode === "echo"
      ? { value: int(r.linesPerSec), unit: "lines/s" }
      : { value: int(r.deliveriesPerSec), unit: "deliveries/s" };
  });
  // A mixed run gets one more row per transport, below its total.
  const split = (rec: ScenarioRecord): TransportFigures[] =>
    rec.result?.mode === "fanout" && rec.result.byTransport.length > 1
      ? rec.result.byTransport
      : [];
  const rateWidth = Math.max(
    0,
    ...rates.map((rate) => rate?.value.length ?? 0),
    ...records.flatMap(split).map((t) => int(t.deliveriesPerSec).length),
  );

  const rows: string[][] = [["scenario", "rate", "p50", "p99", "lost", "notes"]];
  records.forEach((rec, i) => {
    const r = rec.result;
    const rate = rates[i];
    if (rec.summary !== undefined) {
      rows.push([rec.name, "", "", "", "", rec.summary]);
      return;
    }
    if (r === undefined || rate === null) {
      rows.push([rec.name, "-", "-", "-", "-", `FAILED: ${rec.error ?? "unknown error"}`]);
      return;
    }
    const server = rec.serverCpu === undefined
      ? []
      : [`server cpu ${Math.round(rec.serverCpu * 100)}%, rss ${mb(rec.serverRssBytes ?? 0)} MB`];
    if (r.mode === "churn") {
      rows.push([
        rec.name,
        `${rate.value} ${rate.unit}`,
        "-",
        "-",
        "-",
        `${r.churn.failed} failed`,
      ]);
      return;
    }
    if (r.mode === "leak") {
      rows.push([
        rec.name,
        `${rate.value.padStart(rateWidth)} ${rate.unit}`,
        "-",
        "-",
        "-",
        [
          `x${r.rssRatio} after ${int(r.churn.completed)} clients`,
          `x${r.churnRatio} from the churn's second sixth to its last`,
          `${r.churn.failed} failed`,
          ...server,
        ].join(", "),
      ]);
      return;
    }
    rows.push([
      rec.name,
      `${rate.value.padStart(rateWidth)} ${rate.unit}`,
      micros(r.latencyUs.p50),
      micros(r.latencyUs.p99),
      int(r.lost),
      [...notes(r), ...server].join(", "),
    ]);
    for (const t of split(rec)) {
      rows.push([
        `  ${t.transport}`,
        `${int(t.deliveriesPerSec).padStart(rateWidth)} deliveries/s`,
        micros(t.latencyUs.p50),
        micros(t.latencyUs.p99),
        int(t.lost),
        transportNotes(t).join(", "),
      ]);
    }
  });
  return alignRows(rows, [false, false, true, true, true, false]);
}
