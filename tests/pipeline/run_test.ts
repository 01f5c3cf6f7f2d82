import assert from "node:assert/strict";
import { join } from "node:path";
import { parseRecipe } from "../../src/recipe/load.ts";
import { CacheStore } from "../../src/pipeline/cache.ts";
import type { RunEvent } from "../../src/pipeline/events.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { RunAbortedError, runPlan, StepFailedError } from "../../src/pipeline/run.ts";
import { runs, testRegistry } from "./_stages.ts";

const recipe = (out = "out.txt", amount = 0.25) =>
  `version: 1
steps:
  - { id: n, use: number, with: { path: n.txt } }
  - { id: g, use: gen, with: { value: 0.5 } }
  - { id: m, use: mix, from: { a: n, b: g } }
  - { id: plus, use: add, from: m, with: { amount: ${amount} } }
  - { id: save, use: write, from: plus, with: { path: ${out} } }
`;

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-run-" });
  await Deno.writeTextFile(join(dir, "n.txt"), "0.25");
  return dir;
}

async function render(
  dir: string,
  text: string,
  options: { signal?: AbortSignal; cache?: boolean } = {},
) {
  runs.clear();
  const events: RunEvent[] = [];
  const r = await parseRecipe(text, join(dir, "recipe.yaml"), { registry: testRegistry() });
  const plan = await planRecipe(r, { outDir: join(dir, "out"), imageDirs: [] });
  const result = await runPlan(plan, {
    cache: options.cache === false ? null : new CacheStore(join(dir, "cache")),
    onEvent: (e) => events.push(e),
    signal: options.signal,
    engineFactory: () => Promise.reject(new Error("no engine in these tests")),
  });
  const status = Object.fromEntries(result.steps.map((s) => [s.step, s.status]));
  return { result, events, status, plan };
}

