/**
 * Sidecars follow their outputs (issue 12, finding 6): written as soon as each output is saved (a
 * later failure or crash cannot leave it without one), never for an output that was not written.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunEvent } from "../../src/pipeline/events.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan, StepFailedError } from "../../src/pipeline/run.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { genStage } from "./_stages.ts";

async function run(dir: string, text: string, onEvent?: (e: RunEvent) => void) {
  const registry = builtinStages();
  registry.register(genStage);
  const recipe = await parseRecipe(text, join(dir, "recipe.yaml"), { registry });
  const plan = await planRecipe(recipe, { outDir: join(dir, "out"), imageDirs: [] });
  return await runPlan(plan, { cache: null, onEvent }).then(() => undefined, (e) => e);
}

Deno.test("a sidecar is on disk before the next step starts (a crash cannot lose it)", async () => {
  const dir = await Deno.makeTempDir();
  let presentWhenBStarted: boolean | undefined;
  const onEvent = (e: RunEvent) => {
    if (e.type === "step-started" && e.step === "b") {
      presentWhenBStarted = Deno.statSync(join(dir, "out", "a.png.json")).isFile;
    }
  };
  await Deno.mkdir(join(dir, "out"));
  await Deno.writeTextFile(join(dir, "out", "blocker"), "a file where a folder is needed");
  const e = await run(
    dir,
    `version: 1
steps:
  - { id: g, use: gen, with: { value: 0.5 } }
  - { id: a, use: save, from: g, with: { path: a.png } }
  - { id: b, use: save, from: a, with: { path: blocker/b.png } }
`,
    onEvent,
  );
  assert.equal(presentWhenBStarted, true);
  assert.ok(e instanceof StepFailedError && e.step === "b", String(e));
  const sidecar = JSON.parse(await Deno.readTextFile(join(dir, "out", "a.png.json")));
  assert.equal(sidecar.output.step, "a");
  assert.equal(sidecar.run.steps.a.status, "ran");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a save that fails leaves no sidecar", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "out", "c.png"), { recursive: true }); // a folder where the file goes
  const e = await run(
    dir,
    `version: 1\nsteps:\n  - { id: g, use: gen, with: { value: 0.5 } }\n` +
      `  - { id: c, use: save, from: g, with: { path: c.png } }\n`,
  );
  assert.ok(e instanceof StepFailedError && e.step === "c", String(e));
  await assert.rejects(Deno.stat(join(dir, "out", "c.png.json")), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});
