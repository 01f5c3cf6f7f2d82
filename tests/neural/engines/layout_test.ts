import assert from "node:assert/strict";
import { checkEngineImage } from "../../../src/neural/engines/engine_image.ts";
import { chwToHwc, hwcToChw, oihwKernel } from "../../../src/neural/engines/layout.ts";

Deno.test("hwcToChw and chwToHwc are inverse transposes", () => {
  const hwc = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  const chw = hwcToChw(hwc, 4);
  assert.deepEqual([...chw.subarray(0, 6)], [0, 4, 8, 12, 16, 20]); // channel 0 of the 6 pixels
  assert.deepEqual(chwToHwc(chw, 4), hwc);
});

Deno.test("oihwKernel moves each HWIO weight to its OIHW place, reversing the inputs on request", () => {
  // 2 inputs, 3 outputs: value = 1000·kh + 100·kw + 10·in + out.
  const kernel = new Float32Array(3 * 3 * 2 * 3);
  for (let kh = 0; kh < 3; kh++) {
    for (let kw = 0; kw < 3; kw++) {
      for (let i = 0; i < 2; i++) {
        for (let o = 0; o < 3; o++) {
          kernel[((kh * 3 + kw) * 2 + i) * 3 + o] = 1000 * kh + 100 * kw + 10 * i + o;
        }
      }
    }
  }
  const conv = { kernel, bias: new Float32Array(3) };
  const plain = oihwKernel(conv);
  assert.deepEqual([plain.inChannels, plain.outChannels], [2, 3]);
  const at = (k: Float32Array, o: number, i: number, kh: number, kw: number) =>
    k[((o * 2 + i) * 3 + kh) * 3 + kw];
  assert.equal(at(plain.kernel, 2, 1, 0, 2), 212);
  assert.equal(at(plain.kernel, 1, 0, 2, 1), 2101);
  const reversed = oihwKernel(conv, true);
  assert.equal(at(reversed.kernel, 2, 1, 0, 2), 202);
  assert.equal(at(reversed.kernel, 1, 0, 2, 1), 2111);
});

Deno.test("checkEngineImage accepts H×W×3 values and names the expected shape otherwise", () => {
  checkEngineImage(2 * 5 * 3, 2, 5);
  assert.throws(() => checkEngineImage(29, 2, 5), /image has 29 values, expected 2×5×3/);
});
