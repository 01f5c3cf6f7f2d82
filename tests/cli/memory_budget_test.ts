/**
 * `--memory` as a user meets it (issue 20): `plan` shows the tiling the budget needs (the print
 * case, 4096×3072 in 4 GiB, is a tiled plan within the budget where it used to be refused), and a
 * render under a budget the whole image would exceed finishes tiled with its peak resident memory
 * (measured by /usr/bin/time in the child) inside the budget, where the whole-image render's is not.
 */
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { repo, runCli } from "./_cli.ts";
import { testImagesDir, testWeightsDirs } from "../stages/_context.ts";

const env = {
  STYLEPIPE_WEIGHTS: resolve(testWeightsDirs()[0]),
  STYLEPIPE_IMAGES: resolve(testImagesDir()),
};
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

interface Row {
  step: string;
  evaluation?: string;
  tiling?: { tile: number; halo: number; rows: number; cols: number };
  bytes?: number;
}

async function planJson(args: string[]) {
  const r = await runCli(["plan", ...args, "--json"], repo, env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { memory: number; steps: Row[]; warnings: string[] };
}

Deno.test("plan: 4096×3072 within 4 GiB is a tiled plan, not a refusal", async () => {
  const recipe = "pipelines/tubingen-starry-conv3.yaml";
  const sets = ["--set", "size=4096", "--set", "iterations=5", "--engine", "onnx"];
  const whole = await planJson([recipe, ...sets, "--memory", "1000GB"]);
  const unbounded = whole.steps.find((r) => r.step === "transfer")!;
  assert.equal(unbounded.evaluation, "whole");
  assert.ok(unbounded.bytes! > 4 * GiB);
  const plan = await planJson([recipe, ...sets, "--memory", "4GiB"]);
  assert.equal(plan.memory, 4 * GiB);
  assert.deepEqual(plan.warnings, []);
  for (const id of ["features", "transfer"]) {
    const row = plan.steps.find((r) => r.step === id)!;
    assert.ok(row.bytes! <= 4 * GiB, `${id}: ${row.bytes}`);
    const t = row.tiling!;
    assert.match(
      row.evaluation!,
      new RegExp(`^tiled ${t.cols}×${t.rows}, ${t.tile} px \\+ 16 px halo`),
    );
    assert.ok(t.rows * t.cols > 1);
  }
  const text = await runCli(["plan", recipe, ...sets, "--memory", "4GiB"], repo, env);
  assert.match(text.stdout, /memory budget 4\.00 GiB/);
  assert.match(text.stdout, /transfer +style-transfer .* tiled \d+×\d+, \d+ px \+ 16 px halo/);
});

Deno.test("plan: --memory must be a size", async () => {
  const r = await runCli(["plan", "pipelines/print.yaml", "--memory", "lots"], repo, env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /plan: --memory "lots": expected e\.g\. 500MB, 2GB, 1GiB/);
});

const RECIPE = `version: 1
engine: onnx
steps:
  - { id: content, use: load, with: { path: tubingen.jpg } }
  - { id: photo, use: resize, from: content, with: { max_side: 512 } }
  - { id: style, use: load, with: { path: starry_night.jpg } }
  - id: features
    use: extract-features
    from: { content: photo, style: [style] }
    with: { content_layers: [relu3_2], style_layers: [relu1_1, relu2_1, relu3_1] }
  - id: transfer
    use: style-transfer
    from: features
    with: { iterations: 2, line_search: none, checkpoint_every: 0 }
  - { id: final, use: save, from: transfer, with: { path: out.png } }
`;

/** Peak RSS in bytes of a `render` child, from /usr/bin/time -v. */
async function renderPeak(dir: string, memory: string): Promise<number> {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-v", Deno.execPath(), "run", "-A", join(repo, "mod.ts"), "render", "r.yaml"]
      .concat(["--no-cache", "--memory", memory, "--out-dir", join(dir, memory)]),
    cwd: dir,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  return Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)![1]) * 1024;
}

Deno.test({
  name: "render under a budget the whole image exceeds: tiled, peak RSS within the budget",
  ignore: !(await exists("/usr/bin/time")),
  async fn() {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(join(dir, "r.yaml"), RECIPE);
    const budget = 700 * MiB;
    const plan = await runCli(["plan", "r.yaml", "--json", "--memory", "700MiB"], dir, env);
    assert.equal(plan.code, 0, plan.stderr);
    const rows = JSON.parse(plan.stdout).steps as Row[];
    const transfer = rows.find((r) => r.step === "transfer")!;
    assert.ok(transfer.tiling, JSON.stringify(transfer));
    const tiled = await renderPeak(dir, "700MiB");
    const whole = await renderPeak(dir, "64GiB");
    console.log(
      `peak RSS: tiled ${(tiled / MiB).toFixed(0)} MiB, whole ${(whole / MiB).toFixed(0)} MiB`,
    );
    assert.ok(tiled <= budget, `tiled peak ${tiled / MiB} MiB over ${budget / MiB} MiB`);
    assert.ok(whole > budget, `whole peak ${whole / MiB} MiB: pick a larger image`);
    await Deno.remove(dir, { recursive: true });
  },
});

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
