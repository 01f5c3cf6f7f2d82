/**
 * Hostile and careless recipes (issue 12, findings 4 and 6): each fails fast with a positioned
 * error, or is accepted — never a hang, a crash or an exhausted heap.
 */
import assert from "node:assert/strict";
import { RecipeError } from "../../src/recipe/errors.ts";
import { MAX_COMBINATIONS, MAX_RECIPE_BYTES } from "../../src/recipe/limits.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import { matrixExtension } from "../../src/recipe/matrix.ts";
import { closest } from "../../src/recipe/suggest.ts";
import { testRegistry } from "../pipeline/_stages.ts";

const file = "/nowhere/recipe.yaml";
const load = (text: string) =>
  parseRecipe(text, file, { registry: testRegistry(), extensions: [matrixExtension([])] });

/** The error's lines (fails the test when the recipe is accepted). */
async function rejected(text: string): Promise<string[]> {
  const e = await load(text).then(() => undefined, (e) => e);
  assert.ok(e instanceof RecipeError, `expected a RecipeError, got ${e}`);
  return e.message.split("\n");
}

const gen = `  - { id: g, use: gen, with: { value: 0.5 } }\n`;

Deno.test("a matrix of three aliases of a 100-item list is refused at matrix:, not expanded", async () => {
  const list = `[${Array.from({ length: 100 }, (_, i) => `v${i}`).join(", ")}]`;
  const lines = await rejected(
    `version: 1\nvars: { list: &l ${list} }\nmatrix: { a: *l, b: *l, c: *l }\nsteps:\n${gen}`,
  );
  assert.deepEqual(lines, [
    `${file}:3:9: "matrix:" makes 1000000 combinations (a: 100 × b: 100 × c: 100); ` +
    `at most ${MAX_COMBINATIONS}`,
  ]);
});

Deno.test("a recipe over the size limit is refused before it is parsed", async () => {
  const lines = await rejected(
    `version: 1\nsteps:\n  - { id: a, use: ${"x".repeat(MAX_RECIPE_BYTES)} }\n`,
  );
  assert.match(
    lines[0],
    /^\/nowhere\/recipe\.yaml:1:1: the recipe is \d+ characters long; at most/,
  );
});

Deno.test("a long unknown stage name gets no did-you-mean (no quadratic edit distance)", async () => {
  const lines = await rejected(`version: 1\nsteps:\n  - { id: a, use: ${"x".repeat(500_000)} }\n`);
  assert.deepEqual(lines, [`${file}:3:19: step "a": unknown stage (a name of 500000 characters)`]);
  assert.equal(closest("y".repeat(65), ["yyy"]), undefined);
  assert.equal(closest("laod", ["load"]), "load");
});

Deno.test("60,000 vars validate (linear duplicate-key check and interpolation)", async () => {
  const vars = Array.from({ length: 60_000 }, (_, i) => `  v${i}: ${i}`).join("\n");
  const recipe = await load(`version: 1\nvars:\n${vars}\nsteps:\n${gen}`);
  assert.equal(recipe.vars.v59999, 59999);
});

Deno.test("duplicate keys are reported at the second key", async () => {
  const lines = await rejected(`version: 1\nvars: { a: 1, b: 2, a: 3 }\nsteps:\n${gen}`);
  assert.deepEqual(lines, [`${file}:2:21: duplicate key "a"`]);
});

Deno.test("a 5,000-step cycle is reported (iteratively) with a shortened path", async () => {
  const steps = Array.from(
    { length: 5000 },
    (_, i) => `  - { id: s${i}, use: add, from: s${(i + 1) % 5000} }`,
  ).join("\n");
  const lines = await rejected(`version: 1\nsteps:\n${steps}\n`);
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /:3:5: step "s0": steps form a cycle: s0 → s4999 → .* … \(5000 steps\) → s0$/,
  );
});

