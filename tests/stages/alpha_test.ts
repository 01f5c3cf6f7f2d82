import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage, encodePng } from "../../src/image/codecs.ts";
import { CacheStore } from "../../src/pipeline/cache.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { loadRecipe } from "../../src/recipe/load.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { transformWithAlpha } from "../../src/image/alpha.ts";
import { resizeImage } from "../../src/image/resample.ts";
import type { RgbImage } from "../../src/image/image.ts";
import { adjustStage } from "../../src/stages/adjust.ts";
import { cropStage } from "../../src/stages/crop.ts";
import { extractFeaturesStage } from "../../src/stages/extract_features.ts";
import { loadStage } from "../../src/stages/load.ts";
import { resizeStage } from "../../src/stages/resize.ts";
import { rotateStage } from "../../src/stages/rotate.ts";
import { saveStage } from "../../src/stages/save.ts";
import { imageOf } from "../../src/stages/stage.ts";
import { styleTransferStage } from "../../src/stages/style_transfer.ts";
import { synthImage } from "../image/_images.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";
import { exampleImage, shallowLayers, testEngine } from "./_neural.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("resizing with alpha filters premultiplied colour: a hidden colour does not bleed", () => {
  // 4×1: red but fully transparent, then three opaque blue pixels.
  const image: RgbImage = {
    ...synthImage(4, 1, (x) => (x === 0 ? [1, 0, 0] : [0, 0, 1])),
    alpha: new Float32Array([0, 1, 1, 1]),
  };
  const half = transformWithAlpha(image, (i) => resizeImage(i, 2, 1, "bilinear"), {
    premultiply: true,
  });
  assert.deepEqual([...half.alpha!], [0.5, 1]);
  assert.deepEqual(
    [...half.data.subarray(0, 3)],
    [0, 0, 1],
    "no red in the half-transparent pixel",
  );
  const naive = resizeImage(image, 2, 1, "bilinear");
  assert.ok(naive.data[0] > 0.4, "without premultiplying, the hidden red would show");
});

Deno.test(
  "alpha rides through load → resize → rotate → crop → adjust → style-transfer → save",
  opts,
  async () => {
    const ctx = await makeTestContext({ engine: testEngine });
    try {
      // 64×48 tubingen; the left quarter transparent, a soft ramp, the rest opaque.
      const photo = await exampleImage("tubingen.jpg", 64);
      const alpha = new Float32Array(photo.width * photo.height);
      for (let y = 0; y < photo.height; y++) {
        for (let x = 0; x < photo.width; x++) {
          alpha[y * photo.width + x] = x < 16 ? 0 : x < 24 ? (x - 16) / 8 : 1;
        }
      }
      const quantized = (a: Float32Array) => a.map((v) => Math.round(v * 255) / 255);
      await Deno.writeFile(
        join(ctx.dir, "cut.png"),
        await encodePng({ ...photo, alpha: quantized(alpha) }),
      );

      let value = await runStage(loadStage, ctx, {}, { path: "cut.png" });
      assert.equal(imageOf(value, "load").alpha?.length, 64 * 48);
      value = await runStage(resizeStage, ctx, { image: value }, { scale: 0.5 }); // 32×24
      value = await runStage(rotateStage, ctx, { image: value }, { angle: 90 }); // 24×32, transparent on top
      value = await runStage(cropStage, ctx, { image: value }, {
        x: 0,
        y: 0,
        width: 24,
        height: 30,
      });
      value = await runStage(adjustStage, ctx, { image: value }, { brightness: 0.05 });
      const before = imageOf(value, "adjust");
      assert.deepEqual([before.width, before.height], [24, 30]);
      const style = imageValue(await exampleImage("starry_night.jpg", 32));
      const features = await runStage(
        extractFeaturesStage,
        ctx,
        { content: value, style: [style] },
        shallowLayers,
      );
      const styled = await runStage(styleTransferStage, ctx, { features }, { iterations: 3 });
      assert.deepEqual(
        imageOf(styled, "styled").alpha,
        before.alpha,
        "alpha re-attached after the transfer",
      );
      assert.notDeepEqual(imageOf(styled, "styled").data, before.data, "the colours did change");

      await runStage(saveStage, ctx, { image: styled }, { path: "styled.png" });
      const back = imageOf(await runStage(loadStage, ctx, {}, { path: "styled.png" }), "back");
      assert.deepEqual(back.alpha, quantized(before.alpha!));
      // rotated 90° clockwise: the transparent left quarter is now the top rows (x < 8 at 32 px → y < 8)
      const at = (x: number, y: number) => back.alpha![y * 24 + x];
      assert.equal(at(5, 2), 0);
      assert.equal(at(20, 25), 1);
    } finally {
      await ctx.dispose();
    }
  },
);

Deno.test("alpha survives the step cache: a second run that reads the cached resize writes the same RGBA", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const image: RgbImage = {
      ...synthImage(8, 6, (x, y) => [x / 7, y / 5, 0.5]),
      alpha: new Float32Array(48).map((_, i) => (i % 8) / 7),
    };
    await Deno.writeFile(join(dir, "cut.png"), await encodePng(image));
    const recipeText = (out: string) =>
      `version: 1
steps:
  - { id: photo, use: load, with: { path: cut.png } }
  - { id: small, use: resize, from: photo, with: { max_side: 4 } }
  - { id: final, use: save, from: small, with: { path: ${out} } }
`;
    const render = async (out: string) => {
      await Deno.writeTextFile(join(dir, "r.yaml"), recipeText(out));
      const recipe = await loadRecipe(join(dir, "r.yaml"), { registry: builtinStages() });
      const plan = await planRecipe(recipe, { outDir: join(dir, "out"), imageDirs: [] });
      const result = await runPlan(plan, { cache: new CacheStore(join(dir, "cache")) });
      return { bytes: await Deno.readFile(join(dir, "out", out)), result };
    };
    const first = await render("a.png");
    const second = await render("b.png");
    assert.equal(second.result.steps.find((s) => s.step === "small")?.status, "cached");
    const [a, b] = [await decodeImage(first.bytes), await decodeImage(second.bytes)];
    assert.equal(a.alpha?.length, 4 * 3);
    assert.deepEqual(b.alpha, a.alpha);
    assert.deepEqual(b.data, a.data);
    assert.deepEqual(
      [...Deno.readDirSync(join(dir, "cache", "locks"))],
      [],
      "the run's lock is gone",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
