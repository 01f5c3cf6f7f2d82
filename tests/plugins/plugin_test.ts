import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CacheStore } from "../../src/pipeline/cache.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { RecipeError } from "../../src/recipe/errors.ts";
import { loadRecipe, parseRecipe } from "../../src/recipe/load.ts";
import { recipeJsonSchema } from "../../src/recipe/schema.ts";
import { testRegistry } from "../pipeline/_stages.ts";

const recipeFile = fileURLToPath(new URL("./plugin.yaml", import.meta.url));

Deno.test("a recipe's plugin registers a stage that validates, runs and caches", async () => {
  const registry = testRegistry();
  const recipe = await loadRecipe(recipeFile, { registry });
  assert.ok(recipe.registry.get("invert"));
  assert.equal(registry.get("invert"), undefined, "plugins must not leak into the base registry");
  const dir = await Deno.makeTempDir();
  const plan = await planRecipe(recipe, { outDir: dir, imageDirs: [] });
  const cache = new CacheStore(join(dir, ".cache"));
  await runPlan(plan, { cache });
  assert.equal(await Deno.readTextFile(join(dir, "inverted.txt")), "0.7500 0.7500 0.7500\n");
  const again = await runPlan(plan, { cache });
  assert.deepEqual(again.steps.map((s) => s.status), ["cached", "cached", "cached"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("plugin stages get parameter validation and appear in the JSON Schema", async () => {
  const text = (await Deno.readTextFile(recipeFile)).replace("strength: 1", "strenght: 1");
  const err = await parseRecipe(text, recipeFile, { registry: testRegistry() }).catch((e) => e);
  assert.ok(err instanceof RecipeError);
  assert.match(
    err.message,
    /:5:46: step "inv": unknown parameter "strenght" \(did you mean "strength"\?\)$/,
  );
  const recipe = await loadRecipe(recipeFile, { registry: testRegistry() });
  const schema = JSON.stringify(recipeJsonSchema(recipe.registry));
  assert.match(schema, /"const":"invert"/);
  assert.match(schema, /0: unchanged, 1: fully inverted/);
});

Deno.test("a plugin that is not a stage is reported at its list entry", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "bad.ts"), "export default { name: 'x' };\n");
  const text =
    "version: 1\nplugins: [./bad.ts, ./missing.ts]\nsteps:\n  - { id: g, use: gen, with: { value: 0 } }\n";
  const err = await parseRecipe(text, join(dir, "r.yaml"), { registry: testRegistry() }).catch((
    e,
  ) => e);
  assert.ok(err instanceof RecipeError);
  assert.equal(err.issues.length, 2);
  assert.match(err.message, /r\.yaml:2:11: plugin "\.\/bad\.ts": default export must be a Stage/);
  assert.match(err.message, /r\.yaml:2:21: cannot load plugin "\.\/missing\.ts"/);
  await Deno.remove(dir, { recursive: true });
});
