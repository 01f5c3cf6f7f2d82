import assert from "node:assert/strict";
import type { FeatureTargets, ImageValue, Value } from "../../src/stages/stage.ts";
import { StageError } from "../../src/stages/stage.ts";
import { extractFeaturesStage } from "../../src/stages/extract_features.ts";
import { styleTransferStage } from "../../src/stages/style_transfer.ts";
import { stageWeights } from "../../src/stages/stage_weights.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import { formatIssue, RecipeError } from "../../src/recipe/errors.ts";
import { createImage } from "../../src/image/image.ts";
import { imageValue, makeTestContext, runStage, testWeightsDirs } from "./_context.ts";
import { exampleImage, shallowLayers, testEngine } from "./_neural.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const checkCtx = { weightsDirs: testWeightsDirs() };

function featuresOf(v: Value): FeatureTargets {
  assert.equal(v.kind, "features");
  return (v as { features: FeatureTargets }).features;
}

Deno.test("extract-features validation names the missing layer and the deepest available", async () => {
  const p = extractFeaturesStage.params.parse({ ...shallowLayers, content_layers: ["conv4_2"] });
  const problems = await extractFeaturesStage.check!(p, checkCtx);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /"conv4_2"/);
  assert.match(problems[0], /stop at conv3_4; relu3_4 is the deepest usable layer/);
  assert.deepEqual(
    await extractFeaturesStage.check!(extractFeaturesStage.params.parse(shallowLayers), checkCtx),
    [],
  );
});

Deno.test("extract-features validation checks list lengths and the model name", async () => {
  const p = extractFeaturesStage.params.parse({ ...shallowLayers, style_layer_weights: [1, 2] });
  assert.match((await extractFeaturesStage.check!(p, checkCtx))[0], /has 2 entries .* has 3/);
  const missing = extractFeaturesStage.params.parse({ ...shallowLayers, model: "vgg16" });
  assert.match((await extractFeaturesStage.check!(missing, checkCtx))[0], /no "vgg16" weights/);
  assert.equal(extractFeaturesStage.params.safeParse({ style_layers: ["relu9"] }).success, false);
});

Deno.test("extract-features blends Gram matrices by normalized weights", opts, async () => {
  const ctx = await makeTestContext({ engine: testEngine });
  try {
    const content = imageValue(await exampleImage("tubingen.jpg", 24));
    const a = imageValue(await exampleImage("starry_night.jpg", 24));
    const b = imageValue(createImage(20, 16, 0.3));
    const params = { ...shallowLayers, style_scale: 0.5 };
    const fa = featuresOf(
      await runStage(extractFeaturesStage, ctx, { content, style: [a] }, params),
    );
    const fb = featuresOf(
      await runStage(extractFeaturesStage, ctx, { content, style: [b] }, params),
    );
    const blend = featuresOf(
      await runStage(extractFeaturesStage, ctx, { content, style: [a, b] }, {
        ...params,
        style_blend: [3, 1],
      }),
    );
    assert.deepEqual(blend.recipe.style_blend, [0.75, 0.25]);
    assert.equal(blend.style.length, 3);
    assert.equal(blend.style[0].gram.length, 64 * 64);
    blend.style.forEach((t, l) => {
      assert.equal(t.layer, shallowLayers.style_layers[l]);
      assert.equal(t.weight, 1);
      assert.equal(t.mask, undefined);
      for (let i = 0; i < t.gram.length; i += 97) {
        const expected = 0.75 * fa.style[l].gram[i] + 0.25 * fb.style[l].gram[i];
        assert.ok(Math.abs(t.gram[i] - expected) <= 1e-5 * Math.max(1, Math.abs(expected)));
      }
    });
    // Content targets: relu3_2 of a 24 × 18 image is 6 × 4 (two pools) × 256 channels.
    assert.equal(fa.width, 24);
    assert.equal(fa.height, 18);
    assert.equal(fa.content[0].activations.length, 6 * 4 * 256);
    // style_scale 0.5: the style's longer side is 12 px.
    assert.equal(Math.max(fa.styleImages[0].width, fa.styleImages[0].height), 12);
    assert.equal(fa.pooling, "avg");
    assert.match(fa.weightsId, /^[0-9a-f]{64}$/);
  } finally {
    await ctx.dispose();
  }
});

