import assert from "node:assert/strict";
import { maskAtLayer, resizeMaskArea } from "../../../src/neural/objective/layer_mask.ts";
import { Prng } from "../../../src/util/prng.ts";

function assertClose(actual: Float32Array, expected: number[], tolerance = 1e-7): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) =>
    assert.ok(Math.abs(v - expected[i]) <= tolerance, `[${i}] ${v} ≠ ${expected[i]}`)
  );
}

function mean(values: Float32Array): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

Deno.test("resizeMaskArea maps a half-white mask to exact halves at divisible sizes", () => {
  // 4×4, left half white.
  const mask = Float32Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 1 : 0));
  assertClose(resizeMaskArea(mask, 4, 4, 2, 2), [1, 0, 1, 0], 0);
  assertClose(resizeMaskArea(mask, 4, 4, 1, 1), [0.5], 0);
  assertClose(resizeMaskArea(mask, 4, 4, 2, 1), [0.5, 0.5], 0);
  assertClose(resizeMaskArea(mask, 4, 4, 1, 4), [1, 1, 0, 0], 0);
});

Deno.test("resizeMaskArea weights fractional overlaps exactly at non-divisible sizes", () => {
  // Width 3 → 2: each output covers 1.5 inputs: [0, 1.5) and [1.5, 3).
  assertClose(resizeMaskArea(new Float32Array([1, 0, 0]), 1, 3, 1, 2), [2 / 3, 0]);
  assertClose(resizeMaskArea(new Float32Array([0, 1, 0]), 1, 3, 1, 2), [1 / 3, 1 / 3]);
  // Width 5 → 3: each output covers 5/3; [1,1,0,0,0] → [1, (1/3)/(5/3), 0].
  assertClose(resizeMaskArea(new Float32Array([1, 1, 0, 0, 0]), 1, 5, 1, 3), [1, 0.2, 0]);
  // A white centre pixel of 3×3 → 2×2: a quarter of it in each output, of area 2.25.
  const centre = new Float32Array(9);
  centre[4] = 1;
  assertClose(resizeMaskArea(centre, 3, 3, 2, 2), [1 / 9, 1 / 9, 1 / 9, 1 / 9]);
  // Upsampling 2 → 4 repeats each value over the half-pixels it covers.
  assertClose(resizeMaskArea(new Float32Array([0, 1]), 1, 2, 1, 4), [0, 0, 1, 1], 0);
});

Deno.test("resizeMaskArea preserves the mean of a mask", () => {
  const prng = new Prng(5);
  const mask = Float32Array.from({ length: 13 * 11 }, () => prng.float());
  for (const [h, w] of [[6, 5], [4, 7], [1, 1], [3, 2], [13, 11], [20, 17]]) {
    const out = resizeMaskArea(mask, 13, 11, h, w);
    assert.equal(out.length, h * w);
    assert.ok(Math.abs(mean(out) - mean(mask)) < 1e-6, `${h}×${w}: ${mean(out)} vs ${mean(mask)}`);
  }
  // Same size is the identity.
  assertClose(resizeMaskArea(mask, 13, 11, 13, 11), [...mask], 1e-7);
});

Deno.test("resizeMaskArea rejects a mask of the wrong length", () => {
  assert.throws(() => resizeMaskArea(new Float32Array(5), 2, 3, 1, 1), /5 values, expected 2×3/);
});

Deno.test("maskAtLayer area-averages the image mask onto the block's resolution", () => {
  // 4×4 mask, left half 1: block 2 is 2×2 with the left column 1; block 1 unchanged
  const mask = Float32Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 1 : 0));
  assert.deepEqual([...maskAtLayer(mask, 4, 4, 2)], [1, 0, 1, 0]);
  assert.deepEqual([...maskAtLayer(mask, 4, 4, 1)], [...mask]);
  // 5×5 floors to 2×2 at block 2, each cell averaging 2.5×2.5 input pixels
  const five = Float32Array.from({ length: 25 }, (_, i) => (i % 5 === 2 ? 1 : 0));
  assert.deepEqual([...maskAtLayer(five, 5, 5, 2)].map((v) => +v.toFixed(6)), [0.2, 0.2, 0.2, 0.2]);
});
