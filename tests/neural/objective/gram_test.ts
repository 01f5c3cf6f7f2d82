import assert from "node:assert/strict";
import {
  blendGrams,
  gramFromSum,
  gramMatrix,
  gramSum,
  maskGramScale,
} from "../../../src/neural/objective/gram.ts";
import { featureSum } from "../../../src/neural/objective/mean_covariance.ts";
import { layerCounts } from "../../../src/neural/objective/statistics.ts";

// 1 × 2 pixels, 2 channels: F = [[1, 2], [3, 4]].
const act = { height: 1, width: 2, channels: 2, data: Float32Array.from([1, 2, 3, 4]) };

Deno.test("gramMatrix is FᵀF / (H·W·C)", () => {
  // FᵀF = [[1+9, 2+12], [2+12, 4+16]] = [[10, 14], [14, 20]], divided by 1·2·2.
  assert.deepEqual(gramMatrix(act), Float32Array.from([2.5, 3.5, 3.5, 5]));
});

Deno.test("gramMatrix multiplies each pixel's features by its mask value", () => {
  // Rows scaled by 1 and 0.5: [[1, 2], [1.5, 2]] → FᵀF = [[3.25, 5], [5, 8]], / 4.
  assert.deepEqual(
    gramMatrix(act, Float32Array.from([1, 0.5])),
    Float32Array.from([0.8125, 1.25, 1.25, 2]),
  );
  assert.throws(() => gramMatrix(act, new Float32Array(3)), RangeError);
});

Deno.test("gramMatrix matches a direct sum on a larger activation", () => {
  const h = 3, w = 4, c = 5;
  const data = Float32Array.from({ length: h * w * c }, (_, i) => Math.sin(i * 1.7) * 3);
  const g = gramMatrix({ height: h, width: w, channels: c, data });
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let p = 0; p < h * w; p++) s += data[p * c + i] * data[p * c + j];
      assert.ok(Math.abs(g[i * c + j] - s / (h * w * c)) < 1e-6);
    }
  }
});

Deno.test("blendGrams is the weighted sum", () => {
  const a = Float32Array.from([1, 2]), b = Float32Array.from([3, 6]);
  assert.deepEqual(blendGrams([a, b], [0.25, 0.75]), Float32Array.from([2.5, 5]));
  assert.throws(() => blendGrams([a], [0.5, 0.5]), RangeError);
});

Deno.test("maskGramScale is the mean squared mask at the layer's resolution", () => {
  // 4 × 4 mask, left half white: at block 1 (4 × 4) and block 2 (2 × 2) the mean of M² is 0.5.
  const mask = Float32Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 1 : 0));
  assert.equal(maskGramScale(mask, 4, 4, 1), 0.5);
  assert.equal(maskGramScale(mask, 4, 4, 2), 0.5);
  // At block 3 (1 × 1) the area average is 0.5, squared 0.25.
  assert.equal(maskGramScale(mask, 4, 4, 3), 0.25);
});

Deno.test("Gram and feature sums over disjoint positions add up to the whole image's", () => {
  // 4 × 3 positions, 3 channels, integer values (exact in float64): rows 0–1 and 2–3 as two tiles.
  const h = 4, w = 3, c = 3;
  const data = Float32Array.from({ length: h * w * c }, (_, i) => (i * 7) % 11 - 3);
  const whole = { height: h, width: w, channels: c, data };
  const tile = (row: number, rows: number) => ({
    height: rows,
    width: w,
    channels: c,
    data: data.subarray(row * w * c, (row + rows) * w * c),
  });
  const mask = Float32Array.from({ length: h * w }, (_, p) => (p % 4) / 4);
  const add = (a: Float64Array, b: Float64Array) => a.map((v, i) => v + b[i]);
  const { positions, channels } = layerCounts(whole);
  assert.deepEqual([positions, channels], [12, 3]);
  const top = tile(0, 2), bottom = tile(2, 2);
  const sum = add(gramSum(top), gramSum(bottom));
  assert.deepEqual(sum, gramSum(whole));
  assert.deepEqual(gramFromSum(sum, positions, channels), gramMatrix(whole));
  const masked = add(gramSum(top, mask.subarray(0, 6)), gramSum(bottom, mask.subarray(6)));
  assert.deepEqual(gramFromSum(masked, positions, channels), gramMatrix(whole, mask));
  assert.deepEqual(add(featureSum(top), featureSum(bottom)), featureSum(whole));
});
