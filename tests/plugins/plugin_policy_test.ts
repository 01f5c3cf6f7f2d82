/**
 * Plugins are trusted code (issue 12, finding 2): validate/plan do not run them unless allowed;
 * a plugin named by URL, or importing a remote, data: or foreign npm module, is refused before any
 * of its code runs (nothing downloaded, deno.lock untouched); outputs never overwrite a plugin.
 */
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { RecipeError } from "../../src/recipe/errors.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import type { PluginPolicy } from "../../src/recipe/plugins.ts";
import { testRegistry } from "../pipeline/_stages.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const stageModule = resolve(repo, "src/stages/stage.ts");

/** A plugin module that records, by writing `marker`, that its code ran; `extra` is prepended. */
function pluginSource(marker: string, extra = ""): string {
  return `${extra}import { z } from "zod";
import type { Stage } from ${JSON.stringify(stageModule)};
Deno.writeTextFileSync(${JSON.stringify(marker)}, "ran");
const stage: Stage<Record<string, never>> = {
  name: "noop", version: 1, description: "nothing", params: z.object({}).strict(),
  inputs: { image: { kind: "image" } }, output: "image",
  run: (_ctx, inputs) => Promise.resolve(inputs.image as never),
};
export default stage;
`;
}

async function load(dir: string, plugin: string, policy: PluginPolicy, extra = "") {
  const text = `version: 1\nplugins: [${JSON.stringify(plugin)}]\nsteps:\n` +
    `  - { id: g, use: gen, with: { value: 0.5 } }\n  - { id: n, use: noop, from: g }\n` + extra;
  return await parseRecipe(text, join(dir, "recipe.yaml"), {
    registry: testRegistry(),
    plugins: policy,
  })
    .then((r) => r, (e) => e);
}

Deno.test("validate/plan do not run plugin code unless allowed", async () => {
  const dir = await Deno.makeTempDir();
  const marker = join(dir, "ran.txt");
  await Deno.writeTextFile(join(dir, "p.ts"), pluginSource(marker));
  const refused = await load(dir, "./p.ts", "refuse");
  assert.ok(refused instanceof RecipeError);
  assert.match(
    refused.message,
    /recipe\.yaml:2:11: plugin "\.\/p\.ts" was not loaded: .*--allow-plugins/,
  );
  assert.match(refused.message, /unknown stage "noop" \(a plugin was not loaded\)/);
  await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
  const loaded = await load(dir, "./p.ts", "load");
  assert.ok(!(loaded instanceof Error), String(loaded));
  assert.equal(await Deno.readTextFile(marker), "ran");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("remote, data: and foreign npm imports are refused before the plugin runs", async () => {
  const lock = await Deno.readTextFile(join(repo, "deno.lock")).catch(() => "");
  const dir = await Deno.makeTempDir();
  const marker = join(dir, "ran.txt");
  const cases = [
    `import "https://example.com/x.ts";\n`,
    `import "data:text/javascript,globalThis.x=1";\n`,
    `import "npm:left-pad@1.3.0";\n`,
    `import "jsr:@std/path";\n`,
  ];
  for (const [i, extra] of cases.entries()) {
    await Deno.writeTextFile(join(dir, `p${i}.ts`), pluginSource(marker, extra));
    const e = await load(dir, `./p${i}.ts`, "load");
    assert.ok(e instanceof RecipeError, `case ${i}: ${e}`);
    assert.match(e.message, /:2:11: plugin ".*" imports ".*": plugins may import only local files/);
  }
  await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
  assert.equal(await Deno.readTextFile(join(repo, "deno.lock")).catch(() => ""), lock);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a plugin named by URL is refused with a clear message", async () => {
  const dir = await Deno.makeTempDir();
  const e = await load(dir, "https://example.com/stage.ts", "load");
  assert.ok(e instanceof RecipeError);
  assert.match(
    e.message,
    /plugin "https:\/\/example\.com\/stage\.ts" is a URL; .* must be local files/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an output never overwrites a plugin module", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "p.ts"), pluginSource(join(dir, "ran.txt")));
  const recipe = await load(
    dir,
    "./p.ts",
    "load",
    `  - { id: w, use: write, from: n, with: { path: p.ts } }\n`,
  );
  assert.ok(!(recipe instanceof Error), String(recipe));
  const e = await planRecipe(recipe, { outDir: dir, imageDirs: [] }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(e instanceof RecipeError);
  assert.match(e.message, /step "w": output "p\.ts" would overwrite .*p\.ts/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("verify loads the original recipe's plugins only when allowed", async () => {
  const { loadCliRecipe } = await import("../../src/cli/load.ts");
  const { runPlan } = await import("../../src/pipeline/run.ts");
  const { reproduce } = await import("../../src/pipeline/reproduce.ts");
  const { builtinStages } = await import("../../src/stages/builtin.ts");
  const { testImagesDir } = await import("../stages/_context.ts");
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "p.ts"), pluginSource(join(dir, "ran.txt")));
    await Deno.copyFile(join(testImagesDir(), "tubingen.jpg"), join(dir, "photo.jpg"));
    const file = join(dir, "recipe.yaml");
    await Deno.writeTextFile(
      file,
      `version: 1\nplugins: [./p.ts]\nsteps:\n` +
        `  - { id: l, use: load, with: { path: photo.jpg } }\n` +
        `  - { id: r, use: resize, from: l, with: { max_side: 16 } }\n` +
        `  - { id: n, use: noop, from: r }\n` +
        `  - { id: s, use: save, from: n, with: { path: out.png } }\n`,
    );
    const recipe = await loadCliRecipe(file, { plugins: "load" });
    await runPlan(await planRecipe(recipe, { outDir: join(dir, "out"), imageDirs: [] }), {
      cache: null,
    });
    const output = join(dir, "out/out.png");
    const options = { registry: builtinStages(), imageDirs: [] };
    const refused = await reproduce(output, options).then(() => undefined, (e) => e);
    assert.ok(refused instanceof RecipeError, String(refused));
    assert.match(refused.message, /plugin "\.\/p\.ts" was not loaded/);
    const again = await reproduce(output, { ...options, plugins: "load" });
    assert.ok(again.identicalPixels);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
