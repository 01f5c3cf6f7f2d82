import assert from "node:assert/strict";
import { join } from "node:path";
import { combinations, combinationVars, expandSteps, matrixAxes } from "../../src/recipe/matrix.ts";
import type { RawStep } from "../../src/recipe/recipe.ts";
import type { UndefinedVar } from "../../src/recipe/interpolate.ts";
import { z } from "zod";
import { CacheStore } from "../../src/pipeline/cache.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { RecipeError } from "../../src/recipe/errors.ts";
import { loadRecipe } from "../../src/recipe/load.ts";
import { matrixExtension } from "../../src/recipe/matrix.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { imageOf, type Stage } from "../../src/stages/stage.ts";
import { testImagesDir } from "../stages/_context.ts";

const raw = (i: number, s: Omit<RawStep, "path">): RawStep => ({ ...s, path: ["steps", i] });

/** A style-transfer shaped recipe: contents × styles. */
const STEPS: RawStep[] = [
  raw(0, { id: "content", use: "load", with: { path: "${content}" } }),
  raw(1, { id: "style", use: "load", with: { path: "${style}" } }),
  raw(2, { id: "targets", use: "extract-features", from: { style: "style" }, with: { size: 16 } }),
  raw(3, {
    id: "stylized",
    use: "style-transfer",
    from: { content: "content", features: "targets" },
    with: { iterations: "${iters}" },
  }),
  raw(4, {
    id: "final",
    use: "save",
    from: "stylized",
    with: { path: "out/${content_name}-${style_name}.png" },
  }),
];

Deno.test("2 contents × 2 styles: shared steps once per distinct input, ids say what varies", () => {
  const combos = combinations([
    { key: "content", values: ["photos/a.jpg", "b.jpg"] },
    { key: "style", values: ["styles/starry night.jpg", "scream.png"] },
  ]);
  assert.equal(combos.length, 4);
  const missing: UndefinedVar[] = [];
  const out = expandSteps(STEPS, { iters: 5 }, combos, (m) => missing.push(m));
  assert.deepEqual(missing, []);
  const ids = out.map((s) => s.id);
  assert.deepEqual(ids, [
    "content-a",
    "content-b",
    "style-starry_night",
    "style-scream",
    "targets-starry_night",
    "targets-scream",
    "stylized-a-starry_night",
    "stylized-a-scream",
    "stylized-b-starry_night",
    "stylized-b-scream",
    "final-a-starry_night",
    "final-a-scream",
    "final-b-starry_night",
    "final-b-scream",
  ]);
  const byId = new Map(out.map((s) => [s.id as string, s]));
  assert.deepEqual(byId.get("targets-scream")!.from, { style: "style-scream" });
  assert.deepEqual(byId.get("stylized-b-starry_night")!.from, {
    content: "content-b",
    features: "targets-starry_night",
  });
  assert.deepEqual(byId.get("stylized-b-starry_night")!.with, { iterations: 5 });
  assert.deepEqual(byId.get("final-b-scream")!.with, { path: "out/b-scream.png" });
  assert.equal(byId.get("final-b-scream")!.from, "stylized-b-scream");
  assert.deepEqual(byId.get("content-a")!.with, { path: "photos/a.jpg" });
  // Positions still point at the original step.
  assert.deepEqual(byId.get("final-a-scream")!.path, ["steps", 4]);
});

Deno.test("a step that does not depend on the matrix stays one step with its own id", () => {
  const steps = [
    raw(0, { id: "logo", use: "load", with: { path: "logo.png" } }),
    raw(1, { id: "c", use: "load", with: { path: "${content}" } }),
    raw(2, { id: "mix", use: "blend", from: ["c", "logo"], with: {} }),
  ];
  const combos = combinations([
    { key: "content", values: [1, 2] },
    { key: "style", values: ["only.jpg"] },
  ]);
  const out = expandSteps(steps, {}, combos, () => {});
  // A single-valued key ("style") does not appear in the ids.
  assert.deepEqual(out.map((s) => s.id), ["logo", "c-1", "c-2", "mix-1", "mix-2"]);
  assert.deepEqual(out[4].from, ["c-2", "logo"]);
});

Deno.test("undefined variables are reported once per place, with the step id", () => {
  const got: [string, string | undefined][] = [];
  expandSteps(
    STEPS.slice(0, 1).concat(raw(1, { id: "x", use: "load", with: { path: "${nope}" } })),
    {},
    combinations([{ key: "content", values: ["a", "b", "c"] }]),
    (m, id) => got.push([`${m.path.join(".")}:${m.name}`, id]),
  );
  assert.deepEqual(got, [["steps.1.with.path:nope", "x"]]);
});

Deno.test("matrix axes: lists, single values and globs (recipe folder, then image folders)", async () => {
  const dir = await Deno.makeTempDir();
  const images = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "styles"));
    for (const f of ["b.jpg", "a.jpg", "notes.txt"]) {
      await Deno.writeFile(join(dir, "styles", f), new Uint8Array(1));
    }
    await Deno.writeFile(join(images, "x.jpg"), new Uint8Array(1));
    const problems: string[] = [];
    const axes = await matrixAxes(
      {
        style: "styles/*.jpg",
        content: ["c1.jpg", "c2.jpg"],
        size: 24,
        extra: "*.jpg",
        none: "*.gif",
      },
      [dir, images],
      (p, m) => problems.push(`${p.join(".")}: ${m}`),
    );
    assert.deepEqual(axes, [
      { key: "style", values: ["styles/a.jpg", "styles/b.jpg"] },
      { key: "content", values: ["c1.jpg", "c2.jpg"] },
      { key: "size", values: [24] },
      { key: "extra", values: ["x.jpg"] },
    ]);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^matrix\.none: "\*\.gif" matches no file/);
    assert.deepEqual(combinationVars({ style: "styles/a.jpg", size: 24 }), {
      style: "styles/a.jpg",
      style_name: "a",
      size: 24,
      size_name: "24",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(images, { recursive: true });
  }
});

