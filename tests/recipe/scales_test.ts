import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage } from "../../src/image/codecs.ts";
import { createEngine } from "../../src/neural/engines/providers.ts";
import { CacheStore } from "../../src/pipeline/cache.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { RecipeError } from "../../src/recipe/errors.ts";
import { loadRecipe, parseRecipe } from "../../src/recipe/load.ts";
import type { DataPath } from "../../src/recipe/parse.ts";
import type { RawStep } from "../../src/recipe/recipe.ts";
import {
  expandScales,
  readScales,
  SCALES_TOLERANCE,
  scalesExtension,
} from "../../src/recipe/scales.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { testImagesDir, testWeightsDirs } from "../stages/_context.ts";

const raw = (i: number, s: Omit<RawStep, "path">): RawStep => ({ ...s, path: ["steps", i] });

const STEPS: RawStep[] = [
  raw(0, { id: "content", use: "load", with: { path: "tubingen.jpg" } }),
  raw(1, { id: "style", use: "load", with: { path: "starry_night.jpg" } }),
  raw(2, {
    id: "features",
    use: "extract-features",
    from: { content: "content", style: ["style"] },
    with: { content_layers: ["relu2_2"] },
  }),
  raw(3, {
    id: "transfer",
    use: "style-transfer",
    from: "features",
    with: { iterations: 40, style_weight: 1000, init: "content" },
  }),
  raw(4, { id: "final", use: "save", from: "transfer", with: { path: "out.png" } }),
];

function collect() {
  const problems: { path: DataPath; message: string }[] = [];
  return {
    problems,
    report: (path: DataPath, message: string) => problems.push({ path, message }),
  };
}

Deno.test("readScales: sizes, {size, iterations} and their mix; problems with positions", () => {
  const { problems, report } = collect();
  assert.deepEqual(readScales([256, { size: 512, iterations: 150 }], report), [
    { size: 256 },
    { size: 512, iterations: 150 },
  ]);
  assert.equal(problems.length, 0);
  assert.deepEqual(readScales([256], report), []);
  assert.deepEqual(readScales([256, 256, "big"], report), []);
  assert.deepEqual(readScales([64, { size: 128, iters: 3 }], report), []);
  assert.deepEqual(problems.map((p) => p.path), [
    ["scales"],
    ["scales", 1],
    ["scales", 2],
    ["scales", 1],
  ]);
  assert.match(problems[1].message, /sizes must increase: 256 after 256/);
});

Deno.test("expandScales: resize to the first size, one upscale per further size, consumers rewired", () => {
  const { problems, report } = collect();
  const out = expandScales(
    STEPS,
    [{ size: 64 }, { size: 128, iterations: 15 }, { size: 256 }],
    report,
  );
  assert.equal(problems.length, 0);
  assert.deepEqual(out.map((s) => [s.id, s.use]), [
    ["content", "load"],
    ["style", "load"],
    ["content-64", "resize"],
    ["features", "extract-features"],
    ["transfer", "style-transfer"],
    ["transfer-128", "upscale"],
    ["transfer-256", "upscale"],
    ["final", "save"],
  ]);
  const byId = new Map(out.map((s) => [s.id, s]));
  assert.deepEqual(byId.get("content-64")!.with, { max_side: 64, filter: "lanczos3" });
  assert.deepEqual(byId.get("features")!.from, { content: "content-64", style: ["style"] });
  assert.deepEqual(byId.get("transfer")!.with, {
    iterations: 40,
    style_weight: 1000,
    init: "content",
    tolerance: SCALES_TOLERANCE,
  });
  assert.deepEqual(byId.get("transfer-128")!.from, {
    image: "transfer",
    features: "features",
    content: "content",
    style: ["style"],
  });
  assert.deepEqual(byId.get("transfer-128")!.with, {
    style_weight: 1000,
    size: 128,
    iterations: 15,
    tolerance: SCALES_TOLERANCE,
  });
  // Every scale runs until converged; unspecified iterations: the previous scale's cap.
  assert.deepEqual(byId.get("transfer-256")!.with, {
    style_weight: 1000,
    size: 256,
    iterations: 15,
    tolerance: SCALES_TOLERANCE,
  });
  assert.equal(
    byId.get("transfer-256")!.from && (byId.get("transfer-256")!.from as never)["image"],
    "transfer-128",
  );
  assert.equal(byId.get("final")!.from, "transfer-256");
});

