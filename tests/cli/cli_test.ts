/** The CLI as a user runs it: a subprocess, its exit code and its output. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { repo, runCli } from "./_cli.ts";
import { createImage } from "../../src/image/image.ts";
import { decodeImage, encodePng } from "../../src/image/codecs.ts";

function cli(args: string[], cwd = repo) {
  return runCli(args, cwd);
}

async function workspace() {
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-cli-" });
  const img = createImage(4, 2, 0.5);
  img.data[0] = 1;
  await Deno.writeFile(join(dir, "photo.png"), await encodePng(img));
  await Deno.writeTextFile(
    join(dir, "recipe.yaml"),
    `version: 1
vars: { size: 2, out: small.png }
steps:
  - id: photo
    use: load
    with: { path: photo.png }
  - id: small
    use: resize
    from: photo
    with: { max_side: "\${size}", filter: bilinear }
  - id: graded
    use: adjust
    from: small
    with: { brightness: 0.1 }
  - id: final
    use: save
    from: graded
    with: { path: "\${out}" }
`,
  );
  return dir;
}

Deno.test("validate: misspelt parameter → exit 2, file:line:col, did-you-mean, no stack trace", async () => {
  const dir = await workspace();
  const file = join(dir, "recipe.yaml");
  const text = await Deno.readTextFile(file);
  await Deno.writeTextFile(file, text.replace("max_side:", "max_sidee:"));
  const r = await cli(["validate", "recipe.yaml"], dir);
  assert.equal(r.code, 2);
  assert.ok(
    r.stderr.includes(
      `recipe.yaml:10:13: step "small": unknown parameter "max_sidee" (did you mean "max_side"?)`,
    ),
    r.stderr,
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("validate: a cycle is named; a valid recipe exits 0", async () => {
  const dir = await workspace();
  const file = join(dir, "recipe.yaml");
  const text = await Deno.readTextFile(file);
  await Deno.writeTextFile(file, text.replace("from: photo", "from: graded"));
  const r = await cli(["validate", "recipe.yaml"], dir);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /recipe\.yaml:7:5: step "small": steps form a cycle: small → graded → small/,
  );
  await Deno.writeTextFile(file, text);
  const ok = await cli(["validate", "recipe.yaml"], dir);
  assert.equal(ok.code, 0, ok.stderr);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("render twice: second run all cached; --set out recomputes only save", async () => {
  const dir = await workspace();
  const first = await cli(["render", "recipe.yaml", "--json"], dir);
  assert.equal(first.code, 0, first.stderr);
  const lines = (s: string) => s.trim().split("\n").map((l) => JSON.parse(l));
  const finished = (s: string) => lines(s).at(-1);
  assert.deepEqual(finished(first.stdout).steps.map((s: { status: string }) => s.status), [
    "ran",
    "ran",
    "ran",
    "ran",
  ]);
  assert.ok((await Deno.stat(join(dir, "out", "small.png"))).isFile);

  const second = await cli(["render", "recipe.yaml", "--json"], dir);
  const done = finished(second.stdout);
  assert.deepEqual(done.steps.map((s: { status: string }) => s.status), [
    "cached",
    "cached",
    "cached",
    "cached",
  ]);
  assert.ok(done.seconds < 1, `second run: ${done.seconds} s`);

  const third = await cli(["render", "recipe.yaml", "--json", "--set", "out=other.png"], dir);
  assert.deepEqual(
    finished(third.stdout).steps.map((s: { status: string }) => s.status),
    ["cached", "cached", "cached", "ran"],
  );
  const pixels = async (name: string) =>
    (await decodeImage(await Deno.readFile(join(dir, "out", name)))).data;
  assert.deepEqual(await pixels("other.png"), await pixels("small.png"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("render prints a timing table; usage errors exit 2; --help exits 0", async () => {
  const dir = await workspace();
  const r = await cli(["render", "recipe.yaml", "--no-cache", "--out-dir", "elsewhere"], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /step\s+stage\s+status\s+seconds/);
  assert.match(r.stdout, /final\s+save\s+ran\s+\d+\.\d{3}/);
  assert.ok((await Deno.stat(join(dir, "elsewhere", "small.png"))).isFile);
  await assert.rejects(Deno.stat(join(dir, ".stylepipe")));

  const bad = await cli(["render", "recipe.yaml", "--bogus"], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /render: .*--bogus/);
  const help = await cli(["render", "--help"], dir);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--set name=value/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a runtime failure exits 1 with one line naming the step", async () => {
  const dir = await workspace();
  await Deno.writeFile(join(dir, "photo.png"), new TextEncoder().encode("not a png"));
  const r = await cli(["render", "recipe.yaml"], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: step "photo": cannot decode image/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("stages lists parameters with defaults; plan shows order and cache state", async () => {
  const stages = await cli(["stages"]);
  assert.equal(stages.code, 0);
  assert.match(stages.stdout, /^resize \(v\d+\)/m);
  assert.match(
    stages.stdout,
    /filter\s+"nearest" \| "bilinear" \| "bicubic" \| "lanczos3"\s+"lanczos3"/,
  );
  const dir = await workspace();
  const plan = await cli(["plan", "recipe.yaml"], dir);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /1\s+photo\s+load\s+-\s+no/);
  assert.match(plan.stdout, /4\s+final\s+save\s+graded\s+no/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the committed recipe schema covers every built-in stage", async () => {
  const r = await cli(["schema", "--out", "-"]);
  assert.equal(r.code, 0);
  const generated = JSON.parse(r.stdout);
  const committed = JSON.parse(await Deno.readTextFile(join(repo, "pipelines/recipe.schema.json")));
  const stageNames = (
    s: { properties: { steps: { items: { properties: { use: { enum: string[] } } } } } },
  ) => s.properties.steps.items.properties.use.enum;
  assert.deepEqual(
    stageNames(committed),
    stageNames(generated),
    "run `deno task schema` and commit it",
  );
});
