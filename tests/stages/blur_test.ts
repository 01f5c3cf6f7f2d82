import assert from "node:assert/strict";
import { blurStage } from "../../src/stages/blur.ts";
import { imageOf } from "../../src/stages/stage.ts";
import { createImage } from "../../src/image/image.ts";
import { gaussianKernel } from "../../src/image/gaussian.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";

Deno.test("blur of an impulse sums to 1 and has the analytic Gaussian profile", async () => {
  const ctx = await makeTestContext();
  try {
    const impulse = createImage(11, 11);
    impulse.data.set([1, 0, 0], (5 * 11 + 5) * 3);
    const out = imageOf(
      await runStage(blurStage, ctx, { image: imageValue(impulse) }, { sigma: 1 }),
      "o",
    );
    let sum = 0;
    for (let i = 0; i < out.data.length; i += 3) sum += out.data[i];
    assert.ok(Math.abs(sum - 1) < 1e-6, `sum ${sum}`);
    // Along the centre row: k(dx)·k(0), k the normalized exp(−x²/2) on −3…3.
    const z = [-3, -2, -1, 0, 1, 2, 3].reduce((s, x) => s + Math.exp(-x * x / 2), 0);
    for (let dx = -3; dx <= 3; dx++) {
      const expected = Math.exp(-dx * dx / 2) / z / z;
      assert.ok(Math.abs(out.data[(5 * 11 + 5 + dx) * 3] - expected) < 1e-7);
    }
    assert.equal(out.data[1], 0); // green stays black
    assert.equal(gaussianKernel(1).length, 7);
  } finally {
    await ctx.dispose();
  }
});

Deno.test("blur: sigma 0 is the identity, negative sigma is rejected, default is 1", async () => {
  const ctx = await makeTestContext();
  try {
    const image = createImage(3, 2);
    image.data.set([0.1, 0.5, 0.9], 6);
    const out = await runStage(blurStage, ctx, { image: imageValue(image) }, { sigma: 0 });
    assert.deepEqual(imageOf(out, "o").data, image.data);
    assert.equal(blurStage.params.safeParse({ sigma: -1 }).success, false);
    assert.equal(blurStage.params.parse({}).sigma, 1);
  } finally {
    await ctx.dispose();
  }
});
