import assert from "node:assert/strict";
import { colorMatchStage } from "../../src/stages/color_match.ts";
import { colorStats } from "../../src/image/color_stats.ts";
import { channel } from "../../src/image/histogram_match.ts";
import { createImage, type RgbImage } from "../../src/image/image.ts";
import type { Value } from "../../src/stages/stage.ts";
import { coolImage, maxAbsDiff, warmImage } from "../image/_color_fixtures.ts";
import { makeTestContext } from "./_context.ts";

const img = (image: RgbImage): Value => ({ kind: "image", image });

async function match(
  style: RgbImage,
  content: RgbImage,
  params: Record<string, unknown>,
): Promise<RgbImage> {
  const ctx = await makeTestContext();
  try {
    const out = await colorMatchStage.run(
      ctx,
      { style: img(style), content: img(content) },
      colorMatchStage.params.parse(params),
    );
    return out.kind === "image" ? out.image : createImage(1, 1);
  } finally {
    await ctx.dispose();
  }
}

Deno.test("color-match params: defaults, strictness, output shape is the style's", () => {
  const p = colorMatchStage.params.parse({});
  assert.deepEqual(p, { method: "linear", variant: "pca" });
  assert.throws(() => colorMatchStage.params.parse({ method: "luminance" }));
  assert.throws(() => colorMatchStage.params.parse({ extra: 1 }));
  assert.deepEqual(
    colorMatchStage.shape?.(
      { style: { width: 5, height: 6 }, content: { width: 1, height: 1 } },
      p,
    ),
    { width: 5, height: 6 },
  );
});

for (const variant of ["cholesky", "pca"] as const) {
  Deno.test(`color-match linear (${variant}): style takes the content's mean and covariance`, async () => {
    // Different sizes: only the statistics of the content matter.
    const style = warmImage(24, 20), content = coolImage(22, 18);
    const out = await match(style, content, { variant });
    assert.equal(out.width, 24);
    assert.equal(out.height, 20);
    const got = colorStats(out), want = colorStats(content);
    assert.ok(maxAbsDiff(got.mean, want.mean) < 1e-6, `means ${got.mean} vs ${want.mean}`);
    assert.ok(maxAbsDiff(got.covariance, want.covariance) < 1e-7);
  });
}

Deno.test("color-match linear: cholesky and pca give different images", async () => {
  const a = await match(warmImage(), coolImage(), { variant: "cholesky" });
  const b = await match(warmImage(), coolImage(), { variant: "pca" });
  assert.ok(maxAbsDiff(a.data, b.data) > 1e-2);
});

Deno.test("color-match histogram: each channel's sorted values are the content's", async () => {
  const style = warmImage(24, 20), content = coolImage(30, 16); // 480 pixels each
  const out = await match(style, content, { method: "histogram" });
  for (let c = 0; c < 3; c++) {
    assert.equal(maxAbsDiff(channel(out, c).sort(), channel(content, c).sort()), 0);
  }
});
