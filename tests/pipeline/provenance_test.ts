import assert from "node:assert/strict";
import { join } from "node:path";
import { encodePng } from "../../src/image/codecs.ts";
import { createImage } from "../../src/image/image.ts";
import denoConfig from "../../deno.json" with { type: "json" };
import {
  ancestors,
  buildProvenanceRecord,
  embedProvenance,
  extractProvenance,
  ProvenanceError,
  readProvenance,
  type RecordFacts,
  writeSidecar,
} from "../../src/pipeline/provenance.ts";
import { sidecarPath } from "../../src/pipeline/paths.ts";
import { z } from "zod";
import type { Engine } from "../../src/neural/engines/engine.ts";
import { CacheStore } from "../../src/pipeline/cache.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { loadRecipe } from "../../src/recipe/load.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { imageOf, type Stage } from "../../src/stages/stage.ts";
import { testImagesDir } from "../stages/_context.ts";

const step = (id: string, use: string, params: unknown, inputs: Record<string, string[]> = {}) => ({
  id,
  use,
  params,
  inputs,
  stage: { version: 1 },
});

function facts(size = 24): RecordFacts {
  return {
    recipe: {
      file: "/r/recipe.yaml",
      name: "demo",
      seed: 42,
      engine: "auto",
      steps: [
        step("content", "load", { path: "tubingen.jpg" }),
        step("small", "resize", { max_side: size, filter: "lanczos3" }, { image: ["content"] }),
        step("other", "load", { path: "starry_night.jpg" }),
        step("features", "extract-features", { model: "vgg19" }, { content: ["small"] }),
        step("final", "save", { path: "out.png" }, { image: ["features"] }),
        step("unrelated", "save", { path: "b.png" }, { image: ["other"] }),
      ],
    },
    engine: { name: "cpu", describe: () => "tfjs 4.22.0 cpu backend" },
    inputFiles: new Map([
      ["content", [{ path: "tubingen.jpg", found: "images", sha256: "aa" }]],
      ["other", [{ path: "starry_night.jpg", found: "images", sha256: "bb" }]],
    ]),
    weights: new Map([["features", { model: "vgg19", id: "f00d" }]]),
    results: new Map<string, unknown>([
      ["features", { loss: 12.5, terms: { style: 10, content: 2.5 }, big: new Float32Array(9) }],
      ["small", {}],
    ]),
  };
}

async function tinyPng(): Promise<Uint8Array> {
  return await encodePng(createImage(2, 2, 0.4));
}

Deno.test("record holds only the output's ancestors, with versions, inputs, weights, results", () => {
  const f = facts();
  assert.deepEqual(ancestors(f.recipe.steps, "final"), ["content", "small", "features", "final"]);
  const r = buildProvenanceRecord(f, "final");
  assert.deepEqual(r.recipe.steps.map((s) => s.id), ["content", "small", "features", "final"]);
  assert.deepEqual(r.recipe.steps[1], {
    id: "small",
    use: "resize",
    version: 1,
    from: { image: ["content"] },
    with: { max_side: 24, filter: "lanczos3" },
  });
  assert.deepEqual(r.inputs, [{ path: "tubingen.jpg", found: "images", sha256: "aa" }]);
  assert.equal(r.recipe.file, "recipe.yaml", "the file name only: no local folder");
  assert.match(r.versions.codecs.sharp, /^\d+\.\d+\.\d+$/);
  assert.deepEqual(r.weights, [{ model: "vgg19", id: "f00d" }]);
  assert.deepEqual(r.results, { features: { loss: 12.5, terms: { style: 10, content: 2.5 } } });
  assert.deepEqual(r.engine, { name: "cpu", backend: "tfjs 4.22.0 cpu backend" });
  const noEngine = buildProvenanceRecord({ ...f, engine: undefined }, "final");
  assert.deepEqual(noEngine.engine, { name: "auto" });
  assert.equal(r.versions.stylepipe, denoConfig.version);
  assert.equal(r.versions.deno, Deno.version.deno);
  assert.equal(r.versions.libraries["@tensorflow/tfjs-core"], "4.22.0");
  assert.match(r.versions.libraries["onnxruntime-node"], /^\d+\.\d+\.\d+$/);
  assert.match(r.recipe.hash, /^[0-9a-f]{64}$/);
});

Deno.test("recipe hash depends on resolved parameters, not on key order or unrelated steps", () => {
  const a = buildProvenanceRecord(facts(24), "final").recipe.hash;
  const b = buildProvenanceRecord(facts(32), "final").recipe.hash;
  assert.notEqual(a, b);
  const reordered = facts(24);
  const steps = reordered.recipe.steps.map((s) =>
    s.id === "small" ? { ...s, params: { filter: "lanczos3", max_side: 24 } } : s
  );
  const c = buildProvenanceRecord(
    { ...reordered, recipe: { ...reordered.recipe, steps: steps.slice(0, 5) } },
    "final",
  ).recipe.hash;
  assert.equal(c, a);
});

