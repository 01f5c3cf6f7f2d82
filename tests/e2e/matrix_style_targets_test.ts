/**
 * A matrix of 2 contents × 2 styles through the real neural stages computes each style's Gram
 * targets once (issue 6): the engine sees 4 content extractions (plus 4 of the photo's own Grams
 * for the relative normalisation, one per style-transfer) and only 2 style extractions.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CacheStore } from "../../src/pipeline/cache.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { loadRecipe } from "../../src/recipe/load.ts";
import { matrixExtension } from "../../src/recipe/matrix.ts";
import type { Engine } from "../../src/neural/engines/engine.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { testImagesDir, testWeightsDirs } from "../stages/_context.ts";
import { testEngine } from "../stages/_neural.ts";

const GRID = `version: 1
name: grid
vars: { size: 20 }
matrix:
  content: [tubingen.jpg, picasso_selfport1907.jpg]
  style: [starry_night.jpg, shipwreck.jpg]
steps:
  - { id: content, use: load, with: { path: "\${content}" } }
  - { id: small, use: resize, from: content, with: { max_side: "\${size}" } }
  - { id: style, use: load, with: { path: "\${style}" } }
  - id: features
    use: extract-features
    from: { content: small, style: [style] }
    with: { content_layers: [relu2_2], style_layers: [relu1_1, relu2_1] }
  - { id: stylized, use: style-transfer, from: features, with: { iterations: 2 } }
  - { id: final, use: save, from: stylized, with: { path: "\${content_name}-\${style_name}.png" } }
`;

/** The shared test engine, counting extract() calls per image size. */
function countingEngine(base: Engine, calls: string[]): Engine {
  return {
    name: base.name,
    vec: base.vec,
    describe: () => base.describe(),
    extract: (weights, pooling, image, layers) => {
      calls.push(`${image.width}x${image.height}`);
      return base.extract(weights, pooling, image, layers);
    },
    objective: (spec) => base.objective(spec),
    planObjective: (weights, plan) => base.planObjective(weights, plan),
    statistics: (...args) => base.statistics(...args),
    dispose: () => Promise.resolve(), // shared across test files' tests
  };
}

Deno.test("matrix 2 contents × 2 styles: each style's Gram targets are computed once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "grid.yaml"), GRID);
    const recipe = await loadRecipe(join(dir, "grid.yaml"), {
      registry: builtinStages(),
      extensions: [matrixExtension([testImagesDir()])],
      weightsDirs: testWeightsDirs(),
    });
    const plan = await planRecipe(recipe, {
      outDir: join(dir, "out"),
      imageDirs: [testImagesDir()],
      resolveEngine: () => Promise.resolve("wasm"),
    });
    const calls: string[] = [];
    const base = await testEngine();
    const started: Record<string, number> = {};
    await runPlan(plan, {
      cache: new CacheStore(join(dir, "cache")),
      engineFactory: () => Promise.resolve(countingEngine(base, calls)),
      weightsDirs: testWeightsDirs(),
      onEvent: (e) => {
        if (e.type === "step-started") started[e.stage] = (started[e.stage] ?? 0) + 1;
      },
    });
    assert.equal(started["extract-features"], 4);
    // Contents are 20×15 and 16×20; both styles scale to a longer side of 20 px.
    const contentCalls = calls.filter((c) => c === "20x15" || c === "16x20");
    const styleCalls = calls.filter((c) => c !== "20x15" && c !== "16x20");
    assert.equal(contentCalls.length, 4 + 4, `extract calls: ${calls.join(", ")}`);
    assert.deepEqual(styleCalls.sort(), ["20x13", "20x14"]);
    const outputs = [...Deno.readDirSync(join(dir, "out"))].map((e) => e.name)
      .filter((n) => n.endsWith(".png")).sort();
    assert.equal(outputs.length, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
