import assert from "node:assert/strict";
import {
  clampUnit,
  combineLuminanceChroma,
  greyFromLuminance,
  luminance,
  toLumaChroma,
  toRgb,
} from "../../src/image/color.ts";
import { coolImage, maxAbsDiff, warmImage } from "./_color_fixtures.ts";

const PRIMARIES = {
  width: 5,
  height: 1,
  data: new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0.5, 0.5, 0.5]),
};

Deno.test("YIQ of the primaries and greys matches the FCC coefficients", () => {
  const yiq = toLumaChroma(PRIMARIES, "yiq").data;
  const expected = [
    [0.299, 0.5959, 0.2115],
    [0.587, -0.2746, -0.5227],
    [0.114, -0.3213, 0.3112],
    [1, 0, 0],
    [0.5, 0, 0],
  ].flat();
  assert.ok(maxAbsDiff(yiq, expected) < 1e-7);
});

Deno.test("full-range BT.601 YCbCr: primaries, greys at Cb = Cr = ½, Cb(blue) = Cr(red) = 1", () => {
  const ycc = toLumaChroma(PRIMARIES, "ycbcr").data;
  const expected = [
    [0.299, 0.5 - 0.299 / 1.772, 1],
    [0.587, 0.5 - 0.587 / 1.772, 0.5 - 0.587 / 1.402],
    [0.114, 1, 0.5 - 0.114 / 1.402],
    [1, 0.5, 0.5],
    [0.5, 0.5, 0.5],
  ].flat();
  assert.ok(maxAbsDiff(ycc, expected) < 1e-7);
});

Deno.test("RGB → YIQ/YCbCr → RGB round trips to 1e-6", () => {
  for (const image of [PRIMARIES, warmImage(), coolImage()]) {
    for (const space of ["yiq", "ycbcr"] as const) {
      const back = toRgb(toLumaChroma(image, space));
      assert.equal(back.width, image.width);
      assert.ok(maxAbsDiff(back.data, image.data) < 1e-6, space);
    }
  }
});

Deno.test("luminance is the BT.601 luma and equals the Y channel of both spaces", () => {
  const y = luminance(PRIMARIES);
  assert.ok(maxAbsDiff(y, [0.299, 0.587, 0.114, 1, 0.5]) < 1e-7);
  const image = warmImage();
  const luma = luminance(image);
  for (const space of ["yiq", "ycbcr"] as const) {
    const lc = toLumaChroma(image, space).data;
    assert.ok(maxAbsDiff(luma, luma.map((_, p) => lc[3 * p])) < 1e-7);
  }
});

Deno.test("combineLuminanceChroma keeps one image's luma and the other's chroma exactly", () => {
  const styled = warmImage(12, 10), content = coolImage(12, 10);
  for (const space of ["yiq", "ycbcr"] as const) {
    const mixed = combineLuminanceChroma(styled, content, space);
    const lc = toLumaChroma(mixed, space).data, contentLc = toLumaChroma(content, space).data;
    const styledY = luminance(styled);
    for (let p = 0; p < styledY.length; p++) {
      assert.ok(Math.abs(lc[3 * p] - styledY[p]) < 1e-6);
      assert.ok(Math.abs(lc[3 * p + 1] - contentLc[3 * p + 1]) < 1e-6);
      assert.ok(Math.abs(lc[3 * p + 2] - contentLc[3 * p + 2]) < 1e-6);
    }
  }
  // A grey styled image on a grey content gives back the styled image.
  const grey = greyFromLuminance(new Float32Array([0.2, 0.8]), 2, 1);
  const flat = greyFromLuminance(new Float32Array([0.5, 0.5]), 2, 1);
  assert.ok(maxAbsDiff(combineLuminanceChroma(grey, flat, "yiq").data, grey.data) < 1e-7);
  assert.throws(
    () => combineLuminanceChroma(styled, coolImage(), "yiq"),
    /luma image is 12×10 but chroma image is 22×18/,
  );
});

Deno.test("greyFromLuminance replicates luma on three channels; clampUnit clamps in place", () => {
  const grey = greyFromLuminance(new Float32Array([0.25, 0.75]), 2, 1);
  assert.deepEqual([...grey.data], [0.25, 0.25, 0.25, 0.75, 0.75, 0.75]);
  assert.ok(maxAbsDiff(luminance(grey), [0.25, 0.75]) < 1e-7);
  assert.throws(() => greyFromLuminance(new Float32Array(3), 2, 1), /expected 2 luma values/);
  const image = { width: 1, height: 1, data: new Float32Array([-0.5, 0.5, 1.5]) };
  assert.equal(clampUnit(image), image);
  assert.deepEqual([...image.data], [0, 0.5, 1]);
});
