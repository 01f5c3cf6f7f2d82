import assert from "node:assert/strict";
import { blendGrams, gramMatrix } from "../../../src/neural/objective/gram.ts";
import {
  covarianceFromGram,
  featureMean,
  meanPartWeight,
} from "../../../src/neural/objective/mean_covariance.ts";

// 1 × 2 pixels, 2 channels: F = [[1, 2], [3, 4]].
const act = { height: 1, width: 2, channels: 2, data: Float32Array.from([1, 2, 3, 4]) };

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