Deno.test("extract-features with masks: one target per style and layer", opts, async () => {
  const ctx = await makeTestContext({ engine: testEngine });
  try {
    const photo = await exampleImage("tubingen.jpg", 16);
    const content = imageValue(photo);
    const style = imageValue(await exampleImage("starry_night.jpg", 16));
    const white = imageValue(createImage(8, 8, 1)), black = imageValue(createImage(8, 8, 0));
    const plain = featuresOf(
      await runStage(extractFeaturesStage, ctx, { content, style: [style] }, shallowLayers),
    );
    const masked = featuresOf(
      await runStage(extractFeaturesStage, ctx, {
        content,
        style: [style, style],
        masks: [white, black],
      }, shallowLayers),
    );
    assert.equal(masked.style.length, 6);
    const [first, second] = [masked.style.slice(0, 3), masked.style.slice(3)];
    first.forEach((t, l) => {
      assert.equal(t.weight, 0.5);
      assert.equal(t.mask!.length, photo.width * photo.height);
      assert.ok(t.mask!.every((v) => v === 1));
      assert.deepEqual(t.gram, plain.style[l].gram); // a full mask leaves the Gram unscaled
    });
    for (const t of second) assert.ok(t.gram.every((v) => v === 0)); // black: style nowhere

    await assert.rejects(
      runStage(extractFeaturesStage, ctx, { content, style: [style], masks: [white, black] }),
      (e) => e instanceof StageError && /2 masks for 1 styles/.test(e.message),
    );
  } finally {
    await ctx.dispose();
  }
});

Deno.test(
  "extract-features padding: targets padded as asked, and style-transfer pads alike",
  opts,
  async () => {
    const ctx = await makeTestContext({ engine: testEngine });
    try {
      const photo = await exampleImage("tubingen.jpg", 24);
      const content = imageValue(photo);
      const style = imageValue(await exampleImage("starry_night.jpg", 24));
      const engine = await testEngine();
      const image = { ...photo, data: photo.data.map((v) => v * 255) };
      const weights = await stageWeights(testWeightsDirs(), "vgg19");
      const zero = await engine.extract(weights, "avg", image, ["relu3_2"], "zero");
      for (const padding of ["reflect", "replicate"] as const) {
        const f = featuresOf(
          await runStage(extractFeaturesStage, ctx, { content, style: [style] }, {
            ...shallowLayers,
            padding,
          }),
        );
        assert.equal(f.padding, padding);
        assert.equal(f.recipe.padding, padding);
        const want = await engine.extract(weights, "avg", image, ["relu3_2"], padding);
        assert.deepEqual(f.content[0].activations, want.get("relu3_2")!.data);
        assert.notDeepEqual(f.content[0].activations, zero.get("relu3_2")!.data);
        // Started from the photo, the content term is exactly 0 only if the optimized image is
        // padded as its targets were.
        const out = await runStage(styleTransferStage, ctx, {
          features: { kind: "features", features: f },
        }, { iterations: 0 });
        const terms = (out as ImageValue).info!.terms as Record<string, number>;
        assert.equal(terms.content, 0, `${padding}: content term ${terms.content}`);
        assert.ok(terms.style > 0);
      }
    } finally {
      await ctx.dispose();
    }
  },
);

Deno.test("extract-features padding: a misspelt mode is refused with did-you-mean", async () => {
  const text = `version: 1
steps:
  - { id: c, use: load, with: { path: tubingen.jpg } }
  - id: f
    use: extract-features
    from: { content: c, style: [c] }
    with: { content_layers: [relu3_2], style_layers: [relu1_1], padding: reflct }
`;
  await assert.rejects(
    parseRecipe(text, "recipe.yaml", { weightsDirs: testWeightsDirs() }),
    (e: unknown) =>
      e instanceof RecipeError &&
      e.issues.map(formatIssue).some((m) =>
        m === `recipe.yaml:7:74: step "f": parameter "padding": invalid option: expected one of ` +
            `"zero"|"reflect"|"replicate" (did you mean "reflect"?)`
      ),
  );
});
