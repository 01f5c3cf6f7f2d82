import assert from "node:assert/strict";
import { blendImages, type BlendMode, blendModes } from "../../src/image/blend_modes.ts";
import { synthImage } from "./_images.ts";

Deno.test("blend mode formulas at known points", () => {
  // f(a, b) of the mode: a one-pixel base a under a one-pixel overlay b, at full opacity.
  const f = (mode: BlendMode, a: number, b: number) => {
    const out = blendImages(
      synthImage(1, 1, () => [a, a, a]),
      synthImage(1, 1, () => [b, b, b]),
      mode,
      1,
    );
    return Math.round(out.data[0] * 1e6) / 1e6; // float32 pixels: 7 digits
  };
  assert.equal(f("normal", 0.2, 0.7), 0.7);
  assert.equal(f("multiply", 0.5, 0.4), 0.2);
  assert.equal(f("screen", 0.5, 0.5), 0.75);
  assert.equal(f("overlay", 0.25, 0.5), 0.25);
  assert.equal(f("overlay", 0.75, 0.5), 0.75);
  assert.equal(f("overlay", 0.75, 1), 1);
  assert.equal(f("difference", 0.2, 0.7), 0.5);
  // Soft light: b = 0.5 is neutral; b = 1 on a = 0.25 gives D(0.25) = ((4 − 12)·0.25 + 4)·0.25 = 0.5.
  assert.equal(f("soft-light", 0.3, 0.5), 0.3);
  assert.equal(f("soft-light", 0.25, 1), 0.5);
  assert.equal(f("soft-light", 0.64, 1), 0.8);
  assert.equal(f("soft-light", 0.5, 0), 0.25);
});

Deno.test("opacity interpolates between base and the mode result; sizes must match", () => {
  const base = synthImage(2, 1, () => [0.2, 0.4, 0.6]);
  const over = synthImage(2, 1, () => [1, 1, 1]);
  for (const mode of blendModes) {
    assert.deepEqual(blendImages(base, over, mode, 0).data, base.data);
  }
  const half = blendImages(base, over, "normal", 0.5);
  [0.6, 0.7, 0.8].forEach((v, i) => assert.ok(Math.abs(half.data[i] - v) < 1e-6));
  assert.throws(
    () => blendImages(base, synthImage(1, 1, () => [0, 0, 0]), "normal", 1),
    RangeError,
  );
});
