import assert from "node:assert/strict";
import { cubic, lanczos, resampleTaps, resizeImage } from "../../src/image/resample.ts";
import { assertArrayClose, assertImagesClose, grayImage, redRows, synthImage } from "./_images.ts";

Deno.test("nearest: upscaling 2× repeats each pixel exactly", () => {
  const out = resizeImage(grayImage([[0.1, 0.2], [0.3, 0.4]]), 4, 4, "nearest");
  assert.deepEqual(redRows(out).map((r) => r.map((v) => Math.round(v * 10))), [
    [1, 1, 2, 2],
    [1, 1, 2, 2],
    [3, 3, 4, 4],
    [3, 3, 4, 4],
  ]);
});

Deno.test("nearest: shrinking 6→3 picks source pixels 1, 3, 5 (pixel centres)", () => {
  const taps = resampleTaps(6, 3, "nearest");
  assert.deepEqual([...taps.start], [1, 3, 5]);
  const out = resizeImage(grayImage([[0, 1, 2, 3, 4, 5].map((v) => v / 8)]), 3, 1, "nearest");
  assert.deepEqual(redRows(out)[0], [1 / 8, 3 / 8, 5 / 8].map(Math.fround));
});

Deno.test("bilinear: a 2-pixel ramp upscaled to 4 follows pixel-centre alignment", () => {
  // Output centres land at source x = −0.25, 0.25, 0.75, 1.25; edges are replicated.
  const out = resizeImage(grayImage([[0.2, 0.6]]), 4, 1, "bilinear");
  assertArrayClose(redRows(out)[0], [0.2, 0.3, 0.5, 0.6], 1e-6);
});

Deno.test("bilinear: shrinking 4→2 stretches the tent to ±2 source pixels", () => {
  // Centre 0.5: taps −1 (edge → 0), 0, 1, 2 with weights 1/8, 3/8, 3/8, 1/8.
  const out = resizeImage(grayImage([[0, 0.4, 0.6, 1]]), 2, 1, "bilinear");
  assertArrayClose(redRows(out)[0], [0.225, 0.775], 1e-6);
});

Deno.test("lanczos3 and bicubic keep a constant image constant, up and down", () => {
  const flat = synthImage(7, 5, () => [0.25, 0.5, 0.75]);
  for (const filter of ["bicubic", "lanczos3"] as const) {
    for (const [w, h] of [[13, 11], [3, 2], [1, 1]]) {
      const out = resizeImage(flat, w, h, filter);
      assertImagesClose(out, synthImage(w, h, () => [0.25, 0.5, 0.75]), 1e-6);
    }
  }
});

Deno.test("lanczos3 and bicubic reproduce a linear ramp away from the borders", () => {
  const ramp = synthImage(16, 1, (x) => [x / 16, 0, 0]);
  for (const filter of ["bicubic", "lanczos3"] as const) {
    const out = resizeImage(ramp, 32, 1, filter);
    // Output x maps to source (x + 0.5) / 2 − 0.5; ramp value = that / 16.
    for (let x = 8; x < 24; x++) {
      const expected = ((x + 0.5) / 2 - 0.5) / 16;
      assert.ok(Math.abs(out.data[x * 3] - expected) < 2e-3, `${filter} x=${x}`);
    }
  }
});

Deno.test("kernels: interpolating at integers, lanczos3 has 3 lobes", () => {
  assert.equal(cubic(0), 1);
  assert.equal(Math.abs(cubic(1)), 0);
  assert.equal(Math.abs(cubic(2)), 0);
  assert.equal(lanczos(0, 3), 1);
  assert.ok(Math.abs(lanczos(1, 3)) < 1e-12 && Math.abs(lanczos(2, 3)) < 1e-12);
  assert.equal(lanczos(3, 3), 0);
});

Deno.test("shrinking a lot averages areas: a 1-pixel checkerboard becomes flat grey", () => {
  const checker = synthImage(64, 64, (x, y) => ((x + y) % 2 ? [1, 1, 1] : [0, 0, 0]));
  for (const filter of ["bilinear", "bicubic", "lanczos3"] as const) {
    const out = resizeImage(checker, 8, 8, filter);
    for (const v of out.data) assert.ok(Math.abs(v - 0.5) < 0.02, `${filter}: ${v}`);
  }
  // Without a prefilter every sample lands on the same phase: all black or all white.
  const nearest = resizeImage(checker, 8, 8, "nearest");
  assert.ok(nearest.data.every((v) => v === nearest.data[0]));
});

Deno.test("resize output has the requested size and rejects bad sizes", () => {
  const out = resizeImage(synthImage(5, 3, () => [0, 0, 0]), 2, 7, "bicubic");
  assert.equal(out.width, 2);
  assert.equal(out.height, 7);
  assert.throws(() => resizeImage(out, 0, 3), RangeError);
});
