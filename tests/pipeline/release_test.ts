/**
 * Issue 22, item 4 (run side): a step's pixels are released once the last step reading it ran, the
 * plan's image peak counts only the images alive at once, and that peak — not one step's — is
 * checked against the memory budget.
 */
import assert from "node:assert/strict";
import { imagePeak, planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { RecipeError } from "../../src/recipe/errors.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import { testRegistry } from "./_stages.ts";

/** gen → add × n, and a second branch reading gen again at the end. */
function chain(n: number, side: number): string {
  const steps = [`  - { id: s0, use: gen, with: { value: 0.1, width: ${side}, height: ${side} } }`];
  for (let i = 1; i <= n; i++) steps.push(`  - { id: s${i}, use: add, from: s${i - 1} }`);
  steps.push(`  - { id: last, use: mix, from: [s${n}, s0] }`);
  return `version: 1\nsteps:\n${steps.join("\n")}\n`;
}

async function planOf(text: string) {
  const recipe = await parseRecipe(text, "/nowhere/r.yaml", { registry: testRegistry() });
  return await planRecipe(recipe, { imageDirs: [], outDir: "/nowhere/out" });
}

Deno.test("intermediate pixels are released after their last reader; keepIntermediates keeps them", async () => {
  const plan = await planOf(chain(4, 8));
  const released = await runPlan(plan, { cache: null });
  const sizes = (r: typeof released) =>
    Object.fromEntries(
      [...r.values].map(([id, v]) => [id, v.kind === "image" ? v.image.data.length : -1]),
    );
  // s0 is read by "last" too, so it lives to the end; the sink keeps its pixels.
  assert.deepEqual(sizes(released), { s0: 0, s1: 0, s2: 0, s3: 0, s4: 0, last: 192 });
  const kept = await runPlan(plan, { cache: null, keepIntermediates: true });
  assert.deepEqual(sizes(kept), { s0: 192, s1: 192, s2: 192, s3: 192, s4: 192, last: 192 });
  const v = released.values.get("last");
  assert.ok(v?.kind === "image" && Math.abs(v.image.data[0] - (0.1 + 0.4 + 0.1) / 2) < 1e-6);
});

Deno.test("the plan's image peak counts the images alive at once, and is checked against the budget", async () => {
  const px = 1000 * 1000;
  // 12 steps of 1 MP: s0 (kept for last), the step before and the one being made: 3 images.
  const peak = imagePeak((await planOf(chain(12, 1000))).steps)!;
  assert.deepEqual(peak, { bytes: 3 * 16 * px, step: "s2" });
  Deno.env.set("STYLEPIPE_MEMORY_BUDGET_MB", "40");
  try {
    const e = await planOf(chain(12, 1000)).then(() => undefined, (e) => e);
    assert.ok(e instanceof RecipeError);
    assert.match(
      e.message,
      /r\.yaml:5:5: step "s2": the run, which holds its images at step "s2", needs about 48 MB, over the memory budget of 40 MB/,
    );
  } finally {
    Deno.env.delete("STYLEPIPE_MEMORY_BUDGET_MB");
  }
});