/** Stand-in for per-style targets: the style's mean colour as a 1×1 image (counts its runs). */
const styleStats: Stage<Record<string, never>> = {
  name: "style-stats",
  version: 1,
  description: "mean colour of the style (test)",
  params: z.object({}).strict(),
  inputs: { style: { kind: "image" } },
  output: "image",
  run(_ctx, inputs) {
    const { data } = imageOf(inputs.style, "style");
    const mean = [0, 1, 2].map((c) => {
      let s = 0;
      for (let i = c; i < data.length; i += 3) s += data[i];
      return s / (data.length / 3);
    });
    return Promise.resolve({
      kind: "image",
      image: { width: 1, height: 1, data: new Float32Array(mean) },
    });
  },
};

/** Stand-in for the per-pair optimization: content averaged with the style's mean colour. */
const tint: Stage<Record<string, never>> = {
  name: "tint",
  version: 1,
  description: "content tinted by the style's mean colour (test)",
  params: z.object({}).strict(),
  inputs: { content: { kind: "image" }, stats: { kind: "image" } },
  output: "image",
  run(_ctx, inputs) {
    const c = imageOf(inputs.content, "content");
    const m = imageOf(inputs.stats, "stats").data;
    const data = c.data.map((v, i) => (v + m[i % 3]) / 2);
    return Promise.resolve({ kind: "image", image: { ...c, data } });
  },
};

const GRID = `version: 1
name: grid
vars: { size: 12 }
matrix:
  content: [tubingen.jpg, picasso_selfport1907.jpg]
  style: "s[th]*.jpg"
steps:
  - { id: content, use: load, with: { path: "\${content}" } }
  - { id: small, use: resize, from: content, with: { max_side: "\${size}" } }
  - { id: style, use: load, with: { path: "\${style}" } }
  - { id: style_small, use: resize, from: style, with: { max_side: "\${size}" } }
  - { id: stats, use: style-stats, from: style_small }
  - { id: mixed, use: tint, from: { content: small, stats: stats } }
  - { id: final, use: save, from: mixed, with: { path: "\${content_name}-\${style_name}.png" } }
`;

Deno.test("matrix 2 contents × 2 styles renders 4 outputs in one plan, each style's targets once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "grid.yaml"), GRID);
    const registry = builtinStages();
    registry.register(styleStats);
    registry.register(tint);
    const recipe = await loadRecipe(join(dir, "grid.yaml"), {
      registry,
      extensions: [matrixExtension([testImagesDir()])],
    });
    const plan = await planRecipe(recipe, {
      outDir: join(dir, "out"),
      imageDirs: [testImagesDir()],
    });
    const runs = async () => {
      const started: Record<string, number> = {};
      await runPlan(plan, {
        cache: new CacheStore(join(dir, "cache")),
        onEvent: (e) => {
          if (e.type === "step-started") started[e.stage] = (started[e.stage] ?? 0) + 1;
        },
      });
      return started;
    };
    assert.deepEqual(await runs(), {
      load: 4, // 2 contents + 2 styles
      resize: 4,
      "style-stats": 2, // once per style, not once per combination
      tint: 4,
      save: 4,
    });
    const outputs = [...Deno.readDirSync(join(dir, "out"))].map((e) => e.name).sort();
    assert.deepEqual(outputs.filter((n) => n.endsWith(".png")), [
      "picasso_selfport1907-shipwreck.png",
      "picasso_selfport1907-starry_night.png",
      "tubingen-shipwreck.png",
      "tubingen-starry_night.png",
    ]);
    assert.deepEqual(await runs(), {}); // second run: everything cached
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("matrix errors: undefined variables and empty globs point at the recipe", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = GRID.replace('"s[th]*.jpg"', '"nothing-*.jpg"').replace("${size}", "${sise}");
    await Deno.writeTextFile(join(dir, "bad.yaml"), bad);
    const err = await loadRecipe(join(dir, "bad.yaml"), {
      registry: builtinStages(),
      extensions: [matrixExtension([testImagesDir()])],
    }).then(() => undefined, (e) => e);
    assert.ok(err instanceof RecipeError);
    assert.match(err.message, /bad\.yaml:6:10: .*"nothing-\*\.jpg" matches no file/);
    assert.doesNotMatch(err.message, /sise/); // steps are not expanded when the matrix is invalid
    const typo = GRID.replace("${size}", "${sise}");
    await Deno.writeTextFile(join(dir, "typo.yaml"), typo);
    const err2 = await loadRecipe(join(dir, "typo.yaml"), {
      registry: builtinStages(),
      extensions: [matrixExtension([testImagesDir()])],
    }).then(() => undefined, (e) => e);
    assert.match(
      err2.message,
      /typo\.yaml:9:.*step "small".*undefined variable "sise" \(did you mean "size"\?\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
