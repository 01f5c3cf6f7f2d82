import assert from "node:assert/strict";
import {
  channel,
  histogramColorTransfer,
  matchHistogram,
} from "../../src/image/histogram_match.ts";
import { coolImage, maxAbsDiff, warmImage } from "./_color_fixtures.ts";

Deno.test("matchHistogram: equal sizes, no ties → sorted output equals sorted reference exactly", () => {
  const values = new Float32Array([0.9, 0.1, 0.5, 0.3]);
  const reference = new Float32Array([10, 40, 20, 30]);
  assert.deepEqual([...matchHistogram(values, reference)], [40, 10, 30, 20]);
});

Deno.test("matchHistogram: different sizes interpolate the reference's quantiles", () => {
  // Ranks 0, 1, 2 of 3 → quantiles 0, ½, 1 → reference positions 0, 2.5, 5.
  const reference = new Float32Array([0, 1, 2, 3, 4, 5]);
  assert.deepEqual([...matchHistogram(new Float32Array([7, 3, 5]), reference)], [5, 0, 2.5]);
  // Ties share the middle of their run: ranks {0,1} → 0.5/2, rank 2 → 1.
  assert.deepEqual(
    [...matchHistogram(new Float32Array([1, 1, 2]), new Float32Array([0, 2, 4]))],
    [1, 1, 4],
  );
  assert.deepEqual([...matchHistogram(new Float32Array([0.3]), reference)], [2.5]);
  assert.throws(() => matchHistogram(new Float32Array([0.5]), new Float32Array(0)), /no values/);
});

Deno.test("histogramColorTransfer: every channel's sorted values are the target's quantiles", () => {
  // Same pixel count (24×20 = 480 = 30×16), continuous values → exact equality per channel.
  const source = warmImage(24, 20), target = coolImage(30, 16);
  const out = histogramColorTransfer(source, target);
  for (let c = 0; c < 3; c++) {
    const got = channel(out, c).sort(), want = channel(target, c).sort();
    assert.equal(maxAbsDiff(got, want), 0);
  }
  // A different pixel count: output values are the target's quantiles at the source's ranks.
  const small = warmImage(9, 7); // 63 pixels
  const out2 = histogramColorTransfer(small, target);
  for (let c = 0; c < 3; c++) {
    const got = channel(out2, c).sort(), sortedTarget = channel(target, c).sort();
    const want = got.map((_, r) => {
      const pos = (r / 62) * 479, lo = Math.floor(pos), hi = Math.min(lo + 1, 479);
      return sortedTarget[lo] + (pos - lo) * (sortedTarget[hi] - sortedTarget[lo]);
    });
    assert.ok(maxAbsDiff(got, want) < 1e-7);
    // Ranks are kept: the brightest source pixel is the brightest output pixel.
    const src = channel(small, c), o = channel(out2, c);
    assert.equal(src.indexOf(Math.max(...src)), o.indexOf(Math.max(...o)));
  }
});
