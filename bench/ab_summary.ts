/**
 * The table of `bench/ab.sh`: per scenario and store, the median deliveries/s of each variant
 * (lowest and highest in brackets), the p99 of each run, what was lost, and after/before.
 *
 * @module
 */

type Run = { variant: string; rate: number; p99Ms: number; lost: number };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const groups = new Map<string, Run[]>();
for (const line of Deno.readTextFileSync(Deno.args[0]).split("\n")) {
  const m = /^(\S+) (\S+) (\S+) (\d+) (\{.*\})$/.exec(line);
  if (m === null) continue;
  const j = JSON.parse(m[5]);
  const key = `${m[3]} ${m[2]}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key)!.push({
    variant: m[1],
    rate: j.recv_per_s,
    p99Ms: j.p99_us / 1000,
    lost: j.lost,
  });
}
const fmt = (runs: Run[]) => {
  const rates = runs.map((r) => r.rate);
  const m = (x: number) => (x / 1e6).toFixed(2);
  return `${m(median(rates))}M (${m(Math.min(...rates))}-${m(Math.max(...rates))}), p99 ms ` +
    `${runs.map((r) => Math.round(r.p99Ms)).join("/")}, lost ${
      runs.reduce((a, r) => a + r.lost, 0)
    }`;
};
for (const [key, runs] of groups) {
  const before = runs.filter((r) => r.variant === "before");
  const after = runs.filter((r) => r.variant === "after");
  const ratio = median(after.map((r) => r.rate)) / median(before.map((r) => r.rate));
  console.log(
    `${key.padEnd(20)} before ${fmt(before)} | after ${fmt(after)} | ${ratio.toFixed(2)}`,
  );
}
