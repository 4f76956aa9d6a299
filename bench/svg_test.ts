import assert from "node:assert/strict";
import { lineChart, shortNumber } from "./svg.ts";

Deno.test("svg: a chart with its series, ticks, labels and legend", () => {
  const svg = lineChart({
    title: "Latency <p99> & load",
    xLabel: "offered deliveries/s",
    yLabel: "ms",
    logY: true,
    mark: { y: 25, label: "goal" },
    series: [
      { name: "p50", points: [[50_000, 2], [200_000, 14]] },
      { name: "p99", points: [[50_000, 9], [200_000, 53], [400_000, 0]] },
    ],
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  assert.ok(svg.includes("Latency &lt;p99&gt; &amp; load"), "text is escaped");
  assert.equal(svg.match(/<polyline /g)?.length, 2);
  assert.equal(svg.match(/<circle /g)?.length, 4, "a zero cannot be drawn on a log axis");
  for (const tick of [">1<", ">10<", ">100<", ">200k<"]) assert.ok(svg.includes(tick), tick);
  assert.ok(svg.includes(">goal<"));
});

Deno.test("svg: the axes reach past the largest point", () => {
  const svg = lineChart({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    series: [{ name: "RSS", points: [[0, 60], [19_000, 487]] }],
  });
  assert.ok(svg.includes(">20k<"), "x: a tick at or past 19,000");
  assert.ok(svg.includes(">500<"), "y: a tick at or past 487");
});

Deno.test("svg: short numbers", () => {
  assert.equal(shortNumber(0), "0");
  assert.equal(shortNumber(1500), "1.5k");
  assert.equal(shortNumber(20_000), "20k");
  assert.equal(shortNumber(4_700_000), "4.7M");
  assert.equal(shortNumber(0.25), "0.25");
});
