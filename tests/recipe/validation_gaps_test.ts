/**
 * Issue 22, item 6 (validation gaps): seeds outside 0 … 2³²−1, a duplicate step id in a `matrix:`
 * recipe, `save_name` outside the output folder, a content image too small for the layers, and
 * control characters in echoed paths are all reported by validation, positioned.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { formatIssue, RecipeError } from "../../src/recipe/errors.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import { matrixExtension } from "../../src/recipe/matrix.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { blankPng } from "../image/_blank_png.ts";
import { testRegistry } from "../pipeline/_stages.ts";

const file = "/nowhere/recipe.yaml";
const gen = `  - { id: g, use: gen, with: { value: 0.5 } }\n`;
const load = (text: string) =>
  parseRecipe(text, file, { registry: testRegistry(), extensions: [matrixExtension([])] });
const messages = (text: string) =>
  load(text).then(() => [], (e) => (e as RecipeError).issues.map(formatIssue));

Deno.test("seeds outside 0 … 2³²−1 are refused (they would repeat seed 0's pixels)", async () => {
  for (const seed of ["4294967296", "18446744073709551616", "1e308", "-1"]) {
    const [m] = await messages(`version: 1\nseed: ${seed}\nsteps:\n${gen}`);
    assert.match(
      m,
      /^\/nowhere\/recipe\.yaml:2:7: "seed:" must be a whole number from 0 to 4294967295/,
    );
  }
  assert.equal((await load(`version: 1\nseed: 4294967295\nsteps:\n${gen}`)).seed, 4294967295);
});

Deno.test("a duplicate step id is refused in a matrix: recipe too", async () => {
  const text = `version: 1\nmatrix: { v: [0.1, 0.2] }\nsteps:\n` +
    `  - { id: g, use: gen, with: { value: "\${v}" } }\n  - { id: g, use: gen, with: { value: 0.5 } }\n`;
  assert.deepEqual(await messages(text), [
    `${file}:5:11: step "g": duplicate step id (first used at line 4)`,
  ]);
});

Deno.test("control characters and ANSI escapes in echoed paths are shown escaped", async () => {
  const [m] = await messages(`version: 1\nsteps:\n  - { id: g, use: "gen\\e[2J\\u0007" }\n`);
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(m), JSON.stringify(m));
  assert.match(m, /gen\\x1b\[2J\\x07/);
  assert.equal(
    formatIssue({ file: "/tmp/\x1b]0;pwned\x07.yaml", pos: { line: 1, col: 1 }, message: "x" }),
    "/tmp/\\x1b]0;pwned\\x07.yaml:1:1: x",
  );
});

Deno.test("save_name outside the output folder and a 1×1 content image are refused at plan", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(join(dir, "dot.png"), blankPng(1, 1));
    await Deno.writeFile(join(dir, "style.png"), blankPng(64, 64));
    const recipe = (content: string, transfer: string) =>
      parseRecipe(
        `version: 1
steps:
  - { id: c, use: load, with: { path: ${content} } }
  - { id: s, use: load, with: { path: style.png } }
  - id: f
    use: extract-features
    from: { content: c, style: s }
    with: { content_layers: [relu3_2], style_layers: [relu1_1, relu2_1, relu3_1] }
  - { id: t, use: style-transfer, from: f, with: { iterations: 2${transfer} } }
`,
        join(dir, "r.yaml"),
        { registry: builtinStages() },
      );
    const refused = async (content: string, transfer: string) => {
      const e = await planRecipe(await recipe(content, transfer), {
        outDir: join(dir, "out"),
        imageDirs: [],
      }).then(() => undefined, (e) => e);
      assert.ok(e instanceof RecipeError, String(e));
      return e.issues.map(formatIssue);
    };
    assert.deepEqual(
      await refused("style.png", `, save_every: 1, save_name: "../../escaped-{iteration}.png"`),
      [
        `${join(dir, "r.yaml")}:9:50: step "t": output "../../escaped-0000.png" is outside the ` +
        `output directory ${join(dir, "out")}; use a relative path, or set ` +
        `"allow_outside_output: true" in the recipe`,
      ],
    );
    const [small] = await refused("dot.png", "");
    assert.match(
      small,
      /r\.yaml:8:11: step "f": the content image is 1×1; the layers asked for need at least 4×4 pixels/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
