import assert from "node:assert/strict";
import { adjustImage } from "../../src/image/adjust.ts";
import { toGrayscale } from "../../src/image/luma.ts";
import { assertArrayClose, synthImage } from "./_images.ts";

const neutral = { brightness: 0, contrast: 1, saturation: 1, gamma: 1 };
const pixel = synthImage(1, 1, () => [0.2, 0.5, 0.8]);

Deno.test("adjust: neutral values leave the image unchanged", () => {
  assert.deepEqual(adjustImage(pixel, neutral).data, pixel.data);
});

Deno.test("adjust formulas: brightness, contrast, saturation, gamma", () => {
  assertArrayClose(adjustImage(pixel, { ...neutral, brightness: 0.1 }).data, [0.3, 0.6, 0.9], 1e-6);
  assertArrayClose(adjustImage(pixel, { ...neutral, contrast: 2 }).data, [-0.1, 0.5, 1.1], 1e-6);
  const y = 0.2126 * 0.2 + 0.7152 * 0.5 + 0.0722 * 0.8;
  assertArrayClose(adjustImage(pixel, { ...neutral, saturation: 0 }).data, [y, y, y], 1e-6);
  assertArrayClose(
    adjustImage(pixel, { ...neutral, saturation: 2 }).data,
    [0.2, 0.5, 0.8].map((v) => y + 2 * (v - y)),
    1e-6,
  );
  assertArrayClose(
    adjustImage(pixel, { ...neutral, gamma: 2 }).data,
    [0.2, 0.5, 0.8].map(Math.sqrt),
    1e-6,
  );
  // Order: brightness then contrast: (0.2 + 0.1 − 0.5)·2 + 0.5 = 0.1.
  assertArrayClose(adjustImage(pixel, { ...neutral, brightness: 0.1, contrast: 2 }).data, [
    0.1,
    0.7,
    1.3,
  ], 1e-6);
});

Deno.test("grayscale uses Rec. 709 luma and keeps three equal channels", () => {
  const y = 0.2126 * 0.2 + 0.7152 * 0.5 + 0.0722 * 0.8;
  assertArrayClose(toGrayscale(pixel).data, [y, y, y], 1e-7);
  assertArrayClose(
    toGrayscale(synthImage(1, 1, () => [0, 1, 0])).data,
    [0.7152, 0.7152, 0.7152],
    1e-7,
  );
});
