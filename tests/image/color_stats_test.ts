import assert from "node:assert/strict";
import { colorStats, matchMeanStd, meanStd } from "../../src/image/color_stats.ts";
import { maxAbsDiff } from "./_color_fixtures.ts";

Deno.test("colorStats: means and population covariance of a hand-computed image", () => {
  // Pixels (0,0,0), (1,0,1), (0,1,1), (1,1,0): means ½, variances ¼, all cross terms 0.
  const image = {
    width: 4,
    height: 1,
    data: new Float32Array([0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 0]),
  };
  const { mean, covariance } = colorStats(image);
  assert.deepEqual(mean, [0.5, 0.5, 0.5]);
  assert.deepEqual(covariance, [0.25, 0, 0, 0, 0.25, 0, 0, 0, 0.25]);
  const skewed = colorStats({ width: 2, height: 1, data: new Float32Array([0, 0, 1, 1, 0.5, 0]) });
  assert.deepEqual(skewed.mean, [0.5, 0.25, 0.5]);
  // Deviations (−½, −¼, ½) and (½, ¼, −½).
  assert.ok(
    maxAbsDiff(skewed.covariance, [
      0.25,
      0.125,
      -0.25,
      0.125,
      0.0625,
      -0.125,
      -0.25,
      -0.125,
      0.25,
    ]) ===
      0,
  );
});

Deno.test("matchMeanStd gives the reference's mean and standard deviation", () => {
  const values = new Float32Array([0.1, 0.2, 0.4, 0.9]);
  const reference = new Float32Array([0.5, 0.55, 0.6]);
  const out = matchMeanStd(values, reference);
  const got = meanStd(out), want = meanStd(reference);
  assert.ok(Math.abs(got.mean - want.mean) < 1e-7);
  assert.ok(Math.abs(got.std - want.std) < 1e-7);
  // Order is kept (positive gain) and a constant input takes the reference mean.
  assert.ok(out[0] < out[1] && out[1] < out[2] && out[2] < out[3]);
  assert.ok(maxAbsDiff(matchMeanStd(new Float32Array([0.3, 0.3]), reference), [0.55, 0.55]) < 1e-7);
});
