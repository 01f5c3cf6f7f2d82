import assert from "node:assert/strict";
import { lossChartSvg, lossSeries } from "../../src/report/loss_chart.ts";

const points = [
  { iteration: 0, loss: 1e6, terms: { content: 1e3, style: 9e5, tv: 1e2 } },
  { iteration: 50, loss: 1e5, terms: { content: 4e4, style: 5e4, tv: 1e4 } },
  { iteration: 100, loss: 1e4, terms: { content: 5e3, style: 4e3, tv: 1e3 } },
];

Deno.test("lossSeries: the total, then each term in first-seen order", () => {
  const series = lossSeries(points);
  assert.deepEqual([...series.keys()], ["loss", "content", "style", "tv"]);
  assert.deepEqual(series.get("style"), [[0, 9e5], [50, 5e4], [100, 4e3]]);
});

Deno.test("lossChartSvg: log-scale decades, a polyline per series, the same bytes each time", () => {
  const svg = lossChartSvg(points, { width: 400, height: 300, title: "a <b>" });
  assert.equal(svg, lossChartSvg(points, { width: 400, height: 300, title: "a <b>" }));
  assert.equal(svg.match(/<polyline /g)?.length, 4);
  // Decades 1e2 … 1e6 each get a grid line and a label.
  for (let d = 2; d <= 6; d++) assert.ok(svg.includes(`>1e${d}</text>`), `1e${d}`);
  assert.ok(svg.includes("a &lt;b&gt;"));
  // The total's points: x spans the plot (64 … 384), y is linear in log10 (top 32, bottom 260).
  const total = svg.match(/<polyline [^>]*stroke-width="2" points="([^"]+)"/)![1];
  assert.equal(total, "64,32 224,89 384,146");
});

Deno.test("lossChartSvg: nothing positive to draw is an error", () => {
  assert.throws(() => lossChartSvg([]), /no positive loss/);
  assert.throws(() => lossChartSvg([{ iteration: 0, loss: 0 }]), /no positive loss/);
});
