/**
 * `style_loss: mean-covariance` in the style-transfer stage: validated as a parameter, refused
 * with regional styles, and a 64 px tubingen × starry night render whose loss falls and whose
 * style distance (the fixed yardstick of `deno task score`) falls. Measured (wasm, 40 iterations):
 * loss 53.7 → 2.05, style distance 21,134 (the photo) → 147.
 */
import assert from "node:assert/strict";
import { RecipeError } from "../../src/recipe/errors.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import type { ImageValue, Value } from "../../src/stages/stage.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { extractFeaturesStage } from "../../src/stages/extract_features.ts";
import { styleTransferStage } from "../../src/stages/style_transfer.ts";
import { scoreImage } from "../../src/neural/losses/score.ts";
import { loadVggWeights } from "../../src/neural/models/weights.ts";
import { imageValue, makeTestContext, runStage, testWeightsDirs } from "./_context.ts";
import { exampleImage, shallowLayers, testEngine } from "./_neural.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("style_loss: an unknown value is a recipe error naming the options", async () => {
  const text = `version: 1
steps:
  - { id: c, use: load, with: { path: a.png } }
  - { id: s, use: load, with: { path: b.png } }
  - { id: f, use: extract-features, from: { content: c, style: s } }
  - id: t
    use: style-transfer
    from: { features: f }
    with: { style_loss: mean-covariant }
`;
  await assert.rejects(
    parseRecipe(text, "inline.yaml", { registry: builtinStages(), weightsDirs: testWeightsDirs() }),
    (e: unknown) =>
      e instanceof RecipeError && /inline\.yaml:9:\d+.*style_loss/.test(e.message) &&
      /mean-covariance/.test(e.message),
  );
});

Deno.test(
  "style_loss: mean-covariance refuses masked (regional) styles before rendering",
  opts,
  async () => {
    const ctx = await makeTestContext({ engine: testEngine });
    const content = imageValue(await exampleImage("tubingen.jpg", 24));
    const style = imageValue(await exampleImage("starry_night.jpg", 24));
    const features = await runStage(extractFeaturesStage, ctx, {
      content,
      style: [style],
      masks: [content],
    }, shallowLayers);
    await assert.rejects(
      runStage(styleTransferStage, ctx, { features }, {
        style_loss: "mean-covariance",
        iterations: 1,
      }),
      /style_loss: mean-covariance does not support regional styles .*use style_loss: gram/,
    );
    await ctx.dispose();
  },
);

Deno.test(
  "style_loss: mean-covariance at 64 px: loss falls >10×, style distance >50× below the photo's",
  opts,
  async () => {
    const SIZE = 64;
    const engine = await testEngine();
    const weights = await loadVggWeights(testWeightsDirs(), "vgg19");
    const ctx = await makeTestContext({ engine: testEngine });
    const content = await exampleImage("tubingen.jpg", SIZE);
    const painting = await exampleImage("starry_night.jpg", SIZE);
    const features: Value = await runStage(extractFeaturesStage, ctx, {
      content: imageValue(content),
      style: [imageValue(painting)],
    }, shallowLayers);
    const out = await runStage(styleTransferStage, ctx, { features }, {
      style_loss: "mean-covariance",
      iterations: 40,
      checkpoint_every: 0,
    }) as ImageValue;
    await ctx.dispose();
    const info = out.info as { initial_loss: number; final_loss: number };
    const style = await exampleImage("starry_night.jpg", 512);
    const before = await scoreImage(engine, weights, content, content, style);
    const after = await scoreImage(engine, weights, out.image, content, style);
    const detail = `loss ${info.initial_loss} → ${info.final_loss}; photo ${
      JSON.stringify(before)
    }, render ${JSON.stringify(after)}`;
    assert.ok(info.final_loss < 0.1 * info.initial_loss, detail);
    assert.ok(after.style < 0.02 * before.style, detail);
  },
);

Deno.test("style_loss: mean-covariance on masked features is refused at validation", async () => {
  const text = `version: 1
steps:
  - { id: c, use: load, with: { path: a.png } }
  - { id: s, use: load, with: { path: b.png } }
  - { id: m, use: load, with: { path: m.png } }
  - { id: f, use: extract-features, from: { content: c, style: s, masks: m } }
  - { id: t, use: style-transfer, from: { features: f }, with: { style_loss: mean-covariance } }
  - id: u
    use: upscale
    from: { image: t, features: f }
    with: { factor: 2, style_loss: mean-covariance }
  - { id: g, use: style-transfer, from: { features: f }, with: { style_loss: gram } }
`;
  const error = await parseRecipe(text, "inline.yaml", {
    registry: builtinStages(),
    weightsDirs: testWeightsDirs(),
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof RecipeError);
  const lines = error.message.split("\n").filter((l) => /regional styles/.test(l));
  assert.deepEqual(lines.map((l) => l.match(/step "(\w+)"/)?.[1]), ["t", "u"], error.message);
  assert.match(lines[0], /use style_loss: gram for them/);
});
