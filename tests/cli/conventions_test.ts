/**
 * Conventions: --version, did-you-mean for commands and flags, stages NAME, init; every module's
 * npm imports pinned (importable without deno.json).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { repo, runCli } from "./_cli.ts";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";
import { STAGE_EXAMPLES } from "../../src/cli/stage_examples.ts";
import { stageText } from "../../src/cli/stages.ts";
import { starterRecipe } from "../../src/cli/init.ts";
import { listWeights } from "../../src/cli/weights.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { testWeightsDirs } from "../stages/_context.ts";
import { pinImports } from "../../tools/pin_imports.ts";

function cli(args: string[], cwd = repo) {
  return runCli(args, cwd);
}

Deno.test("--version prints deno.json's version; a misspelt command gets a did-you-mean", async () => {
  const config = JSON.parse(await Deno.readTextFile(join(repo, "deno.json")));
  const version = await cli(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, new RegExp(`^stylepipe ${config.version.replaceAll(".", "\\.")} `));
  const typo = await cli(["rendr", "x.yaml"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /^error: unknown command "rendr" \(did you mean "render"\?\)/);
});

Deno.test("flags: did-you-mean, missing values and flag values are usage errors in our words", async () => {
  const typo = await cli(["render", "x.yaml", "--no-cahce"]);
  assert.equal(typo.code, 2);
  assert.equal(
    typo.stderr.trim(),
    `error: render: unknown option "--no-cahce" (did you mean "--no-cache"?) (see --help)`,
  );
  const missing = await cli(["render", "x.yaml", "--set"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /render: --set needs a value/);
  const valued = await cli(["validate", "x.yaml", "--json=yes"]);
  assert.equal(valued.code, 2);
  assert.match(valued.stderr, /validate: --json takes no value/);
  for (const r of [typo, missing, valued]) {
    assert.doesNotMatch(r.stderr, /To specify a positional|ERR_PARSE_ARGS|Option '/);
  }
  const both = await cli(["render", "x.yaml", "-q", "-v"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--quiet and --verbose exclude each other/);
});

Deno.test("stages NAME shows one stage with its example; unknown names get a did-you-mean", () => {
  const registry = builtinStages();
  const text = stageText(registry, "resize");
  assert.match(text, /^resize \(v\d+\): /);
  assert.match(text, /example \(under steps:\):\n {4}- \{ id: small, use: resize/);
  assert.throws(
    () => stageText(registry, "rezise"),
    /unknown stage "rezise" \(did you mean "resize"\?\)/,
  );
  for (const stage of registry.all()) {
    assert.doesNotMatch(stageText(registry, stage.name), /9007199254740991/, stage.name);
  }
});

Deno.test("every built-in stage has an example, and each example is a valid step", async () => {
  const registry = builtinStages();
  assert.deepEqual(Object.keys(STAGE_EXAMPLES).sort(), registry.all().map((s) => s.name).sort());
  // The steps the examples read from, each defined by another stage's example.
  const base = ["load", "extract-features", "style-transfer"].map((n) => STAGE_EXAMPLES[n]);
  const painting = `- { id: painting, use: load, with: { path: starry_night.jpg } }`;
  for (const [name, example] of Object.entries(STAGE_EXAMPLES)) {
    const steps = [...base, painting, ...(base.includes(example) ? [] : [example])];
    const text = `version: 1\nsteps:\n${steps.map((s) => s.replace(/^/gm, "  ")).join("\n")}\n`;
    const recipe = await parseRecipe(text, join(repo, "pipelines", `${name}.yaml`), {
      registry: builtinStages(),
      weightsDirs: testWeightsDirs(),
    });
    assert.ok(recipe.steps.some((s) => s.stage.name === name), name);
  }
});

Deno.test("init's starter recipe validates; init refuses to overwrite without --force", async () => {
  const recipe = await parseRecipe(
    starterRecipe("starter", "recipe.schema.json"),
    join(repo, "pipelines", "starter.yaml"),
    { registry: builtinStages(), weightsDirs: testWeightsDirs() },
  );
  assert.deepEqual(recipe.steps.map((s) => s.id), [
    "content",
    "photo",
    "style",
    "features",
    "transfer",
    "final",
  ]);
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-init-" });
  try {
    const first = await cli(["init", "mine"], dir);
    assert.equal(first.code, 0, first.stderr);
    const text = await Deno.readTextFile(join(dir, "mine.yaml"));
    const schema = text.match(/^# yaml-language-server: \$schema=(.+)$/m)![1];
    assert.ok((await Deno.stat(join(dir, schema))).isFile, `schema path ${schema} resolves`);
    const again = await cli(["init", "mine"], dir);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /mine\.yaml exists; pass --force/);
    assert.equal((await cli(["init", "mine", "--force"], dir)).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("weights list shows the installed model, its deepest layer and verification", async () => {
  const text = await listWeights(testWeightsDirs());
  assert.match(text, /vgg19\s+\S+vgg19\s+8 \(partial\)\s+relu3_4\s+yes/);
  const empty = await Deno.makeTempDir();
  try {
    assert.match(await listWeights([empty]), /^no weights installed in .*deno task weights vgg19/);
  } finally {
    await Deno.remove(empty);
  }
});

Deno.test("every shipped recipe validates against the committed JSON Schema (ajv)", async () => {
  const schema = JSON.parse(await Deno.readTextFile(join(repo, "pipelines/recipe.schema.json")));
  const validate = new Ajv.default({ allErrors: true, strict: false }).compile(schema);
  const dir = join(repo, "pipelines");
  let count = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".yaml")) continue;
    const recipe = parseYaml(await Deno.readTextFile(join(dir, entry.name)));
    assert.ok(validate(recipe), `${entry.name}: ${JSON.stringify(validate.errors)}`);
    count++;
  }
  assert.ok(count >= 9, `${count} recipes`);
});

Deno.test("every module imports npm packages as npm:name@version, deno.json's version (imports without deno.json)", async () => {
  const unpinned = await pinImports(["mod.ts", "src"], { check: true });
  assert.deepEqual(
    unpinned.map((u) => `${u.file}:${u.line}: "${u.specifier}" → "${u.pinned}"`),
    [],
    "run: deno run -A tools/pin_imports.ts",
  );
});
