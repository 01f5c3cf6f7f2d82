/**
 * A cache that cannot lie (issue 12, finding 3): keys carry the hash of every model file a step
 * reads, an entry is bound to its key, and a damaged entry an output's provenance needs is
 * recomputed (with a warning), so the output is byte-identical to a clean render.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createImage } from "../../src/image/image.ts";
import { encodePng } from "../../src/image/codecs.ts";
import { syntheticVggWeights } from "../../src/neural/models/synthetic.ts";
import { writeWeightsDir } from "../../src/neural/models/write_weights_dir.ts";
import { CacheStore } from "../../src/pipeline/cache.ts";
import type { RunEvent } from "../../src/pipeline/events.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { runs, testRegistry } from "./_stages.ts";

Deno.test("other weights (valid ones) change the keys of the steps that read them", async () => {
  const dir = await Deno.makeTempDir();
  for (const seed of [1, 2]) {
    const w = syntheticVggWeights("vgg19", seed, "conv1_2");
    await writeWeightsDir(join(dir, `w${seed}`, "vgg19"), "vgg19", w.convs, {
      generatedBy: "test",
    });
  }
  await Deno.writeFile(join(dir, "photo.png"), await encodePng(createImage(8, 8, 0.5)));
  const text = `version: 1
engine: cpu
steps:
  - { id: photo, use: load, with: { path: photo.png } }
  - id: f
    use: extract-features
    from: { content: photo, style: [photo] }
    with: { content_layers: [relu1_1], style_layers: [relu1_1] }
  - { id: t, use: style-transfer, from: f, with: { iterations: 1 } }
`;
  const keys = async (weights: string) => {
    const recipe = await parseRecipe(text, join(dir, "r.yaml"), {
      registry: builtinStages(),
      weightsDirs: [join(dir, weights)],
    });
    const plan = await planRecipe(recipe, { weightsDirs: [join(dir, weights)], imageDirs: [] });
    return Object.fromEntries(plan.steps.map((p) => [p.step.id, p.key]));
  };
  const a = await keys("w1");
  const b = await keys("w2");
  assert.equal(a.photo, b.photo, "steps that read no weights keep their key");
  assert.notEqual(a.f, b.f);
  assert.notEqual(a.t, b.t);
  assert.deepEqual(await keys("w1"), a, "the same weights give the same keys");
  await Deno.remove(dir, { recursive: true });
});

const recipe = `version: 1
steps:
  - { id: g, use: gen, with: { value: 0.5 } }
  - { id: plus, use: add, from: g, with: { amount: 0.25 } }
  - { id: minus, use: add, from: g, with: { amount: -0.25 } }
  - { id: w, use: write, from: plus, with: { path: plus.txt } }
`;

async function render(dir: string, text = recipe) {
  runs.clear();
  const events: RunEvent[] = [];
  const r = await parseRecipe(text, join(dir, "recipe.yaml"), { registry: testRegistry() });
  const plan = await planRecipe(r, { outDir: join(dir, "out"), imageDirs: [] });
  const result = await runPlan(plan, {
    cache: new CacheStore(join(dir, "cache")),
    onEvent: (e) => events.push(e),
  });
  const status = Object.fromEntries(result.steps.map((s) => [s.step, s.status]));
  return { plan, status, events };
}

Deno.test("an entry copied under another step's key is rejected, never served", async () => {
  const dir = await Deno.makeTempDir();
  const { plan } = await render(dir);
  const key = (id: string) => plan.steps.find((p) => p.step.id === id)!.key;
  const cache = new CacheStore(join(dir, "cache"));
  await Deno.writeFile(
    cache.entryPath(key("plus")),
    await Deno.readFile(cache.entryPath(key("minus"))),
  );
  await Deno.remove(join(dir, "out", "plus.txt"));
  const { status, events } = await render(dir);
  assert.equal(status.plus, "ran");
  assert.ok(events.some((e) => e.type === "step-warning" && /another key/.test(e.message)));
  assert.equal((await Deno.readTextFile(join(dir, "out", "plus.txt"))).split(" ")[0], "0.7500");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a damaged ancestor entry is recomputed for the record, with a warning, not dropped", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(join(dir, "photo.png"), await encodePng(createImage(4, 4, 0.25)));
  const text = `version: 1
steps:
  - { id: photo, use: load, with: { path: photo.png } }
  - { id: small, use: resize, from: photo, with: { width: 2 } }
  - { id: out, use: save, from: small, with: { path: out.png } }
`;
  const run = async (cache: CacheStore | null) => {
    const r = await parseRecipe(text, join(dir, "recipe.yaml"), { registry: builtinStages() });
    const plan = await planRecipe(r, { outDir: join(dir, "out"), imageDirs: [] });
    const events: RunEvent[] = [];
    await runPlan(plan, { cache, onEvent: (e) => events.push(e) });
    return { plan, events };
  };
  const clean = await run(null);
  const bytes = await Deno.readFile(join(dir, "out", "out.png"));
  const cache = new CacheStore(join(dir, "cache"));
  await run(cache);
  const photoKey = clean.plan.steps.find((p) => p.step.id === "photo")!.key;
  const entry = await Deno.readFile(cache.entryPath(photoKey));
  entry[entry.length - 1] ^= 1;
  await Deno.writeFile(cache.entryPath(photoKey), entry);
  await Deno.remove(join(dir, "out", "out.png")); // save must run; `small` is cached
  const { events } = await run(cache);
  assert.ok(events.some((e) => e.type === "step-warning" && e.step === "photo"));
  assert.deepEqual(await Deno.readFile(join(dir, "out", "out.png")), bytes);
  const sidecar = JSON.parse(await Deno.readTextFile(join(dir, "out", "out.png.json")));
  assert.deepEqual(Object.keys(sidecar.results).sort(), ["photo", "small"]);
  await Deno.remove(dir, { recursive: true });
});
