/**
 * Loading and rendering the example recipes of pipelines/ for the end-to-end tests: the recipe is
 * loaded with --set overrides, planned into a temporary folder and run without a cache on the onnx
 * engine (one engine for the whole test file).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage } from "../../src/image/codecs.ts";
import type { RgbImage } from "../../src/image/image.ts";
import { createEngine } from "../../src/neural/engines/providers.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { loadRecipe } from "../../src/recipe/load.ts";
import type { Recipe } from "../../src/recipe/recipe.ts";
import { matrixExtension } from "../../src/recipe/matrix.ts";
import { scalesExtension } from "../../src/recipe/scales.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { repoRoot, testImagesDir, testWeightsDirs } from "../stages/_context.ts";

const engine = createEngine("onnx");

/** Loads pipelines/`name`.yaml with the example images and the test weights. */
export async function loadExample(name: string, sets: readonly string[]): Promise<Recipe> {
  return await loadRecipe(join(repoRoot, "pipelines", `${name}.yaml`), {
    registry: builtinStages(),
    sets,
    extensions: [matrixExtension([testImagesDir()]), scalesExtension()],
    weightsDirs: testWeightsDirs(),
  });
}

/** Renders an example recipe in a temporary folder (no cache); returns its one output, decoded. */
export async function renderExample(name: string, sets: readonly string[]): Promise<RgbImage> {
  const dir = await Deno.makeTempDir({ prefix: `stylepipe-e2e-${name}-` });
  try {
    const plan = await planRecipe(await loadExample(name, sets), {
      outDir: dir,
      imageDirs: [testImagesDir()],
    });
    const result = await runPlan(plan, {
      cache: null,
      engineFactory: () => engine,
      weightsDirs: testWeightsDirs(),
    });
    assert.equal(result.outputs.length, 1);
    return await decodeImage(await Deno.readFile(result.outputs[0]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
