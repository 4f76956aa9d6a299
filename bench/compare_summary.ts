/**
 * The table of `bench/compare.sh`: per case, each server's median (lowest-highest) of what the
 * scenario measures, and the first server's ratio to each of the others.
 *
 * @module
 */

type Run = { server: string; json: Record<string, number> };

/** Other processes' CPU (% of one core, from the generator) above which a run is left out. */
const MAX_OTHER_CPU = 30;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** What a scenario is judged by, and how to print it; `higher` says which way is better. */
const FIGURES: Record<string, { key: string; unit: (x: number) => string; higher: boolean }[]> = {
  "fanout-max": [
    { key: "recv_per_s", unit: (x) => `${(x / 1e6).toFixed(2)}M/s`, higher: true },
    { key: "p99_us", unit: (x) => `p99 ${(x / 1000).toFixed(0)} ms`, higher: false },
  ],
  "fanout-rate": [
    { key: "p99_us", unit: (x) => `p99 ${(x / 1000).toFixed(0)} ms`, higher: false },
    { key: "p50_us", unit: (x) => `p50 ${(x / 1000).toFixed(0)} ms`, higher: false },
    { key: "srv_cpu_pct", unit: (x) => `cpu ${x.toFixed(0)}%`, higher: false },
  ],
  echo: [
    { key: "recv_per_s", unit: (x) => `${(x / 1e6).toFixed(2)}M/s`, higher: true },
  ],
  conns: [
    { key: "rss_bytes_per_conn", unit: (x) => `${(x / 1024).toFixed(1)} KiB`, higher: false },
    { key: "accept_s", unit: (x) => `${x.toFixed(1)} s`, higher: false },
  ],
};

export function summarize(text: string): string[] {
  const cases = new Map<string, Run[]>();
  for (const line of text.split("\n")) {
    const m = /^(\S+) (\S+) (\S+) (\d+) (\{.*\})$/.exec(line);
    if (m === null) continue;
    const key = `${m[2]} ${m[3]}`;
    if (!cases.has(key)) cases.set(key, []);
    cases.get(key)!.push({ server: m[1], json: JSON.parse(m[5]) });
  }
  const out: string[] = [];
  for (const [key, runs] of cases) {
    const scenario = key.split(" ")[1];
    const servers = [...new Set(runs.map((r) => r.server))];
    const lost = (s: string) =>
      runs.filter((r) => r.server === s).reduce((a, r) => a + (r.json.lost ?? 0), 0);
    const failed = (s: string) => runs.filter((r) => r.server === s && r.json.failed_run).length;
    // A run during which other processes took much of the machine says nothing about the server.
    const disturbed = (r: Run) => (r.json.other_cpu_pct ?? 0) > MAX_OTHER_CPU;
    const skipped = (s: string) => runs.filter((r) => r.server === s && disturbed(r)).length;
    out.push(`## ${key}`);
    const medians = new Map<string, number[]>();
    for (const s of servers) {
      const mine = runs.filter((r) => r.server === s && !r.json.failed_run && !disturbed(r));
      const cells = (FIGURES[scenario] ?? []).map((f) => {
        const xs = mine.map((r) => r.json[f.key]).filter((x) => typeof x === "number");
        const m = median(xs);
        medians.set(s, [...(medians.get(s) ?? []), m]);
        return `${f.unit(m)} (${f.unit(Math.min(...xs))} - ${f.unit(Math.max(...xs))})`;
      });
      out.push(
        `${s.padEnd(9)} ${mine.length > 0 ? cells.join(", ") : "no undisturbed run"}; lost ${
          lost(s)
        }` +
          (failed(s) > 0 ? `; ${failed(s)} runs failed` : "") +
          (skipped(s) > 0 ? `; ${skipped(s)} disturbed runs left out` : ""),
      );
    }
    const first = servers[0];
    for (const s of servers.slice(1)) {
      const ratios = (FIGURES[scenario] ?? []).map((f, i) => {
        const ratio = medians.get(first)![i] / medians.get(s)![i];
        return `${f.key} ${Number.isFinite(ratio) ? ratio.toFixed(2) : "-"}`;
      });
      out.push(`${first}/${s}: ${ratios.join(", ")}`);
    }
  }
  return out;
}

if (import.meta.main) console.log(summarize(Deno.readTextFileSync(Deno.args[0])).join("\n"));