Deno.test("expandScales: tolerance from the step, overridden per scale and carried on", () => {
  const { problems, report } = collect();
  const steps = STEPS.map((s) =>
    s.id === "transfer" ? { ...s, with: { ...s.with as object, tolerance: 0.002 } } : s
  );
  const out = expandScales(
    steps,
    [{ size: 64 }, { size: 128, tolerance: 0.05, iterations: 30 }, { size: 256 }, {
      size: 512,
      tolerance: 0,
    }],
    report,
  );
  assert.equal(problems.length, 0);
  const scaleSettings = out.filter((s) => String(s.id).startsWith("transfer"))
    .map((s) => {
      const w = s.with as { iterations?: number; tolerance?: number };
      return [s.id, w.iterations, w.tolerance];
    });
  assert.deepEqual(scaleSettings, [
    ["transfer", 40, 0.002],
    ["transfer-128", 30, 0.05],
    ["transfer-256", 30, 0.05],
    ["transfer-512", 30, 0], // 0: every iteration of the cap
  ]);
  const { problems: bad, report: reportBad } = collect();
  assert.deepEqual(readScales([64, { size: 128, tolerance: 1 }], reportBad), []);
  assert.match(bad[0].message, /\{ size, iterations, tolerance, line_search \}/);
});

Deno.test("expandScales: line_search applies to its own scale only", () => {
  const { problems, report } = collect();
  const scales = readScales([64, { size: 128, line_search: "none" }, 256], report);
  const out = expandScales(STEPS, scales, report);
  assert.equal(problems.length, 0);
  const searches = out.filter((s) => String(s.id).startsWith("transfer"))
    .map((s) => [s.id, (s.with as { line_search?: string }).line_search]);
  assert.deepEqual(searches, [
    ["transfer", undefined],
    ["transfer-128", "none"],
    ["transfer-256", undefined],
  ]);
  assert.deepEqual(readScales([64, { size: 128, line_search: "armijo" }], report), []);
});

Deno.test("expandScales: no style-transfer step, and id clashes, are reported", () => {
  const { problems, report } = collect();
  expandScales(
    STEPS.filter((s) => s.use !== "style-transfer"),
    [{ size: 8 }, { size: 16 }],
    report,
  );
  const clash = [...STEPS, raw(5, { id: "transfer-16", use: "load", with: { path: "x.png" } })];
  expandScales(clash, [{ size: 8 }, { size: 16 }], report);
  assert.deepEqual(problems.map((p) => p.message), [
    `"scales:" refines a style-transfer step, and the recipe has none`,
    `"scales:" would add step "transfer-16", but a step has that id already`,
  ]);
});

const opts = { sanitizeOps: false, sanitizeResources: false };

const recipeText = (sizes: string) =>
  `version: 1
name: scales
scales: ${sizes}
steps:
  - { id: content, use: load, with: { path: tubingen.jpg } }
  - { id: style, use: load, with: { path: starry_night.jpg } }
  - id: features
    use: extract-features
    from: { content: content, style: [style] }
    with: { content_layers: [relu2_2], style_layers: [relu1_1, relu2_1] }
  - { id: transfer, use: style-transfer, from: features, with: { iterations: 3 } }
  - { id: final, use: save, from: transfer, with: { path: out.png } }
`;

Deno.test(
  "scales with the real runner: raising only the final size re-renders only that scale",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "stylepipe-scales-" });
    const engine = createEngine("onnx");
    try {
      const render = async (sizes: string) => {
        await Deno.writeTextFile(join(dir, "scales.yaml"), recipeText(sizes));
        const recipe = await loadRecipe(join(dir, "scales.yaml"), {
          registry: builtinStages(),
          extensions: [scalesExtension()],
          weightsDirs: testWeightsDirs(),
        });
        const plan = await planRecipe(recipe, {
          outDir: join(dir, "out"),
          imageDirs: [testImagesDir()],
        });
        const ran: string[] = [];
        await runPlan(plan, {
          cache: new CacheStore(join(dir, "cache")),
          engineFactory: () => engine,
          weightsDirs: testWeightsDirs(),
          onEvent: (e) => void (e.type === "step-started" && ran.push(e.step)),
        });
        return ran.sort();
      };
      assert.deepEqual(await render("[16, {size: 24, iterations: 2}, {size: 32, iterations: 2}]"), [
        "content",
        "content-16",
        "features",
        "final",
        "style",
        "transfer",
        "transfer-24",
        "transfer-32",
      ]);
      let png = await decodeImage(await Deno.readFile(join(dir, "out", "out.png")));
      assert.deepEqual([png.width, png.height], [32, 24]);

      assert.deepEqual(
        await render("[16, {size: 24, iterations: 2}, {size: 40, iterations: 2}]"),
        ["final", "transfer-40"],
      );
      png = await decodeImage(await Deno.readFile(join(dir, "out", "out.png")));
      assert.deepEqual([png.width, png.height], [40, 30]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("scales: problems point at the scales key", async () => {
  await assert.rejects(
    parseRecipe(recipeText("[32, 16]"), "inline.yaml", {
      registry: builtinStages(),
      extensions: [scalesExtension()],
      weightsDirs: testWeightsDirs(),
    }),
    (e: unknown) =>
      e instanceof RecipeError &&
      /inline\.yaml:3:\d+.*sizes must increase: 16 after 32/.test(e.message),
  );
});
