/**
 * The cache-key rule: what changes a step's key and what does not, and keys that must never change
 * (computed before stepKey() was its own module; a different key orphans every stored entry).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { createImage } from "../../src/image/image.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { stepKey, type StepKeyFacts } from "../../src/pipeline/step_key.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import type { Stage } from "../../src/stages/stage.ts";
import { testRegistry } from "./_stages.ts";

const base: StepKeyFacts = {
  stage: { name: "style", version: 2, usesEngine: false, writesFiles: false },
  params: { size: 64, weights: { a: 1, b: 2 } },
  inputKeys: { image: ["k1"], styles: ["k2", "k3"] },
  fileHashes: ["f1"],
  models: { vgg19: "m1" },
  seed: 7,
  engine: "onnx",
  outDir: "/out",
};
const engineStage = { ...base.stage, usesEngine: true };
const writingStage = { ...base.stage, writesFiles: true };

/** [what is changed, the facts with that change, whether the key changes]. */
const table: [string, StepKeyFacts, boolean][] = [
  ["stage version", { ...base, stage: { ...base.stage, version: 3 } }, true],
  ["stage name", { ...base, stage: { ...base.stage, name: "other" } }, true],
  ["a parameter", { ...base, params: { size: 65, weights: { a: 1, b: 2 } } }, true],
  ["a nested parameter", { ...base, params: { size: 64, weights: { a: 1, b: 3 } } }, true],
  ["an input's key", { ...base, inputKeys: { image: ["k9"], styles: ["k2", "k3"] } }, true],
  [
    "the order of a many input",
    { ...base, inputKeys: { image: ["k1"], styles: ["k3", "k2"] } },
    true,
  ],
  [
    "which input a key feeds",
    { ...base, inputKeys: { image: ["k2"], styles: ["k1", "k3"] } },
    true,
  ],
  ["an input file's bytes", { ...base, fileHashes: ["f2"] }, true],
  ["the weights' identity", { ...base, models: { vgg19: "m2" } }, true],
  ["weights found vs missing", { ...base, models: { vgg19: null } }, true],
  ["seed, engine stage", { ...base, stage: engineStage, seed: 8 }, true],
  ["engine, engine stage", { ...base, stage: engineStage, engine: "cuda" }, true],
  ["output folder, writing stage", { ...base, stage: writingStage, outDir: "/other" }, true],
  ["parameter order", { ...base, params: { weights: { b: 2, a: 1 }, size: 64 } }, false],
  ["input name order", { ...base, inputKeys: { styles: ["k2", "k3"], image: ["k1"] } }, false],
  [
    "an undefined parameter",
    { ...base, params: { ...base.params as object, x: undefined } },
    false,
  ],
  ["seed, plain stage", { ...base, seed: 8 }, false],
  ["engine, plain stage", { ...base, engine: "cuda" }, false],
  ["output folder, plain stage", { ...base, outDir: "/other" }, false],
  ["description and other stage fields", {
    ...base,
    stage: { ...base.stage, description: "x", output: "image" } as StepKeyFacts["stage"],
  }, false],
];

Deno.test("stepKey: what changes a key and what does not", () => {
  const key = stepKey(base);
  assert.match(key, /^[0-9a-f]{64}$/);
  for (const [what, facts, changes] of table) {
    assert.equal(
      stepKey(facts) !== key,
      changes,
      `${what} ${changes ? "must" : "must not"} change the key`,
    );
  }
});

Deno.test("stepKey: a key computed before the rule was its own module", () => {
  const facts: StepKeyFacts = {
    stage: { name: "write", version: 2, writesFiles: true },
    params: { path: "a.png", quality: 90 },
    inputKeys: { image: ["k1"] },
    fileHashes: [],
    models: {},
    seed: 1,
    engine: "onnx",
    outDir: "/out",
  };
  assert.equal(stepKey(facts), "6ea66ae9599c29c59331712f48a0dcd9e842a0cf11576af34305dc8747a91dfc");
});

