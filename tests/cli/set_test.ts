/** --set on the command line: errors it causes say so; it can replace a matrix: axis. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { planCliRecipe } from "../../src/cli/load.ts";
import { schemaCommand } from "../../src/cli/schema.ts";
import { RecipeError } from "../../src/recipe/errors.ts";
import { repoRoot } from "../stages/_context.ts";

const RECIPE = `version: 1
vars: { size: 64, stem: x, out: "\${stem}.png" }
matrix:
  style: [starry_night.jpg]
steps:
  - { id: photo, use: load, with: { path: tubingen.jpg } }
  - { id: small, use: resize, from: photo, with: { max_side: "\${size}" } }
  - { id: st, use: load, with: { path: "\${style}" } }
  - { id: final, use: save, from: small, with: { path: "\${style_name}-\${out}" } }
`;

async function withRecipe(fn: (file: string, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-set-" });
  try {
    await Deno.writeTextFile(join(dir, "r.yaml"), RECIPE);
    await fn(join(dir, "r.yaml"), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function messages(file: string, dir: string, sets: string[]): Promise<string[]> {
  try {
    await planCliRecipe(file, { sets, outDir: join(dir, "out") });
  } catch (e) {
    if (e instanceof RecipeError) {
      return e.issues.map((i) => `${i.pos.line}:${i.pos.col} ${i.message}`);
    }
    throw e;
  }
  return [];
}

Deno.test("a bad --set value is reported at its use, naming the --set (also through other vars)", async () => {
  await withRecipe(async (file, dir) => {
    assert.deepEqual(await messages(file, dir, ["size=abc"]), [
      `7:62 parameter "max_side": invalid input: expected number, received string (from --set size=abc)`,
    ]);
    const [outside] = await messages(file, dir, ["stem=../../../x"]);
    assert.match(
      outside,
      /^9:56 output .* is outside the output directory .*\(from --set stem=\.\.\/\.\.\/\.\.\/x\)$/,
    );
    // Without --set the same problem carries no such note.
    const bad = RECIPE.replace("size: 64", "size: abc");
    await Deno.writeTextFile(file, bad);
    const [plain] = await messages(file, dir, []);
    assert.doesNotMatch(plain, /--set/);
  });
});

Deno.test("--set replaces a matrix: axis (a list or a glob); its errors name the --set", async () => {
  await withRecipe(async (file, dir) => {
    const plan = await planCliRecipe(file, {
      sets: ["style=[the_scream.jpg, shipwreck.jpg]"],
      outDir: join(dir, "out"),
    });
    assert.deepEqual(plan.steps.map((s) => s.step.id).filter((id) => id.startsWith("final")), [
      "final-the_scream",
      "final-shipwreck",
    ]);
    const [none] = await messages(file, dir, ["style=nothing*.jpg"]);
    assert.match(none, /^4:10 "nothing\*\.jpg" matches no file .*\(from --set style\)$/);
  });
});

Deno.test("schema --plugins includes the plugin's stages; plugin files need --plugins", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-schema-" });
  try {
    const out = join(dir, "schema.json");
    const plugin = join(repoRoot, "tests/plugins/stages/invert.ts");
    assert.equal(await schemaCommand(["--out", out, "--plugins", plugin]), 0);
    const stages = JSON.parse(await Deno.readTextFile(out))
      .properties.steps.items.properties.use.enum as string[];
    assert.ok(stages.includes("invert"), stages.join(", "));
    assert.ok(stages.includes("resize"));
    assert.equal(await schemaCommand(["--out", out, plugin]), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
