import assert from "node:assert/strict";
import { adjustStage } from "../../src/stages/adjust.ts";
import { grayscaleStage } from "../../src/stages/grayscale.ts";
import { imageOf } from "../../src/stages/stage.ts";
import { assertArrayClose, synthImage } from "../image/_images.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";

const image = synthImage(2, 1, (x) => (x ? [0.9, 0.1, 0.4] : [0.2, 0.5, 0.8]));

Deno.test("adjust defaults change nothing; each formula applies in order", async () => {
  const ctx = await makeTestContext();
  try {
    const run = async (p: unknown) =>
      imageOf(await runStage(adjustStage, ctx, { image: imageValue(image) }, p), "o").data;
    assert.deepEqual(await run({}), image.data);
    assertArrayClose(await run({ brightness: -0.1 }), [0.1, 0.4, 0.7, 0.8, 0, 0.3], 1e-6);
    assertArrayClose(await run({ contrast: 0.5 }), [0.35, 0.5, 0.65, 0.7, 0.3, 0.45], 1e-6);
    assertArrayClose(await run({ gamma: 0.5 }), [...image.data].map((v) => v * v), 1e-6);
    // brightness, then contrast, then gamma: ((0.2 + 0.1 − 0.5)·2 + 0.5)^(1/2) = √0.1.
    const combined = await run({ brightness: 0.1, contrast: 2, gamma: 2 });
    assert.ok(Math.abs(combined[0] - Math.sqrt(0.1)) < 1e-6);
  } finally {
    await ctx.dispose();
  }
});

Deno.test("adjust saturation 0 equals grayscale; out-of-range params are rejected", async () => {
  const ctx = await makeTestContext();
  try {
    const desat = await runStage(adjustStage, ctx, { image: imageValue(image) }, { saturation: 0 });
    const gray = await runStage(grayscaleStage, ctx, { image: imageValue(image) });
    assertArrayClose(imageOf(desat, "a").data, imageOf(gray, "g").data, 1e-6);
    for (const bad of [{ gamma: 0 }, { contrast: -1 }, { brightness: 2 }, { hue: 3 }]) {
      assert.equal(adjustStage.params.safeParse(bad).success, false, JSON.stringify(bad));
    }
  } finally {
    await ctx.dispose();
  }
});
