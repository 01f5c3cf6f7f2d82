/**
 * style-transfer `margin`: the canvas is the photo mirrored outwards by `margin` px, optimized, then
 * cropped back, so the result has the photo's size and the border is no longer the canvas's edge.
 */
import assert from "node:assert/strict";
import type { ImageValue, Value } from "../../src/stages/stage.ts";
import { extractFeaturesStage } from "../../src/stages/extract_features.ts";
import { styleTransferStage } from "../../src/stages/style_transfer.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";
import { exampleImage, shallowLayers, testEngine } from "./_neural.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function features(): Promise<Value> {
  const ctx = await makeTestContext({ engine: testEngine });
  const content = imageValue(await exampleImage("tubingen.jpg", 32));
  const style = imageValue(await exampleImage("starry_night.jpg", 32));
  return await runStage(extractFeaturesStage, ctx, { content, style: [style] }, shallowLayers);
}

async function render(f: Value, params: Record<string, unknown>) {
  const ctx = await makeTestContext({ engine: testEngine });
  try {
    return await runStage(styleTransferStage, ctx, { features: f }, {
      checkpoint_every: 0,
      iterations: 8,
      ...params,
    }) as ImageValue;
  } finally {
    await ctx.dispose();
  }
}

Deno.test(
  "margin: the result has the photo's size, the loss falls, the pixels differ",
  opts,
  async () => {
    const f = await features();
    const plain = await render(f, {});
    const framed = await render(f, { margin: 6 });
    assert.equal(framed.image.width, plain.image.width);
    assert.equal(framed.image.height, plain.image.height);
    const info = framed.info as { initial_loss: number; final_loss: number };
    assert.ok(info.final_loss < info.initial_loss / 2, `${info.initial_loss} → ${info.final_loss}`);
    let differ = 0;
    for (let i = 0; i < plain.image.data.length; i++) {
      if (Math.abs(plain.image.data[i] - framed.image.data[i]) > 1 / 255) differ++;
    }
    assert.ok(differ > plain.image.data.length / 4, `${differ} values differ`);
    // Starting from the photo, the content term is 0 on the mirrored canvas too: targets match it.
    const still = await render(f, { margin: 6, iterations: 0, style_weight: 0, tv_weight: 0 });
    assert.equal((still.info as { final_loss: number }).final_loss, 0);
  },
);

Deno.test("margin as large as the image is refused", opts, async () => {
  await assert.rejects(
    () => features().then((f) => render(f, { margin: 24 })),
    /margin 24 must be smaller than the image \(32×24\)/,
  );
});
