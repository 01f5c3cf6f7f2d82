/**
 * Outputs stay in the output folder on real paths (issue 12, findings 1 and 6): symbolic links,
 * `..`, NUL bytes and overlong names are refused when the plan is made (validate exits 2) and again
 * at write time; the recipe, its plugins and inputs are never written; no two steps write one file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CacheStore } from "../../src/pipeline/cache.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan, StepFailedError } from "../../src/pipeline/run.ts";
import { RecipeError } from "../../src/recipe/errors.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import { matrixExtension } from "../../src/recipe/matrix.ts";
import { testRegistry } from "./_stages.ts";

const steps = (...paths: string[]) =>
  `version: 1\nsteps:\n  - { id: g, use: gen, with: { value: 0.5 } }\n` +
  paths.map((p, i) =>
    `  - { id: w${i}, use: write, from: g, with: { path: ${JSON.stringify(p)} } }\n`
  )
    .join("");

async function plan(dir: string, text: string, outDir = join(dir, "out")) {
  const recipe = await parseRecipe(text, join(dir, "recipe.yaml"), {
    registry: testRegistry(),
    extensions: [matrixExtension([])],
  });
  return await planRecipe(recipe, { outDir, imageDirs: [] });
}

async function planError(dir: string, text: string, outDir?: string): Promise<string> {
  const e = await plan(dir, text, outDir).then(() => undefined, (e) => e);
  assert.ok(e instanceof RecipeError, `expected a RecipeError, got ${e}`);
  return e.message;
}

Deno.test("a symbolic link inside the output folder cannot carry a write outside it", async () => {
  const dir = await Deno.makeTempDir();
  const elsewhere = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "out"));
  await Deno.symlink(elsewhere, join(dir, "out", "sub"));
  const msg = await planError(dir, steps("sub/x.txt"));
  assert.match(
    msg,
    /recipe\.yaml:4:50: step "w0": output "sub\/x\.txt" leads through a symbolic link to /,
  );
  // At write time too: the link appears after the plan was made.
  await Deno.remove(join(dir, "out", "sub"));
  const p = await plan(dir, steps("sub/x.txt"));
  await Deno.symlink(elsewhere, join(dir, "out", "sub"));
  const e = await runPlan(p, { cache: null }).then(() => undefined, (e) => e);
  assert.ok(e instanceof StepFailedError);
  assert.match(e.message, /leads through a symbolic link/);
  assert.deepEqual([...Deno.readDirSync(elsewhere)], []);
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(elsewhere, { recursive: true });
});

Deno.test("paths with .., NUL or overlong names are refused at validation", async () => {
  const dir = await Deno.makeTempDir();
  assert.match(await planError(dir, steps("../x.txt")), /is outside the output directory/);
  assert.match(await planError(dir, steps("a\u0000b.txt")), /contains a NUL character/);
  assert.match(
    await planError(dir, steps("n".repeat(300) + ".txt")),
    /a name of more than 255 bytes/,
  );
  assert.match(await planError(dir, steps("d/".repeat(2100) + "x")), /at most 4096/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the recipe file and input files are never overwritten, even with --out-dir at the recipe", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "recipe.yaml"), "# the recipe\n");
  await Deno.writeTextFile(join(dir, "n.txt"), "0.5");
  const text = `version: 1\nsteps:\n  - { id: n, use: number, with: { path: n.txt } }\n` +
    `  - { id: a, use: write, from: n, with: { path: recipe.yaml } }\n` +
    `  - { id: b, use: write, from: n, with: { path: n.txt } }\n`;
  const msg = await planError(dir, text, dir);
  assert.match(msg, /step "a": output "recipe\.yaml" would overwrite .*recipe\.yaml/);
  assert.match(msg, /step "b": output "n\.txt" would overwrite .*n\.txt/);
  assert.equal(await Deno.readTextFile(join(dir, "recipe.yaml")), "# the recipe\n");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("two steps (or two matrix combinations) writing one file is a validation error", async () => {
  const dir = await Deno.makeTempDir();
  const msg = await planError(dir, steps("same.txt", "sub/../same.txt"));
  assert.match(msg, /:5:\d+: step "w1": writes .*same\.txt, as step "w0" does/);
  const matrix = `version: 1\nmatrix: { v: [0.25, 0.5] }\nsteps:\n` +
    `  - { id: g, use: gen, with: { value: "\${v}" } }\n` +
    `  - { id: w, use: write, from: g, with: { path: out.txt } }\n`;
  assert.match(await planError(dir, matrix), /step "w-2": writes .*out\.txt, as step "w-1" does/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("allow_outside_output lets a write leave the folder, but never onto the recipe", async () => {
  const dir = await Deno.makeTempDir();
  const text = "allow_outside_output: true\n" + steps("../elsewhere.txt");
  const p = await plan(dir, text);
  await runPlan(p, { cache: new CacheStore(join(dir, "cache")) });
  assert.ok((await Deno.stat(join(dir, "elsewhere.txt"))).isFile);
  assert.match(
    await planError(dir, "allow_outside_output: true\n" + steps("../recipe.yaml")),
    /would overwrite/,
  );
  await Deno.remove(dir, { recursive: true });
});
