import assert from "node:assert/strict";
import { luminanceStage } from "../../src/stages/luminance.ts";
import { colorPreserveStage } from "../../src/stages/color_preserve.ts";
import { luminance, toLumaChroma } from "../../src/image/color.ts";
import { meanStd } from "../../src/image/color_stats.ts";
import { createImage, type RgbImage } from "../../src/image/image.ts";
import type { Value } from "../../src/stages/stage.ts";
import { coolImage, maxAbsDiff, warmImage } from "../image/_color_fixtures.ts";
import { makeTestContext } from "./_context.ts";

const img = (image: RgbImage): Value => ({ kind: "image", image });

async function run(inputs: Record<string, Value | undefined>): Promise<RgbImage> {
  const ctx = await makeTestContext();
  try {
    const out = await luminanceStage.run(ctx, inputs, luminanceStage.params.parse({}));
    return out.kind === "image" ? out.image : createImage(1, 1);
  } finally {
    await ctx.dispose();
  }
}

Deno.test("luminance: the luma replicated on three channels", async () => {
  const image = warmImage(6, 5);
  const out = await run({ image: img(image) });
  const y = luminance(image);
  for (let p = 0; p < y.length; p++) {
    for (let c = 0; c < 3; c++) assert.equal(out.data[3 * p + c], y[p]);
  }
  assert.throws(() => luminanceStage.params.parse({ space: "yiq" }));
});

Deno.test("luminance with a reference: mean and std of the luma become the reference's", async () => {
  // A dark, low-contrast style: luma mean ≈ 0.34, std ≈ 0.02 against the content's ≈ 0.44, 0.04.
  const warm = warmImage();
  const style = { ...warm, data: warm.data.map((v) => 0.2 + 0.3 * v) };
  const content = coolImage();
  const before = meanStd(luminance(style)), want = meanStd(luminance(content));
  assert.ok(Math.abs(before.mean - want.mean) > 0.1 && Math.abs(before.std - want.std) > 0.01);
  const out = await run({ image: img(style), reference: img(content) });
  const got = meanStd(luminance(out));
  assert.ok(Math.abs(got.mean - want.mean) < 1e-6);
  assert.ok(Math.abs(got.std - want.std) < 1e-6);
});

Deno.test("luminance-only recipe shape: grey transfer, then the content's chroma back", async () => {
  const content = coolImage(12, 10), style = warmImage(16, 16);
  const greyContent = await run({ image: img(content) });
  const greyStyle = await run({ image: img(style), reference: img(content) });
  // Both inputs of the transfer are grey: all chroma is zero.
  for (const grey of [greyContent, greyStyle]) {
    const iq = toLumaChroma(grey, "yiq").data;
    assert.ok(
      maxAbsDiff(iq.filter((_, i) => i % 3 !== 0), new Float32Array(iq.length * 2 / 3)) < 1e-6,
    );
  }
  // Stand-in for style-transfer's output: a grey image of the content's size.
  const styledGrey = await run({ image: img(warmImage(12, 10)) });
  const ctx = await makeTestContext();
  try {
    const out = await colorPreserveStage.run(
      ctx,
      { styled: img(styledGrey), content: img(content) },
      colorPreserveStage.params.parse({ method: "luminance" }),
    );
    assert.equal(out.kind, "image");
    const result = out.kind === "image" ? out.image : createImage(1, 1);
    const lc = toLumaChroma(result, "yiq").data, ref = toLumaChroma(content, "yiq").data;
    const y = luminance(styledGrey);
    for (let p = 0; p < y.length; p++) {
      assert.ok(Math.abs(lc[3 * p] - y[p]) < 1e-6);
      assert.ok(Math.abs(lc[3 * p + 1] - ref[3 * p + 1]) < 1e-6);
      assert.ok(Math.abs(lc[3 * p + 2] - ref[3 * p + 2]) < 1e-6);
    }
  } finally {
    await ctx.dispose();
  }
});
