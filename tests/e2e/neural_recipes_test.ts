/**
 * The neural example recipes in pipelines/ render end to end on the onnx engine at tiny sizes
 * (--set), with the partial weights; the paper's recipe fails validation naming the missing layer;
 * `plan` estimates every scale of the upscale recipe and warns when one will not fit in memory.
 */
import assert from "node:assert/strict";
import { transferEstimate } from "../../src/stages/neural_cost.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { RecipeError } from "../../src/recipe/errors.ts";
import { loadExample, renderExample } from "./_render.ts";
import { repoRoot, testImagesDir, testWeightsDirs } from "../stages/_context.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const TINY = ["size=32", "iterations=5", "engine=onnx"];

for (
  const name of [
    "tubingen-starry-conv3",
    "quick-cpu",
    "color-preserved",
    "luminance-only",
    "style-blend",
    "regional-styles",
  ]
) {
  Deno.test(`recipe ${name} renders at 32 px`, opts, async () => {
    const png = await renderExample(name, TINY);
    assert.deepEqual([png.width, png.height], [32, 24]);
  });
}

Deno.test("recipe upscale-3-scales renders 16 → 24 → 32 px", opts, async () => {
  const sets = ["small=16", "medium=24", "large=32", "iterations=3", "margin=4", "engine=onnx"];
  const png = await renderExample("upscale-3-scales", sets);
  assert.deepEqual([png.width, png.height], [32, 24]);
});

Deno.test("recipe tubingen-starry fails validation here, naming the missing layer", async () => {
  await assert.rejects(
    loadExample("tubingen-starry", []),
    (e: unknown) =>
      e instanceof RecipeError &&
      /layer "relu4_2" is not in the vgg19 weights .* relu3_4 is the deepest usable layer/.test(
        e.message,
      ),
  );
  // With the shallow layers it validates (everything adapts with --set).
  await loadExample("tubingen-starry", [
    "content_layers=[relu3_2]",
    "style_layers=[relu1_1, relu2_1, relu3_1]",
  ]);
});

Deno.test("plan sizes every step from the image headers, so the first scale has an estimate too", async () => {
  const plan = await planRecipe(await loadExample("upscale-3-scales", []), {
    imageDirs: [testImagesDir()],
  });
  const step = (id: string) => plan.steps.find((s) => s.step.id === id)!;
  const { width, height } = step("content").shape!;
  assert.deepEqual({ width, height }, { width: 1024, height: 768 });
  assert.deepEqual(step("content-256").shape, { width: 256, height: 192 });
  assert.deepEqual(step("transfer").shape, { width: 256, height: 192 });
  assert.deepEqual(step("transfer-1024").shape, { width: 1024, height: 768 });
  const first = step("transfer").estimate!;
  const second = step("transfer-512").estimate!;
  assert.ok(first.seconds! > 0 && first.bytes < second.bytes, JSON.stringify({ first, second }));
});

Deno.test("plan of upscale-3-scales: estimates per scale; warns when a scale exceeds the budget even tiled", async () => {
  const plan = await planRecipe(await loadExample("upscale-3-scales", []), {
    imageDirs: [testImagesDir()],
  });
  const estimate = (id: string) => plan.steps.find((s) => s.step.id === id)!.estimate!;
  const e512 = estimate("transfer-512");
  const e1024 = estimate("transfer-1024");
  // 1024×768 vs 512×384 (sized from the photo's header) with the recipe's 16 px margin on every
  // side: the canvases' pixel ratio, on top of the engine's fixed part (the estimate of an empty
  // image).
  const base =
    transferEstimate("onnx", { width: 0, height: 0, evaluations: 0, optimizerVectors: 0 })
      .bytes;
  const ratio = (e1024.bytes - base) / (e512.bytes - base);
  const canvases = ((1024 + 32) * (768 + 32)) / ((512 + 32) * (384 + 32));
  assert.ok(Math.abs(ratio - canvases) < 0.01, `memory ratio ${ratio}, canvases ${canvases}`);
  // At most 40 vs 100 iterations (each scale stops once converged), 1.05 evaluations each with
  // the strong Wolfe line search, + 3 for its first steps, + 1.
  assert.ok(e1024.upperBound && e512.upperBound);
  assert.ok(
    Math.abs(e1024.seconds! / e512.seconds! - canvases * (40 * 1.05 + 4) / (100 * 1.05 + 4)) <
      0.01,
  );

  // At 4096 px a 1 GiB budget holds not even the image-sized vectors and targets: no tile fits.
  const side = 4096;
  const cli = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "mod.ts", "plan", "pipelines/upscale-3-scales.yaml", "--json", "--set"]
      .concat([`large=${side}`, "--memory", "1GiB", "--cache-dir", await Deno.makeTempDir()]),
    cwd: repoRoot,
    env: {
      STYLEPIPE_WEIGHTS: testWeightsDirs()[0],
      STYLEPIPE_IMAGES: testImagesDir(),
    },
  }).output();
  const out = JSON.parse(new TextDecoder().decode(cli.stdout));
  assert.equal(out.warnings.length, 1, JSON.stringify(out.warnings));
  // Every scale stops once converged: its time is an upper bound.
  const scales = out.steps.filter((r: { stage: string }) =>
    /^(style-transfer|upscale)$/.test(r.stage)
  );
  assert.deepEqual(scales.map((r: { upper_bound: boolean }) => r.upper_bound), [true, true, true]);
  assert.match(out.warnings[0], new RegExp(`step "transfer-${side}" needs about`));
});
