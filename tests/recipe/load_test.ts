import assert from "node:assert/strict";
import { formatIssue, RecipeError } from "../../src/recipe/errors.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import type { Recipe } from "../../src/recipe/recipe.ts";
import { testRegistry } from "../pipeline/_stages.ts";

const load = (text: string, sets?: string[]) =>
  parseRecipe(text, "recipe.yaml", { registry: testRegistry(), sets, weightsDirs: ["w"] });

/** The formatted messages of the RecipeError `text` produces. */
async function errors(text: string, sets?: string[]): Promise<string[]> {
  try {
    await load(text, sets);
  } catch (e) {
    if (e instanceof RecipeError) return e.issues.map(formatIssue);
    throw e;
  }
  assert.fail("expected a RecipeError");
}

const ok = `version: 1
vars: { size: 3, layers: [a, b], name: x }
steps:
  - id: base
    use: gen
    with: { value: 0.5, width: "\${size}" }
  - id: brighter
    use: add
    from: base
  - id: out
    use: write
    from: brighter
    with: { path: "\${name}-\${size}.txt" }
`;

Deno.test("a valid recipe loads with defaults applied and variables typed", async () => {
  const r: Recipe = await load(ok);
  assert.deepEqual(r.steps.map((s) => s.id), ["base", "brighter", "out"]);
  assert.deepEqual(r.steps[0].params, { value: 0.5, width: 3, height: 2 });
  assert.deepEqual(r.steps[1].params, { amount: 0.1 });
  assert.deepEqual(r.steps[2].params, { path: "x-3.txt" });
  assert.deepEqual(r.steps[2].inputs, { image: ["brighter"] });
  assert.equal(r.engine, "auto");
  assert.equal(r.seed, 0);
  assert.equal(r.name, "recipe");
});

Deno.test("--set overrides a variable, parsing the value as YAML", async () => {
  const r = await load(ok, ["size=5", "name=[1, 2]"]);
  assert.equal((r.steps[0].params as { width: number }).width, 5);
  assert.deepEqual(r.steps[2].params, { path: "[1,2]-5.txt" });
  assert.deepEqual(r.vars.name, [1, 2]);
});

Deno.test("misspelt parameter: exact message with line:col and did-you-mean", async () => {
  const text = ok.replace("with: { value: 0.5", "with: { valeu: 0.5");
  assert.deepEqual(await errors(text), [
    `recipe.yaml:6:5: step "base": missing parameter "value"`,
    `recipe.yaml:6:13: step "base": unknown parameter "valeu" (did you mean "value"?)`,
  ]);
});

Deno.test("every kind of mistake is reported at once, in file order", async () => {
  const text = `version: 1
vars: { n: 2 }
stepz: []
steps:
  - id: a
    use: gen
    with: { value: "grey" }
  - id: b
    use: ad
    from: a
  - id: c
    use: add
    from: z
  - id: a
    use: gen
    with: { value: 1 }
  - id: d
    use: add
    from: e
  - id: e
    use: add
    from: d
  - id: f
    use: mix
    from: { a: a, c: a }
  - id: g
    use: add
    with: { amount: "\${m}" }
`;
  assert.deepEqual(await errors(text), [
    `recipe.yaml:3:1: unknown top-level key "stepz" (did you mean "steps"?)`,
    `recipe.yaml:7:20: step "a": parameter "value": invalid input: expected number, received string`,
    `recipe.yaml:9:10: step "b": unknown stage "ad" (did you mean "add"?)`,
    `recipe.yaml:13:11: step "c": unknown step "z" in "from:"`,
    `recipe.yaml:14:9: step "a": duplicate step id (first used at line 5)`,
    `recipe.yaml:17:5: step "d": steps form a cycle: d → e → d`,
    `recipe.yaml:25:19: step "f": unknown input "c"`,
    `recipe.yaml:26:5: step "g": missing input "image" (stage "add" takes "image")`,
    `recipe.yaml:28:21: step "g": undefined variable "m"`,
  ]);
});

Deno.test("an input of the wrong kind is named", async () => {
  const text = `version: 1
steps:
  - { id: a, use: gen, with: { value: 0 } }
  - { id: t, use: targets, from: a }
  - { id: b, use: add, from: t }
`;
  assert.deepEqual(await errors(text), [
    `recipe.yaml:5:30: step "b": input "image" expects image, but step "t" produces features`,
  ]);
});

Deno.test("from: a list feeds inputs in order, or all of a many input; a map names them", async () => {
  const text = `version: 1
steps:
  - { id: a, use: gen, with: { value: 0 } }
  - { id: b, use: gen, with: { value: 1 } }
  - { id: m, use: mix, from: [b, a] }
  - { id: n, use: mix, from: { b: a, a: b } }
  - { id: s, use: stack, from: [a, b, m] }
  - { id: t, use: stack, from: a }
`;
  const r = await load(text);
  const inputs = Object.fromEntries(r.steps.map((s) => [s.id, s.inputs]));
  assert.deepEqual(inputs.m, { a: ["b"], b: ["a"] });
  assert.deepEqual(inputs.n, { a: ["b"], b: ["a"] });
  assert.deepEqual(inputs.s, { images: ["a", "b", "m"] });
  assert.deepEqual(inputs.t, { images: ["a"] });
});

Deno.test("YAML syntax errors carry their position", async () => {
  const msgs = await errors("version: 1\nsteps: [\n  - id: a\n");
  assert.equal(msgs.length >= 1, true);
  assert.match(msgs[0], /^recipe\.yaml:\d+:\d+: YAML syntax: /);
});

Deno.test("a stage's check() messages are positioned at the step", async () => {
  const text = `version: 1
steps:
  - id: c
    use: checked
    with: { n: 4 }
`;
  assert.deepEqual(await errors(text), [
    `recipe.yaml:5:5: step "c": n must be at most 3 (weights in w)`,
  ]);
});

Deno.test("version, seed and --set are checked", async () => {
  const text = `version: 2
vars: { value: 1 }
seed: 1.5
steps:
  - { id: a, use: gen, with: { value: 0 } }
`;
  assert.deepEqual(await errors(text, ["valeu=1"]), [
    `recipe.yaml:1:10: "version: 1" is required (got 2)`,
    `recipe.yaml:2:1: --set valeu: the recipe has no variable "valeu" (did you mean "value"?)`,
    `recipe.yaml:3:7: "seed:" must be a whole number from 0 to 4294967295, got 1.5`,
  ]);
});
