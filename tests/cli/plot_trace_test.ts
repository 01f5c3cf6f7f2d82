/** A real render keeps its per-iteration loss trace in the sidecar only; plot draws every term. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { plotCommand } from "../../src/cli/plot.ts";
import { createEngine } from "../../src/neural/engines/providers.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { extractProvenance } from "../../src/pipeline/provenance.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { loadRecipe } from "../../src/recipe/load.ts";
import { repoRoot, testImagesDir, testWeightsDirs } from "../stages/_context.ts";

Deno.test({
  name: "loss trace: every iteration with its terms in the sidecar, not in the PNG; plot draws it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stylepipe-trace-" });
    try {
      const recipe = await loadRecipe(join(repoRoot, "pipelines/tubingen-starry-conv3.yaml"), {
        sets: ["size=32", "iterations=12", "engine=onnx"],
        weightsDirs: testWeightsDirs(),
      });
      const plan = await planRecipe(recipe, { outDir: dir, imageDirs: [testImagesDir()] });
      const engine = createEngine("onnx");
      const { outputs } = await runPlan(plan, {
        cache: null,
        engineFactory: () => engine,
        weightsDirs: testWeightsDirs(),
      });
      const png = outputs[0];
      const sidecar = JSON.parse(await Deno.readTextFile(`${png}.json`));
      const trace = sidecar.results.transfer.loss_trace as {
        iteration: number;
        loss: number;
        terms: Record<string, number>;
      }[];
      assert.deepEqual(trace.map((p) => p.iteration), [...Array(13).keys()]);
      for (const p of trace) {
        assert.deepEqual(Object.keys(p.terms).sort(), ["content", "style", "tv"]);
        const sum = p.terms.content + p.terms.style + p.terms.tv;
        assert.ok(Math.abs(sum - p.loss) <= 1e-4 * p.loss, `${sum} vs ${p.loss}`);
      }
      const embedded = extractProvenance(await Deno.readFile(png)).results.transfer as Record<
        string,
        unknown
      >;
      assert.equal(embedded.loss_trace, undefined, "not in the PNG");
      assert.deepEqual(
        (embedded.loss_curve as { iteration: number }[]).map((p) => p.iteration),
        [0, 10],
      );
      assert.equal(await plotCommand([png]), 0);
      const svg = await Deno.readTextFile(`${png}.loss.svg`);
      assert.equal(svg.match(/<polyline /g)?.length, 4, "loss, content, style, tv");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
