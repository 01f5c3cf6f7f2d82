/**
 * Child process of the decode-memory test (its peak resident memory is its own): validates and
 * plans a recipe loading every bomb in DIR, then decodes the valid valid.png in DIR; prints one JSON
 * line with the errors, the estimate and the peak memory above the baseline.
 * Usage: deno run -A tests/stages/_bomb_child.ts DIR BOMB…
 */
import { join } from "node:path";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { RecipeError } from "../../src/recipe/errors.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import { builtinStages } from "../../src/stages/builtin.ts";

function vm(field: "VmRSS" | "VmHWM"): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))![1]) * 1024;
}

const [dir, ...bombs] = Deno.args;
/** Each file loaded, resized to 16 and saved (`loadOnly`: only loaded). */
const recipe = (files: readonly string[], loadOnly = false) =>
  `version: 1\nsteps:\n` +
  files.map((f, i) =>
    `  - { id: l${i}, use: load, with: { path: ${f} } }\n` + (loadOnly ? "" : (
      `  - { id: r${i}, use: resize, from: l${i}, with: { max_side: 16 } }\n` +
      `  - { id: s${i}, use: save, from: r${i}, with: { path: out${i}.png } }\n`
    ))
  ).join("");
const plan = async (files: readonly string[], loadOnly = false) =>
  planRecipe(
    await parseRecipe(recipe(files, loadOnly), join(dir, "r.yaml"), {
      registry: builtinStages(),
    }),
    { imageDirs: [], outDir: join(dir, "out") },
  );

// Warm up the code paths (sharp, the stages) on the valid file, so the baseline includes them.
await runPlan(await plan(["small.png"]), { cache: null });
const before = vm("VmRSS");
const errors = await plan(bombs).then(() => [], (e) => {
  if (e instanceof RecipeError) return e.issues.map((i) => i.message);
  throw e;
});
const refusedPeak = vm("VmHWM") - before;
const valid = await plan(["valid.png"], true);
await runPlan(valid, { cache: null });
console.log(JSON.stringify({
  errors,
  refusedPeak,
  validEstimate: valid.steps[0].estimate?.bytes,
  validPeak: vm("VmHWM") - before,
}));
