/**
 * The defaults of style-transfer (issue 10): against the settings before it (jcjohnson's weights,
 * paper normalisation, L-BFGS without line search) on a 64 px tubingen × starry night, measured
 * with the fixed yardstick of src/neural/losses/score.ts; and no render ends above its start.
 * At 64 px and 100 iterations (wasm) the style distance falls 356 → 83 (4.3×) at 2.39× the
 * content distance; the sweep (`deno task dev sweep`) shows ≥5× at 128 and 256 px.
 */
import assert from "node:assert/strict";
import type { ImageValue, Value } from "../../src/stages/stage.ts";
import { extractFeaturesStage } from "../../src/stages/extract_features.ts";
import { styleTransferStage } from "../../src/stages/style_transfer.ts";
import { scoreImage } from "../../src/neural/losses/score.ts";
import { loadVggWeights } from "../../src/neural/models/weights.ts";
import { imageValue, makeTestContext, runStage, testWeightsDirs } from "./_context.ts";
import { exampleImage, shallowLayers, testEngine } from "./_neural.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const SIZE = 64;
const ITERATIONS = 100;
const OLD_DEFAULTS = {
  normalization: "paper",
  content_weight: 5,
  style_weight: 100,
  tv_weight: 1e-3,
  line_search: "none",
};

let features: Promise<Value> | undefined;
function targets(): Promise<Value> {
  features ??= (async () => {
    const ctx = await makeTestContext({ engine: testEngine });
    const content = imageValue(await exampleImage("tubingen.jpg", SIZE));
    const style = imageValue(await exampleImage("starry_night.jpg", SIZE));
    return await runStage(extractFeaturesStage, ctx, { content, style: [style] }, shallowLayers);
  })();
  return features;
}

async function render(params: Record<string, unknown>) {
  const ctx = await makeTestContext({ engine: testEngine });
  const out = await runStage(styleTransferStage, ctx, { features: await targets() }, {
    checkpoint_every: 0,
    ...params,
  }) as ImageValue;
  await ctx.dispose();
  return { out, info: out.info as { initial_loss: number; final_loss: number }, ctx };
}

Deno.test(
  "defaults: style distance ≥4× lower than the old defaults' at ≤2.5× the content distance",
  opts,
  async () => {
    const engine = await testEngine();
    const weights = await loadVggWeights(testWeightsDirs(), "vgg19");
    const content = await exampleImage("tubingen.jpg", SIZE);
    const style = await exampleImage("starry_night.jpg", 512);
    const old = await render({ ...OLD_DEFAULTS, iterations: ITERATIONS });
    const now = await render({ iterations: ITERATIONS });
    const a = await scoreImage(engine, weights, old.out.image, content, style);
    const b = await scoreImage(engine, weights, now.out.image, content, style);
    const detail = `old ${JSON.stringify(a)}, new ${JSON.stringify(b)}`;
    assert.ok(b.style * 4 <= a.style, detail);
    assert.ok(b.content <= 2.5 * a.content, detail);
    assert.ok(now.info.final_loss < now.info.initial_loss, detail);
  },
);

Deno.test("defaults: a style-free render ends below its start (line search)", opts, async () => {
  // The case that rose 22,221 → 33,619 without a line search: noise start, content and TV only.
  const { info } = await render({ init: "noise", style_weight: 0, iterations: 15 });
  assert.ok(info.final_loss < info.initial_loss, `${info.initial_loss} → ${info.final_loss}`);
});

Deno.test("a render whose loss rises or barely moves warns", opts, async () => {
  const moved = async (params: Record<string, unknown>) => {
    const ctx = await makeTestContext({ engine: testEngine });
    await runStage(styleTransferStage, ctx, { features: await targets() }, {
      checkpoint_every: 0,
      ...params,
    });
    await ctx.dispose();
    return ctx.warnings;
  };
  const stalled = await moved({ optimizer: "adam", learning_rate: 1e-6, iterations: 2 });
  assert.match(stalled.join("\n"), /the loss barely moved/);
  const diverged = await moved({ optimizer: "adam", learning_rate: 1e5, iterations: 2 });
  assert.match(diverged.join("\n"), /the loss rose/);
  assert.deepEqual(await moved({ iterations: 5 }), []);
});
