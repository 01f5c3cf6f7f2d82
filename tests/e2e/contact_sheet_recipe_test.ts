/** pipelines/contact-sheet.yaml: a 2 × 2 matrix batch gathered into one captioned sheet. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage } from "../../src/image/codecs.ts";
import { createEngine } from "../../src/neural/engines/providers.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { loadRecipe } from "../../src/recipe/load.ts";
import { matrixExtension } from "../../src/recipe/matrix.ts";
import { repoRoot, testImagesDir, testWeightsDirs } from "../stages/_context.ts";

Deno.test({
  name: "recipe contact-sheet renders four styled combinations onto one sheet",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stylepipe-e2e-sheet-" });
    try {
      const recipe = await loadRecipe(join(repoRoot, "pipelines/contact-sheet.yaml"), {
        sets: ["size=32", "iterations=5", "engine=onnx", "cell=40"],
        extensions: [matrixExtension([testImagesDir()])],
        weightsDirs: testWeightsDirs(),
      });
      const plan = await planRecipe(recipe, { outDir: dir, imageDirs: [testImagesDir()] });
      assert.equal(plan.steps.filter((s) => s.step.use === "style-transfer").length, 4);
      assert.equal(plan.steps.filter((s) => s.step.use === "contact-sheet").length, 1);
      const engine = createEngine("onnx");
      const result = await runPlan(plan, {
        cache: null,
        engineFactory: () => engine,
        weightsDirs: testWeightsDirs(),
      });
      const sheet = await decodeImage(await Deno.readFile(result.outputs[0]));
      // 2 columns of 40 px cells with 8 px gaps; 2 rows of cell + two caption lines + gap.
      assert.deepEqual([sheet.width, sheet.height], [2 * 48 + 8, 2 * (40 + 2 * 17 + 4 + 8) + 8]);
      // The four cells hold four different renders.
      const cell = (col: number, row: number) => {
        const x = 8 + col * 48 + 20, y = 8 + row * 86 + 10;
        return [...sheet.data.slice((y * sheet.width + x) * 3, (y * sheet.width + x) * 3 + 3)];
      };
      const cells = [cell(0, 0), cell(1, 0), cell(0, 1), cell(1, 1)].map((c) => c.join());
      assert.equal(new Set(cells).size, 4, cells.join(" / "));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
