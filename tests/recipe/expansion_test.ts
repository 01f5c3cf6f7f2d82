/**
 * Issue 22, items 2, 3 and 6 (recipe side): `--set` values pass the recipe's alias checks, variable
 * expansions are measured before they are built and refused past the budget with the chain of
 * variables, non-UTF-8 recipes are refused at the bad byte, and 60,000 unknown keys stay linear.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { RecipeError } from "../../src/recipe/errors.ts";
import { MAX_EXPANDED_VALUES } from "../../src/recipe/limits.ts";
import { loadRecipe, parseRecipe } from "../../src/recipe/load.ts";
import { matrixExtension } from "../../src/recipe/matrix.ts";
import { testRegistry } from "../pipeline/_stages.ts";

const file = "/nowhere/recipe.yaml";
const options = { registry: testRegistry(), extensions: [matrixExtension([])] };
const gen = `  - { id: g, use: gen, with: { value: 0.5 } }\n`;

async function rejected(
  text: string,
  sets?: readonly string[],
): Promise<string[]> {
  const e = await parseRecipe(text, file, { ...options, sets }).then(() => undefined, (e) => e);
  assert.ok(e instanceof RecipeError, `expected a RecipeError, got ${e}`);
  return e.message.split("\n");
}

/** Ten variables, each naming the one before ten times: 10^10 values once expanded. */
function chain(form: "list" | "text", use: string): string {
  const lines = [form === "list" ? `  l1: [x, x, x, x, x, x, x, x, x, x]` : `  l1: xxxxxxxxxx`];
  for (let i = 2; i <= 10; i++) {
    const refs = Array(10).fill(`\${l${i - 1}}`);
    lines.push(
      form === "list"
        ? `  l${i}: [${refs.map((r) => `"${r}"`).join(", ")}]`
        : `  l${i}: "${refs.join("")}"`,
    );
  }
  return `version: 1\nvars:\n${lines.join("\n")}\nsteps:\n${use}`;
}

for (const form of ["list", "text"] as const) {
  Deno.test(`a ${form} variable that multiplies past the budget is refused with its chain`, async () => {
    const t0 = performance.now();
    const lines = await rejected(
      chain(form, `${gen}  - { id: w, use: write, from: g, with: { path: "a\${l10}.png" } }\n`),
    );
    // The first variable past the budget (10^6 values, or 10^7 characters) is refused; the
    // variables using it then stay small, so the step's path is not refused again.
    assert.equal(lines.length, 1, lines.join("\n"));
    const [line, first] = form === "list" ? [8, 6] : [9, 7];
    const through = Array.from({ length: first }, (_, i) => `\\$\\{l${first - i}\\}`).join(" → ");
    assert.match(
      lines[0],
      new RegExp(
        `^/nowhere/recipe\\.yaml:${line}:7: variable "l${first}": variables expand past ` +
          `${MAX_EXPANDED_VALUES} values or \\d+ characters \\(through ${through}\\)`,
      ),
    );
    assert.ok(performance.now() - t0 < 5000, "measured, not built");
  });
}

Deno.test("an unused string chain is refused, not 'Invalid string length'", async () => {
  const lines = await rejected(chain("text", gen));
  assert.match(lines[0], /variable "l7": variables expand past/);
});

Deno.test("many references within the budget each pay: refused where the total passes it", async () => {
  const big = `[${Array(1000).fill("x").join(", ")}]`;
  const refs = Array(1200).fill(`"\${big}"`).join(", ");
  const lines = await rejected(
    `version: 1\nvars:\n  big: ${big}\nsteps:\n  - { id: g, use: gen, with: { value: 0.5, l: [${refs}] } }\n`,
  );
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^\/nowhere\/recipe\.yaml:5:\d+: variables expand past .*\$\{big\}/);
});

Deno.test("--set values pass the recipe's alias checks: a self-referring alias is refused", async () => {
  const text = `version: 1\nvars: { size: 4 }\nsteps:\n${gen}`;
  for (
    const [set, why] of [
      ["size=&a [*a]", /alias "\*a" refers to a node that contains it/],
      ["size=*b", /alias "\*b" has no anchor/],
      [`size=${"[".repeat(100)}${"]".repeat(100)}`, /nests more than 64 levels/],
    ] as const
  ) {
    const t0 = performance.now();
    const lines = await rejected(text, [set]);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /^\/nowhere\/recipe\.yaml:2:1: --set size: /);
    assert.match(lines[0], why);
    assert.ok(performance.now() - t0 < 2000);
  }
  const laughs = ["&a [x,x,x,x,x,x,x,x,x,x]"];
  for (let i = 0; i < 7; i++) {
    laughs.push(`&${"bcdefgh"[i]} [${Array(10).fill(`*${"abcdefg"[i]}`)}]`);
  }
  const lines = await rejected(text, [`size=[${laughs.join(", ")}]`]);
  assert.match(lines[0], /--set size: aliases expand the recipe to more than 1000000 values/);
  // A plain value still works.
  const recipe = await parseRecipe(text, file, { ...options, sets: ["size=8"] });
  assert.equal(recipe.vars.size, 8);
});

Deno.test("non-UTF-8 recipe bytes are refused at their line and column", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "latin1.yaml");
    const head = new TextEncoder().encode(`version: 1\nname: "caf`);
    await Deno.writeFile(path, new Uint8Array([...head, 0xe9, ...new TextEncoder().encode(`"\n`)]));
    const e = await loadRecipe(path, options).then(() => undefined, (e) => e);
    assert.ok(e instanceof RecipeError);
    assert.equal(e.issues[0].message, `byte 21 (0xe9) is not UTF-8: save the recipe as UTF-8`);
    assert.deepEqual(e.issues[0].pos, { line: 2, col: 11 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("60,000 unknown top-level keys: 20 reported, the rest counted, in linear time", async () => {
  const keys = Array.from({ length: 60_000 }, (_, i) => `k${i}: 1`).join("\n");
  const t0 = performance.now();
  const lines = await rejected(`version: 1\n${keys}\nsteps:\n${gen}`);
  assert.equal(lines.length, 21);
  assert.equal(lines[20], `${file}:22:1: … and 59980 more unknown top-level keys`);
  assert.ok(performance.now() - t0 < 20_000);
});