Deno.test("PNG embedding round trip; embedding is deterministic and replaces an old record", async () => {
  const record = buildProvenanceRecord(facts(), "final");
  const png = await tinyPng();
  const once = embedProvenance(png, record);
  assert.deepEqual(extractProvenance(once), JSON.parse(JSON.stringify(record)));
  assert.deepEqual(embedProvenance(png, record), once);
  assert.deepEqual(embedProvenance(once, record), once);
  assert.throws(() => extractProvenance(png, "plain.png"), ProvenanceError);
});

Deno.test("sidecar is written next to the output and read back when the PNG has no chunk", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const record = buildProvenanceRecord(facts(), "final");
    const out = join(dir, "a.png");
    await Deno.writeFile(out, await tinyPng());
    await assert.rejects(() => readProvenance(out), ProvenanceError);
    const run = {
      output: out,
      startedAt: "2026-01-01T00:00:00.000Z",
      finishedAt: "2026-01-01T00:00:01.000Z",
      steps: { final: { seconds: 0.5, status: "ran" } },
    };
    await writeSidecar(out, { ...record, run });
    assert.equal(sidecarPath(out), `${out}.json`);
    const side = JSON.parse(await Deno.readTextFile(`${out}.json`));
    assert.deepEqual(side.run, run);
    assert.equal((await readProvenance(out)).recipe.hash, record.recipe.hash);
    // With an embedded chunk, the PNG wins over the sidecar.
    const other = buildProvenanceRecord(facts(99), "final");
    await Deno.writeFile(out, embedProvenance(await tinyPng(), other));
    assert.equal((await readProvenance(out)).recipe.hash, other.recipe.hash);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A stage that uses the engine and reports a final loss, like style-transfer (test stand-in). */
const engineUser: Stage<Record<string, never>> = {
  name: "engine-user",
  version: 1,
  description: "halves the image using the engine (test)",
  params: z.object({}).strict(),
  inputs: { image: { kind: "image" } },
  output: "image",
  async run(ctx, inputs) {
    const engine = await ctx.engine();
    const image = imageOf(inputs.image, "image");
    const data = image.data.map((v) => v / 2);
    return {
      kind: "image",
      image: { ...image, data },
      info: { engine: engine.name, final_loss: 0.25 },
    };
  },
};

Deno.test("a run embeds the record; re-saving from cached steps gives the same bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      join(dir, "r.yaml"),
      `version: 1
name: rec
engine: fake
steps:
  - { id: photo, use: load, with: { path: tubingen.jpg } }
  - { id: small, use: resize, from: photo, with: { max_side: 8 } }
  - { id: dim, use: engine-user, from: small }
  - { id: final, use: save, from: dim, with: { path: f.png } }
`,
    );
    const registry = builtinStages();
    registry.register(engineUser);
    const recipe = await loadRecipe(join(dir, "r.yaml"), { registry });
    const plan = await planRecipe(recipe, {
      outDir: join(dir, "out"),
      imageDirs: [testImagesDir()],
    });
    let created = 0;
    const engineFactory = (name: string) => {
      created++;
      return Promise.resolve(
        {
          name,
          describe: () => "fake backend 1.0",
          dispose: () => Promise.resolve(),
        } as unknown as Engine,
      );
    };
    const run = () => runPlan(plan, { cache: new CacheStore(join(dir, "cache")), engineFactory });
    const out = join(dir, "out", "f.png");
    await run();
    const first = await Deno.readFile(out);
    const record = extractProvenance(first);
    assert.deepEqual(record.engine, { name: "fake", backend: "fake backend 1.0" });
    assert.deepEqual(record.results.dim, { engine: "fake", final_loss: 0.25 });
    assert.equal(record.inputs.length, 1);
    assert.match(record.inputs[0].path, /tubingen\.jpg$/);
    const sidecar = JSON.parse(await Deno.readTextFile(`${out}.json`));
    assert.deepEqual(Object.keys(sidecar.run.steps), ["photo", "small", "dim", "final"]);
    assert.ok(sidecar.run.steps.dim.seconds >= 0 && sidecar.run.steps.dim.status === "ran");
    assert.equal(sidecar.recipe.hash, record.recipe.hash);

    await Deno.remove(out);
    await run(); // only `save` runs; the engine is created to describe it
    assert.deepEqual(await Deno.readFile(out), first);
    const again = JSON.parse(await Deno.readTextFile(`${out}.json`));
    assert.equal(again.run.steps.dim.status, "cached");
    assert.equal(again.run.steps.final.status, "ran");
    assert.equal(created, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