Deno.test("runs in dependency order and writes the output", async () => {
  const dir = await setup();
  const { status, result } = await render(dir, recipe());
  assert.deepEqual(status, { n: "ran", g: "ran", m: "ran", plus: "ran", save: "ran" });
  // (0.25 + 0.5) / 2 + 0.25 = 0.625 in each of the 2×2×3 samples — n is 1×1, so mix reads a[0..]
  const text = await Deno.readTextFile(join(dir, "out", "out.txt"));
  assert.equal(text.trim().split(" ")[0], "0.6250");
  assert.deepEqual(result.outputs, [join(dir, "out", "out.txt")]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("second run: every step cached, nothing recomputed, values not even read", async () => {
  const dir = await setup();
  await render(dir, recipe());
  const t0 = performance.now();
  const { status, result, events } = await render(dir, recipe());
  const ms = performance.now() - t0;
  assert.deepEqual(status, {
    n: "cached",
    g: "cached",
    m: "cached",
    plus: "cached",
    save: "cached",
  });
  assert.equal(runs.size, 0);
  assert.deepEqual([...result.values.keys()], ["save"]);
  assert.equal(events.filter((e) => e.type === "step-started").length, 0);
  assert.ok(ms < 1000, `second run took ${ms} ms`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("editing only the save path recomputes only save", async () => {
  const dir = await setup();
  await render(dir, recipe("a.txt"));
  const { status } = await render(dir, recipe("b.txt"));
  assert.deepEqual(status, { n: "cached", g: "cached", m: "cached", plus: "cached", save: "ran" });
  assert.deepEqual(Object.fromEntries(runs), { write: 1 });
  assert.equal(
    await Deno.readTextFile(join(dir, "out", "a.txt")),
    await Deno.readTextFile(join(dir, "out", "b.txt")),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("changing an input file's content recomputes what depends on it", async () => {
  const dir = await setup();
  await render(dir, recipe());
  await Deno.writeTextFile(join(dir, "n.txt"), "0.75");
  const { status } = await render(dir, recipe());
  assert.deepEqual(status, { n: "ran", g: "cached", m: "ran", plus: "ran", save: "ran" });
  const text = await Deno.readTextFile(join(dir, "out", "out.txt"));
  assert.equal(text.split(" ")[0], "0.8750");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a deleted output file is written again", async () => {
  const dir = await setup();
  await render(dir, recipe());
  await Deno.remove(join(dir, "out", "out.txt"));
  const { status } = await render(dir, recipe());
  assert.equal(status.save, "ran");
  assert.equal(status.plus, "cached");
  assert.ok((await Deno.stat(join(dir, "out", "out.txt"))).isFile);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a corrupted cache entry is detected, recomputed and never used", async () => {
  const dir = await setup();
  const first = await render(dir, recipe("a.txt"));
  const plusKey = first.plan.steps.find((p) => p.step.id === "plus")!.key;
  const cache = new CacheStore(join(dir, "cache"));
  const entry = await Deno.readFile(cache.entryPath(plusKey));
  entry[entry.length - 40] ^= 0xff; // flip bits in the float data
  await Deno.writeFile(cache.entryPath(plusKey), entry);
  const { status, events } = await render(dir, recipe("b.txt"));
  assert.equal(status.plus, "ran");
  assert.equal(status.save, "ran");
  assert.equal(status.m, "cached");
  assert.ok(events.some((e) => e.type === "step-warning" && /checksum mismatch/.test(e.message)));
  assert.equal(
    await Deno.readTextFile(join(dir, "out", "b.txt")),
    await Deno.readTextFile(join(dir, "out", "a.txt")),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--no-cache (cache: null) recomputes everything and writes no cache", async () => {
  const dir = await setup();
  await render(dir, recipe(), { cache: false });
  const { status } = await render(dir, recipe(), { cache: false });
  assert.deepEqual(Object.values(status), ["ran", "ran", "ran", "ran", "ran"]);
  await assert.rejects(Deno.stat(join(dir, "cache")));
  await Deno.remove(dir, { recursive: true });
});

const slowRecipe = `version: 1
steps:
  - { id: g, use: gen, with: { value: 0.5 } }
  - { id: s, use: slow, from: g, with: { iterations: 200 } }
  - { id: save, use: write, from: s, with: { path: slow.txt } }
`;

Deno.test("abort stops the run, reports it, and leaves no partial output", async () => {
  const dir = await setup();
  const controller = new AbortController();
  const events: RunEvent[] = [];
  const r = await parseRecipe(slowRecipe, join(dir, "recipe.yaml"), { registry: testRegistry() });
  const plan = await planRecipe(r, { outDir: join(dir, "out"), imageDirs: [] });
  const run = runPlan(plan, {
    cache: new CacheStore(join(dir, "cache")),
    signal: controller.signal,
    onEvent: (e) => {
      events.push(e);
      if (e.type === "step-progress" && e.progress.iteration === 3) controller.abort();
    },
  });
  await assert.rejects(run, RunAbortedError);
  const finished = events.at(-1)!;
  assert.equal(finished.type, "run-finished");
  assert.equal(finished.type === "run-finished" && finished.aborted, true);
  await assert.rejects(Deno.stat(join(dir, "out", "slow.txt")));
  const leftovers = [];
  for await (const e of Deno.readDir(dir)) leftovers.push(e.name);
  assert.ok(!leftovers.some((n) => n.endsWith(".tmp")));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a failing step is named, later steps are skipped, progress was reported", async () => {
  const dir = await setup();
  const text = slowRecipe.replace("iterations: 200", "iterations: 5, fail_at: 3");
  const events: RunEvent[] = [];
  const r = await parseRecipe(text, join(dir, "recipe.yaml"), { registry: testRegistry() });
  const plan = await planRecipe(r, { outDir: join(dir, "out"), imageDirs: [] });
  const err = await runPlan(plan, { cache: null, onEvent: (e) => events.push(e) }).catch((e) => e);
  assert.ok(err instanceof StepFailedError);
  assert.equal(err.message, `step "s": failed at iteration 3`);
  const progress = events.filter((e) => e.type === "step-progress").length;
  assert.equal(progress, 2);
  const done = events.at(-1);
  assert.ok(done?.type === "run-finished");
  assert.deepEqual(done.steps.map((s) => s.status), ["ran", "failed", "skipped"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("outputs outside the output folder are refused unless allowed", async () => {
  const dir = await setup();
  const text = recipe("../escape.txt");
  await assert.rejects(render(dir, text), /outside the output directory/);
  const allowed = await render(dir, "allow_outside_output: true\n" + text);
  assert.equal(allowed.status.save, "ran");
  assert.ok((await Deno.stat(join(dir, "escape.txt"))).isFile);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a missing input file is a positioned recipe error saying where to put it", async () => {
  const dir = await setup();
  await Deno.remove(join(dir, "n.txt"));
  await assert.rejects(
    render(dir, recipe()),
    (e: Error) =>
      e.message.startsWith(
        join(dir, "recipe.yaml") + ':3:41: step "n": input file "n.txt" not found',
      ) &&
      e.message.includes("$STYLEPIPE_IMAGES"),
  );
  await Deno.remove(dir, { recursive: true });
});
