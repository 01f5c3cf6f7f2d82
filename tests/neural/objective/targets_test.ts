import assert from "node:assert/strict";
import { blendGrams, gramMatrix, maskGramScale } from "../../../src/neural/objective/gram.ts";
import { contentTarget } from "../../../src/neural/objective/content.ts";
import {
  covarianceFromGram,
  featureMean,
  meanPartWeight,
} from "../../../src/neural/objective/mean_covariance.ts";

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

Deno.test("contentTarget copies the activations", () => {
  const t = contentTarget("relu4_2", 1, act);
  assert.deepEqual(t.activations, act.data);
  assert.notEqual(t.activations, act.data);
});

Deno.test("featureMean, covarianceFromGram and meanPartWeight: exact values", () => {
  // F = [[1, 2], [3, 4]]: m = [2, 3]; F − 1mᵀ = [[−1, −1], [1, 1]] → covariance 2/(2·2) = 0.5.
  const mean = featureMean(act);
  assert.deepEqual(mean, Float32Array.from([2, 3]));
  assert.deepEqual(
    covarianceFromGram(gramMatrix(act), mean),
    Float32Array.from([0.5, 0.5, 0.5, 0.5]),
  );
  // λ = 2·mean(m²)/C² = 2·6.5/4.
  assert.equal(meanPartWeight(mean), 3.25);
  assert.throws(() => covarianceFromGram(new Float32Array(3), mean), RangeError);
});

Deno.test("covarianceFromGram of blended Grams and means is the covariance of the mixture", () => {
  // A 50/50 blend of two 2-pixel styles is the 4-pixel image holding both.
  const other = { height: 1, width: 2, channels: 2, data: Float32Array.from([5, 0, 1, 2]) };
  const both = {
    height: 2,
    width: 2,
    channels: 2,
    data: Float32Array.from([1, 2, 3, 4, 5, 0, 1, 2]),
  };
  const blend = [0.5, 0.5];
  const mixed = covarianceFromGram(
    blendGrams([gramMatrix(act), gramMatrix(other)], blend),
    blendGrams([featureMean(act), featureMean(other)], blend),
  );
  const direct = covarianceFromGram(gramMatrix(both), featureMean(both));
  mixed.forEach((v, i) => assert.ok(Math.abs(v - direct[i]) < 1e-6, `${v} vs ${direct[i]}`));
  // m = [2.5, 2]; centred rows [−1.5, 0], [0.5, 2], [2.5, −2], [−1.5, 0] → Σ = [[11, −4], [−4, 8]] / 8.
  assert.deepEqual(direct, Float32Array.from([1.375, -0.5, -0.5, 1]));
});