Deno.test("5,000-deep maps and circular aliases are positioned errors, not stack overflows", async () => {
  const deep = `{a: `.repeat(5000) + "1" + "}".repeat(5000);
  const d = await rejected(`version: 1\nvars: { d: ${deep} }\nsteps:\n${gen}`);
  assert.match(d[0], /^\/nowhere\/recipe\.yaml:2:\d+: YAML syntax: nested too deeply \(at most 64/);
  const c = await rejected(`version: 1\nvars: &a { x: *a }\nsteps:\n${gen}`);
  assert.deepEqual(c, [`${file}:2:15: alias "*a" refers to a node that contains it`]);
});

Deno.test("reusing one anchor 150 times is fine; a billion laughs is refused at an alias", async () => {
  const reuse = Array.from(
    { length: 150 },
    (_, i) => `  - { id: s${i}, use: add, from: g, with: *p }`,
  );
  const ok = await load(
    `version: 1\nvars: { p: &p { amount: 0.1 } }\nsteps:\n${gen}${reuse.join("\n")}\n`,
  );
  assert.equal(ok.steps.length, 151);
  const laughs = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    laughs.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${
        Array(10).fill(`*${prev}`).join(", ")
      }]`,
    );
  }
  const lines = await rejected(
    `version: 1\nvars:\n${laughs.map((l) => `  ${l}`).join("\n")}\nsteps:\n${gen}`,
  );
  assert.equal(lines.length, 1);
  assert.match(lines[0], /:\d+:\d+: aliases expand the recipe to more than 1000000 values/);
});

Deno.test("a matrix glob may not leave the recipe's folder", async () => {
  for (const glob of ["/**", "../*.png", "a/../../*"]) {
    const lines = await rejected(
      `version: 1\nmatrix: { x: "${glob}" }\nsteps:\n  - { id: g, use: gen, with: { value: 0.5 } }\n`,
    );
    assert.match(lines[0], /:2:14: ".*" leaves the recipe's folder/);
  }
});

Deno.test("vars may use vars, in any order; cycles and undefined names are positioned", async () => {
  const r = await load(
    `version: 1\nvars: { out: "\${stem}-\${size}.png", stem: "\${base}", base: photo, size: 64 }\n` +
      `steps:\n  - { id: g, use: gen, with: { value: 0.5, width: "\${size}" } }\n` +
      `  - { id: w, use: write, from: g, with: { path: "\${out}" } }\n`,
  );
  assert.equal(r.vars.out, "photo-64.png");
  assert.deepEqual(r.steps[1].params, { path: "photo-64.png" });
  const lines = await rejected(
    `version: 1\nvars:\n  a: "\${b}"\n  b: "x\${a}"\n  c: "\${nope}"\nsteps:\n${gen}`,
  );
  assert.equal(lines.length, 2);
  assert.ok(lines.some((l) => /variables form a cycle: (a → b → a|b → a → b)/.test(l)));
  assert.ok(lines.includes(`${file}:5:6: variable "c": undefined variable "nope"`));
});

Deno.test("a long vars chain resolves without recursion", async () => {
  const n = 20_000;
  const vars = Array.from({ length: n }, (_, i) => `  v${i}: "\${v${i + 1}}"`).join("\n");
  const r = await load(`version: 1\nvars:\n${vars}\n  v${n}: 7\nsteps:\n${gen}`);
  assert.equal(r.vars.v0, 7);
});

Deno.test("identifiers and names have length limits", async () => {
  const id = "s".repeat(200);
  const a = await rejected(
    `version: 1\nsteps:\n  - { id: ${id}, use: gen, with: { value: 0.5 } }\n`,
  );
  assert.deepEqual(a, [`${file}:3:11: step id is 200 characters long; at most 128`]);
  const b = await rejected(`version: 1\nname: ../../victim\nsteps:\n${gen}`);
  assert.match(b[0], /:2:7: "name:" must be a folder name/);
});
