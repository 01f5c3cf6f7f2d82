/** What a newcomer meets first: quiet probes, did-you-mean, --version, init's hint, all problems at once. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { stylepipeCommand } from "../../src/util/invocation.ts";
import { gpuDeviceFilesPresent } from "../../src/neural/engines/tfjs/webgpu.ts";
import { loadRecipe } from "../../src/recipe/load.ts";
import { repo, runCli } from "./_cli.ts";
import { testImagesDir, testWeightsDirs } from "../stages/_context.ts";

const env = { STYLEPIPE_WEIGHTS: testWeightsDirs()[0], STYLEPIPE_IMAGES: testImagesDir() };

Deno.test("validate and plan under engine auto print nothing on stderr (no WebGPU probe noise)", async () => {
  for (const command of ["validate", "plan"]) {
    const r = await runCli([command, "pipelines/quick-cpu.yaml"], repo, env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "", `${command} wrote to stderr`);
  }
});

Deno.test("auto skips the adapter probe where Linux has no GPU device file", () => {
  if (Deno.build.os !== "linux") return;
  assert.equal(gpuDeviceFilesPresent(() => false), false);
  assert.equal(gpuDeviceFilesPresent((p) => p === "/dev/dri"), true);
  assert.equal(gpuDeviceFilesPresent((p) => p === "/dev/nvidia0"), true);
});

Deno.test("--version works after any command; misspelt words and options get a did-you-mean", async () => {
  const version = await runCli(["render", "--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^stylepipe \d+\.\d+\.\d+/);
  const prune = await runCli(["cache", "prne"]);
  assert.equal(prune.code, 2);
  assert.match(prune.stderr, /did you mean "prune"\?/);
  const option = await runCli(
    ["render", "pipelines/quick-cpu.yaml", "--itrations", "5"],
    repo,
    env,
  );
  assert.equal(option.code, 2);
  assert.match(
    option.stderr,
    /unknown option "--itrations" \(did you mean "--set iterations=…"\?\)/,
  );
  const other = await runCli(["plan", "pipelines/quick-cpu.yaml", "--colour", "red"], repo, env);
  assert.match(other.stderr, /a recipe variable is set with --set colour=VALUE/);
  const command = await runCli(["rendr"]);
  assert.match(command.stderr, /did you mean "render"\?/);
});

Deno.test("init suggests `deno task` inside the clone and `deno run -A <mod.ts>` elsewhere", async () => {
  const mod = pathToFileURL(join(repo, "mod.ts"));
  assert.equal(stylepipeCommand(join(repo, "pipelines"), mod), "deno task");
  assert.equal(stylepipeCommand("/", mod), `deno run -A ${join(repo, "mod.ts")}`);
  assert.equal(
    stylepipeCommand("/", new URL("https://example.org/stylepipe/mod.ts")),
    "deno run -A https://example.org/stylepipe/mod.ts",
  );
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-init-" });
  try {
    const r = await runCli(["init", "first"], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`render it with: deno run -A ${join(repo, "mod.ts")} render first\\.yaml`),
    );
    const text = await Deno.readTextFile(join(dir, "first.yaml"));
    assert.doesNotMatch(text, /deno task/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("missing weights and missing images are reported together, with commands that work there", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-missing-" });
  try {
    await Deno.copyFile(join(repo, "pipelines/quick-cpu.yaml"), join(dir, "r.yaml"));
    const r = await runCli(["validate", "r.yaml"], dir, {
      STYLEPIPE_WEIGHTS: join(dir, "none"),
      STYLEPIPE_IMAGES: join(dir, "none"),
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /input file "tubingen\.jpg" not found/);
    assert.match(r.stderr, /input file "starry_night\.jpg" not found/);
    assert.match(r.stderr, /no "vgg19" weights found/);
    // Outside the clone, the command to get them is one that works there.
    assert.ok(
      r.stderr.includes(`Run "deno run -A ${join(repo, "mod.ts")} weights vgg19"`),
      r.stderr,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadRecipe(file) needs no options object", async () => {
  const recipe = await loadRecipe(join(repo, "pipelines/photo-basics.yaml"));
  assert.deepEqual(recipe.steps.map((s) => s.id), ["photo", "small", "graded", "final"]);
});

Deno.test("the WebGPU adapter probe itself writes nothing to stderr", async () => {
  const module = pathToFileURL(join(repo, "src/neural/engines/tfjs/webgpu.ts")).href;
  const env = { ...Deno.env.toObject() };
  delete env.XDG_RUNTIME_DIR;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const m = await import("${module}"); console.log(await m.tfjsWebgpuProvider.available());`,
    ],
    cwd: repo,
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0);
  assert.match(new TextDecoder().decode(out.stdout), /^(true|false)\n$/);
  assert.equal(new TextDecoder().decode(out.stderr), "");
});
