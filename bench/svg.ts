/**
 * Small SVG line charts for the benchmark's results: no dependencies, readable in a browser and
 * on a repository page. One chart = a few named series of (x, y) points, linear x, linear or
 * logarithmic y, with grid lines, tick labels and a legend.
 *
 * @module
 */

/** One line of a chart. */
export interface Series {
  name: string;
  points: [x: number, y: number][];
}

/** What to draw. */
export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** A logarithmic y axis (latencies spanning orders of magnitude). */
  logY?: boolean;
  /** A horizontal dashed line, such as a goal (`y`, with its label). */
  mark?: { y: number; label: string };
}

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { left: 80, right: 160, top: 40, bottom: 56 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

/** Escapes text for SVG. */
function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A short number: 1.2k, 3.4M, 0.5. */
export function shortNumber(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${+(n / 1e6).toFixed(abs >= 1e7 ? 0 : 1)}M`;
  if (abs >= 1e3) return `${+(n / 1e3).toFixed(abs >= 1e4 ? 0 : 1)}k`;
  if (abs >= 1 || abs === 0) return `${+n.toFixed(1)}`;
  return `${+n.toPrecision(2)}`;
}

/** About `count` round tick values covering [min, max]. */
function linearTicks(min: number, max: number, count = 5): number[] {
  const span = max - min || 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  // Up to the first tick at or past `max`, so every point lies inside the axis.
  let t = Math.floor(min / step) * step;
  ticks.push(t);
  while (t < max - step * 1e-9) ticks.push(t += step);
  return ticks;
}

/** Renders the chart as an SVG document. */
export function lineChart(spec: ChartSpec): string {
  const points = spec.series.flatMap((s) => s.points).filter(([, y]) => !spec.logY || y > 0);
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  if (spec.mark) ys.push(spec.mark.y);
  const xMin = Math.min(0, ...xs);
  const xMax = Math.max(...xs, 1);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  let yMin: number;
  let yMax: number;
  let yTicks: number[];
  let yScale: (y: number) => number;
  if (spec.logY) {
    yMin = 10 ** Math.floor(Math.log10(Math.min(...ys)));
    yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
    if (yMax === yMin) yMax = yMin * 10;
    yTicks = [];
    for (let t = yMin; t <= yMax * 1.0001; t *= 10) yTicks.push(t);
    const span = Math.log10(yMax) - Math.log10(yMin);
    yScale = (y) => MARGIN.top + plotH - ((Math.log10(y) - Math.log10(yMin)) / span) * plotH;
  } else {
    yMin = 0;
    yTicks = linearTicks(0, Math.max(...ys, 1));
    yMax = yTicks[yTicks.length - 1];
    yScale = (y) => MARGIN.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
  }
  const xTicks = linearTicks(xMin, xMax);
  const xEnd = xTicks[xTicks.length - 1];
  const xScale = (x: number) => MARGIN.left + ((x - xMin) / (xEnd - xMin || 1)) * plotW;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      `width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">` +
      `${esc(spec.title)}</text>`,
  );
  for (const t of yTicks) {
    const y = yScale(t).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">` +
        `${shortNumber(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    const x = xScale(t).toFixed(1);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${shortNumber(t)}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" ` +
      `fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">` +
      `${esc(spec.xLabel)}</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" ` +
      `text-anchor="middle">${esc(spec.yLabel)}</text>`,
  );
  if (spec.mark) {
    const y = yScale(spec.mark.y).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}" ` +
        `stroke="#888" stroke-dasharray="6 4"/>`,
      `<text x="${MARGIN.left + plotW - 4}" y="${Number(y) - 5}" text-anchor="end" fill="#555">` +
        `${esc(spec.mark.label)}</text>`,
    );
  }
  spec.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = series.points.filter(([, y]) => !spec.logY || y > 0)
      .map(([x, y]) => `${xScale(x).toFixed(1)},${yScale(y).toFixed(1)}`);
    if (pts.length > 1) {
      out.push(
        `<polyline points="${pts.join(" ")}" fill="none" stroke="${color}" stroke-width="2"/>`,
      );
    }
    for (const p of pts) {
      const [x, y] = p.split(",");
      out.push(`<circle cx="${x}" cy="${y}" r="3.5" fill="${color}"/>`);
    }
    const ly = MARGIN.top + 10 + i * 20;
    const lx = MARGIN.left + plotW + 14;
    out.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${lx + 28}" y="${ly}" dominant-baseline="middle">${esc(series.name)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
