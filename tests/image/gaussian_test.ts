import assert from "node:assert/strict";
import { gaussianBlur, gaussianKernel, gaussianRadius } from "../../src/image/gaussian.ts";
import { createImage } from "../../src/image/image.ts";
import { assertArrayClose, synthImage } from "./_images.ts";

Deno.test("gaussian kernel: radius ⌈3σ⌉, sums to 1, matches exp(−k²/2σ²) normalized", () => {
  const sigma = 1.5;
  const k = gaussianKernel(sigma);
  assert.equal(k.length, 2 * gaussianRadius(sigma) + 1);
  assert.equal(k.length, 11);
  const analytic = Array.from(
    { length: 11 },
    (_, i) => Math.exp(-((i - 5) ** 2) / (2 * sigma ** 2)),
  );
  const total = analytic.reduce((s, v) => s + v, 0);
  assertArrayClose(k, analytic.map((v) => v / total), 1e-12);
  assert.ok(Math.abs(k.reduce((s, v) => s + v, 0) - 1) < 1e-12);
  assert.deepEqual([...gaussianKernel(0)], [1]);
});

Deno.test("gaussian blur of an impulse is the outer product of the kernel and sums to 1", () => {
  const sigma = 1.2;
  const n = 15;
  const c = 7;
  const impulse = createImage(n, n);
  impulse.data.set([1, 1, 1], (c * n + c) * 3);
  const out = gaussianBlur(impulse, sigma);
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  let sum = 0;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const dx = x - c, dy = y - c;
      const expected = Math.abs(dx) <= r && Math.abs(dy) <= r ? k[dx + r] * k[dy + r] : 0;
      const v = out.data[(y * n + x) * 3];
      assert.ok(Math.abs(v - expected) < 1e-7, `(${x}, ${y}): ${v} vs ${expected}`);
      sum += v;
    }
  }
  assert.ok(Math.abs(sum - 1) < 1e-6);
});

Deno.test("gaussian blur clamps at edges: a constant image stays constant, σ=0 is identity", () => {
  const flat = synthImage(6, 4, () => [0.3, 0.6, 0.9]);
  assertArrayClose(gaussianBlur(flat, 2.5).data, flat.data, 1e-6);
  const noise = synthImage(5, 5, (x, y) => [(x * 7 + y * 3) % 5 / 5, x / 5, y / 5]);
  assert.deepEqual(gaussianBlur(noise, 0).data, noise.data);
});
