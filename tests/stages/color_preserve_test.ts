import assert from "node:assert/strict";
import { colorPreserveStage } from "../../src/stages/color_preserve.ts";
import { luminance, toLumaChroma } from "../../src/image/color.ts";
import { colorStats } from "../../src/image/color_stats.ts";
import { channel } from "../../src/image/histogram_match.ts";
import { createImage, type RgbImage } from "../../src/image/image.ts";
import { resizeImage } from "../../src/image/resample.ts";
import { StageError, type Value } from "../../src/stages/stage.ts";
import { coolImage, maxAbsDiff, warmImage } from "../image/_color_fixtures.ts";
import { makeTestContext } from "./_context.ts";

const img = (image: RgbImage): Value => ({ kind: "image", image });

async function preserve(
  styled: RgbImage,
  content: RgbImage,
  params: Record<string, unknown>,
): Promise<{ image: RgbImage; warnings: string[] }> {
  const ctx = await makeTestContext();
  try {
    const p = colorPreserveStage.params.parse(params);
    const out = await colorPreserveStage.run(
      ctx,
      { styled: img(styled), content: img(content) },
      p,
    );
    assert.equal(out.kind, "image");
    return { image: out.kind === "image" ? out.image : createImage(1, 1), warnings: ctx.warnings };
  } finally {
    await ctx.dispose();
  }
}

Deno.test("color-preserve params: defaults, strictness", () => {
  assert.deepEqual(colorPreserveStage.params.parse({}), {
    method: "luminance",
    space: "yiq",
    variant: "pca",
  });
  assert.throws(() => colorPreserveStage.params.parse({ metod: "linear" }));
  assert.throws(() => colorPreserveStage.params.parse({ space: "lab" }));
  assert.deepEqual(
    colorPreserveStage.shape?.({ styled: { width: 9, height: 4 } }, {
      method: "luminance",
      space: "yiq",
      variant: "pca",
    }),
    { width: 9, height: 4 },
  );
});

for (const space of ["yiq", "ycbcr"] as const) {
  Deno.test(`color-preserve luminance (${space}): styled luma and content chroma, exactly`, async () => {
    const styled = warmImage(12, 10), content = coolImage(12, 10);
    const { image, warnings } = await preserve(styled, content, { space });
    assert.deepEqual(warnings, []);
    const out = toLumaChroma(image, space).data, ref = toLumaChroma(content, space).data;
    const styledY = luminance(styled);
    for (let p = 0; p < styledY.length; p++) {
      assert.ok(Math.abs(out[3 * p] - styledY[p]) < 1e-6);
      assert.ok(Math.abs(out[3 * p + 1] - ref[3 * p + 1]) < 1e-6);
      assert.ok(Math.abs(out[3 * p + 2] - ref[3 * p + 2]) < 1e-6);
    }
  });
}

Deno.test("color-preserve luminance: a content of another size is resized (and warned about)", async () => {
  const styled = warmImage(12, 10), content = coolImage(24, 20);
  const { image, warnings } = await preserve(styled, content, { space: "ycbcr" });
  assert.equal(image.width, 12);
  assert.equal(image.height, 10);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /content is 24×20, result is 12×10/);
  const ref = toLumaChroma(resizeImage(content, 12, 10), "ycbcr").data;
  const out = toLumaChroma(image, "ycbcr").data;
  for (let p = 0; p < 120; p++) {
    assert.ok(Math.abs(out[3 * p] - luminance(styled)[p]) < 1e-6);
    assert.ok(Math.abs(out[3 * p + 1] - ref[3 * p + 1]) < 1e-6);
  }
});

Deno.test("color-preserve clamps out-of-gamut recombinations into [0, 1]", async () => {
  const white = createImage(2, 2, 1);
  const red = createImage(2, 2);
  for (let p = 0; p < 4; p++) red.data[3 * p] = 1;
  const { image } = await preserve(white, red, {});
  assert.ok(image.data.every((v) => v >= 0 && v <= 1));
  assert.equal(image.data[0], 1); // luma 1 with red chroma wants R > 1
});

for (const variant of ["cholesky", "pca"] as const) {
  Deno.test(`color-preserve linear (${variant}): result's colour statistics become the content's`, async () => {
    const styled = warmImage(), content = coolImage();
    const { image } = await preserve(styled, content, { method: "linear", variant });
    const got = colorStats(image), want = colorStats(content);
    assert.ok(maxAbsDiff(got.mean, want.mean) < 1e-6);
    assert.ok(maxAbsDiff(got.covariance, want.covariance) < 1e-7);
  });
}

Deno.test("color-preserve histogram: each channel's sorted values are the content's", async () => {
  const styled = warmImage(24, 20), content = coolImage(30, 16); // 480 pixels each
  const { image } = await preserve(styled, content, { method: "histogram" });
  for (let c = 0; c < 3; c++) {
    assert.equal(maxAbsDiff(channel(image, c).sort(), channel(content, c).sort()), 0);
  }
});

Deno.test("color-preserve rejects a non-image input with a StageError", async () => {
  const ctx = await makeTestContext();
  try {
    const p = colorPreserveStage.params.parse({});
    await assert.rejects(
      colorPreserveStage.run(ctx, { styled: img(warmImage()), content: undefined }, p),
      (e) => e instanceof StageError && /input "content" must be an image/.test(e.message),
    );
  } finally {
    await ctx.dispose();
  }
});