/** `paint`: an engine stage that reads the `toy` model (its output is never computed here). */
const paintStage: Stage<{ strength: number }> = {
  name: "paint",
  version: 3,
  description: "an engine stage for keys",
  params: z.object({ strength: z.number() }).strict(),
  inputs: { image: { kind: "image" } },
  output: "image",
  usesEngine: true,
  models: () => ["toy"],
  run: () => Promise.resolve({ kind: "image", image: createImage(1, 1) }),
};

Deno.test("planRecipe: keys as before; plain steps' ids and where a file is found do not enter them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-key-" });
  await Deno.writeTextFile(join(dir, "n.txt"), "0.25");
  const elsewhere = join(dir, "elsewhere");
  await Deno.mkdir(join(elsewhere, "images"), { recursive: true });
  await Deno.writeTextFile(join(elsewhere, "images", "n.txt"), "0.25");
  await Deno.mkdir(join(dir, "weights", "toy"), { recursive: true });
  await Deno.writeTextFile(join(dir, "weights", "toy", "model.json"), "{}");
  await Deno.writeFile(join(dir, "weights", "toy", "w.bin"), new Uint8Array([1, 2, 3]));
  const registry = testRegistry();
  registry.register(paintStage);
  const keys = async (text: string, recipeDir = dir) => {
    const recipe = await parseRecipe(text, join(recipeDir, "recipe.yaml"), { registry });
    const plan = await planRecipe(recipe, {
      outDir: join(dir, "out"),
      imageDirs: [join(elsewhere, "images")],
      weightsDirs: [join(dir, "weights")],
      resolveEngine: () => Promise.resolve("cpu-test"),
    });
    return plan.steps.map((p) => p.key);
  };
  const recipe = (ids: string[]) =>
    `version: 1
seed: 7
engine: auto
steps:
  - { id: ${ids[0]}, use: number, with: { path: n.txt } }
  - { id: ${ids[1]}, use: gen, with: { width: 3, value: 0.5 } }
  - { id: ${ids[2]}, use: mix, from: { a: ${ids[0]}, b: ${ids[1]} } }
  - { id: ${ids[3]}, use: paint, from: ${ids[2]}, with: { strength: 2 } }
`;
  // Computed on main before stepKey() existed.
  const before = [
    "e8dbe22eeafb1b03d2bf9bc3c4676a48931d8937833a91829077de0674346740",
    "807105927a873381a18f0a6a66c7f4039fe9f47d6c03a82d2fbd15e706794ce6",
    "6cf6cf6b2cf85ad9c7d6fca91829e130ddcee941c647780462ab02c3e4e4f7b1",
    "de3366b0ace0930e34bb9e693462c19d05016d9b79266c8a2eaaf20676e1580a",
  ];
  assert.deepEqual(await keys(recipe(["n", "g", "m", "paint"])), before);
  // Renamed plain steps, and the input found in another folder with the same bytes: same keys.
  // The engine step's seed is derived from its id, so renaming it changes its key (only its key).
  const renamed = await keys(recipe(["number", "grey", "both", "paint"]), elsewhere);
  assert.deepEqual(renamed, before);
  const paintRenamed = await keys(recipe(["n", "g", "m", "art"]));
  assert.deepEqual(paintRenamed.slice(0, 3), before.slice(0, 3));
  assert.notEqual(paintRenamed[3], before[3]);
  // New weight bytes change the engine step's key only.
  await Deno.writeFile(join(dir, "weights", "toy", "w.bin"), new Uint8Array([1, 2, 3, 4]));
  const reweighted = await keys(recipe(["n", "g", "m", "paint"]));
  assert.deepEqual(reweighted.slice(0, 3), before.slice(0, 3));
  assert.notEqual(reweighted[3], before[3]);
  await Deno.remove(dir, { recursive: true });
});
