/**
 * `deno task dev sweep [--sizes 128,256] [--big-pairs N] [--iterations N] [--sheet FILE] [--only S]
 * [--photos N] [--style-loss L]`:
 * renders every painting of the example images over two photos (tubingen.jpg and its centre
 * detail) with the old defaults and the current ones, scores each with the fixed yardstick of
 * src/neural/losses/score.ts and prints a markdown table (docs/quality.md's). --sizes lists the sizes;
 * sizes after the first run only on the first --big-pairs pairs. --sheet writes a contact sheet
 * (photo | old | new | painting at the first size; .jpg → JPEG quality 88, else PNG). Engine onnx;
 * settings in {@link CONFIGS}. --only keeps the paintings whose file name contains S; --photos N
 * the first N photos. --style-loss L compares the current defaults with `style_loss: gram` and
 * with L instead ({@link styleLossConfigs}); --style-weight W sets L's β (to compare at equal
 * content distance).
 */
import { join, resolve } from "node:path";
import { decodeImage, encodeImage } from "../image/codecs.ts";
import { cropImage } from "../image/crop.ts";
import { createImage, type RgbImage } from "../image/image.ts";
import { resizeLongerSide } from "../image/resample.ts";
import { createEngine } from "../neural/engines/providers.ts";
import type { Engine } from "../neural/engines/engine.ts";
import type { Padding, Pooling } from "../neural/plan/network.ts";
import { type StyleStatistic, styleStatistics } from "../neural/objective/spec.ts";
import { type Score, scoreImage } from "../neural/losses/score.ts";
import { loadVggWeights } from "../neural/models/weights.ts";
import type { VggWeights } from "../neural/models/weights_types.ts";
import { defaultImageDirs, defaultWeightsDirs } from "../pipeline/locations.ts";
import { computeFeatureTargets, scaleStyle } from "../stages/extract_features.ts";
import type { FeatureTargets, StageContext } from "../stages/stage.ts";
import { styleTransferParams, styleTransferStage } from "../stages/style_transfer.ts";
import { EXAMPLE_IMAGES } from "../pipeline/paths.ts";
import { parseCommandArgs } from "../cli/args.ts";
import { messageOf } from "../util/errors.ts";

/** One setting compared by the sweep. */
export interface SweepConfig {
  readonly name: string;
  readonly pooling: Pooling;
  /** The first conv's padding (default zero). */
  readonly padding?: Padding;
  /** One per style layer (relu1_1, relu2_1, relu3_1). */
  readonly styleLayerWeights: readonly number[];
  /** style-transfer parameters (the schema's defaults fill the rest). */
  readonly transfer: Record<string, unknown>;
}

/** The settings compared: the defaults before issue 10, and the defaults now. */
export const CONFIGS: readonly SweepConfig[] = [
  {
    name: "old defaults",
    pooling: "avg",
    styleLayerWeights: [1, 1, 1],
    transfer: {
      normalization: "paper",
      content_weight: 5,
      style_weight: 100,
      tv_weight: 1e-3,
      line_search: "none",
    },
  },
  { name: "new defaults", pooling: "avg", styleLayerWeights: [1, 1, 1], transfer: {} },
];

/**
 * The comparison of `--style-loss`: the current defaults with Gram, and with `styleLoss` (at
 * `styleWeight` when given, else the default β).
 */
export function styleLossConfigs(styleLoss: StyleStatistic, styleWeight?: number): SweepConfig[] {
  const candidate = styleWeight === undefined ? styleLoss : `${styleLoss} β ${styleWeight}`;
  return [
    {
      name: "gram",
      pooling: "avg",
      styleLayerWeights: [1, 1, 1],
      transfer: { style_loss: "gram" },
    },
    {
      name: candidate,
      pooling: "avg",
      styleLayerWeights: [1, 1, 1],
      transfer: {
        style_loss: styleLoss,
        ...(styleWeight === undefined ? {} : { style_weight: styleWeight }),
      },
    },
  ];
}

const PAINTINGS = [...EXAMPLE_IMAGES].filter((name) => name !== "tubingen.jpg");
const CONTENT_LAYERS = ["relu3_2"];
const STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1"];

/** One render's outcome. */
export interface SweepResult {
  readonly score: Score;
  readonly initialLoss: number;
  readonly finalLoss: number;
  /** The last iterate's loss (differs from finalLoss when the result is the iterate average). */
  readonly lastIterateLoss: number;
  readonly seconds: number;
  readonly image: RgbImage;
  readonly warnings: string[];
}

/** Renders `content` (already at its size) in the style of `style` with `config`; scores it. */
export async function renderAndScore(
  engine: Engine,
  weights: VggWeights,
  content: RgbImage,
  style: RgbImage,
  config: SweepConfig,
  iterations: number,
): Promise<SweepResult> {
  const began = performance.now();
  const styleSized = scaleStyle(style, content, 1);
  const targets = await computeFeatureTargets(engine, weights, content, [styleSized], undefined, {
    contentLayers: CONTENT_LAYERS,
    styleLayers: STYLE_LAYERS,
    styleLayerWeights: config.styleLayerWeights,
    styleBlend: [1],
    pooling: config.pooling,
    padding: config.padding,
  });
  const features: FeatureTargets = {
    model: "vgg19",
    weightsId: weights.id,
    pooling: config.pooling,
    padding: config.padding,
    width: content.width,
    height: content.height,
    content: targets.content,
    style: targets.style,
    contentImage: content,
    styleImages: [styleSized],
    recipe: {},
  };
  const warnings: string[] = [];
  const params = styleTransferParams.parse({
    ...config.transfer,
    iterations,
    checkpoint_every: 0,
  });
  const value = await styleTransferStage.run(
    memoryContext(engine, warnings),
    { features: { kind: "features", features } },
    params,
  );
  if (value.kind !== "image") throw new Error("style-transfer returned no image");
  const score = await scoreImage(engine, weights, value.image, content, style);
  const info = value.info as {
    initial_loss: number;
    final_loss: number;
    last_iterate_loss?: number;
  };
  return {
    score,
    initialLoss: info.initial_loss,
    finalLoss: info.final_loss,
    lastIterateLoss: info.last_iterate_loss ?? info.final_loss,
    seconds: (performance.now() - began) / 1000,
    image: value.image,
    warnings,
  };
}

/** A stage context that keeps nothing on disk (no checkpoints, no outputs). */
function memoryContext(engine: Engine, warnings: string[]): StageContext {
  return {
    stepId: "sweep",
    signal: new AbortController().signal,
    seed: 1,
    progress: () => {},
    warn: (m) => void warnings.push(m),
    note: () => {},
    paths: {
      inputs: new Set(),
      input: (path) => Promise.resolve(path),
      output: () => {
        throw new Error("the sweep writes no step outputs");
      },
    },
    weightsDirs: defaultWeightsDirs(),
    engine: () => Promise.resolve(engine),
    checkpoints: {
      get: () => Promise.resolve(undefined),
      put: () => Promise.resolve(),
      clear: () => Promise.resolve(),
    },
  };
}

/** An example image from the image folders (STYLEPIPE_IMAGES, then the defaults). */
export async function readExample(name: string): Promise<RgbImage> {
  for (const dir of defaultImageDirs()) {
    try {
      return await decodeImage(await Deno.readFile(join(dir, name)));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  throw new Error(`${name} not found in ${defaultImageDirs().join(", ")} (set STYLEPIPE_IMAGES)`);
}

/** Pastes `tile` into `sheet` at (x, y). */
export function paste(sheet: RgbImage, tile: RgbImage, x: number, y: number): void {
  for (let i = 0; i < tile.height && y + i < sheet.height; i++) {
    for (let j = 0; j < tile.width && x + j < sheet.width; j++) {
      for (let c = 0; c < 3; c++) {
        sheet.data[((y + i) * sheet.width + x + j) * 3 + c] =
          tile.data[(i * tile.width + j) * 3 + c];
      }
    }
  }
}

const fmt = (v: number) => v >= 100 ? Math.round(v).toLocaleString("en") : v.toPrecision(3);

const USAGE = "Usage: deno task dev sweep [--sizes 128,256] [--big-pairs N] [--iterations N] " +
  `[--sheet FILE] [--only S] [--photos N] [--style-loss ${styleStatistics.join("|")}] ` +
  "[--style-weight W]";

async function main() {
  let values;
  try {
    ({ values } = parseCommandArgs("sweep", Deno.args, {
      sizes: { type: "string", default: "128,256" },
      "big-pairs": { type: "string", default: "1" },
      iterations: { type: "string", default: "200" },
      sheet: { type: "string" },
      only: { type: "string" },
      photos: { type: "string", default: "2" },
      "style-loss": { type: "string" },
      "style-weight": { type: "string" },
    }));
    const styleLoss = values["style-loss"];
    if (styleLoss !== undefined && !styleStatistics.includes(styleLoss as StyleStatistic)) {
      throw new Error(`--style-loss "${styleLoss}" is not one of ${styleStatistics.join(", ")}`);
    }
    const weight = values["style-weight"];
    if (weight !== undefined && !(Number(weight) >= 0 && styleLoss !== undefined)) {
      throw new Error(`--style-weight needs --style-loss and a number ≥ 0, got "${weight}"`);
    }
  } catch (e) {
    console.error(`error: ${messageOf(e)}\n${USAGE}`);
    Deno.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const sizes = values.sizes.split(",").map(Number);
  const bigPairs = Number(values["big-pairs"]);
  const iterations = Number(values.iterations);
  const engine = await createEngine("onnx");
  const weights = await loadVggWeights(defaultWeightsDirs(), "vgg19");
  const tubingen = await readExample("tubingen.jpg");
  // The examples hold one photograph; its centre detail (half the width, 1:1) is the second.
  const detail = cropImage(tubingen, {
    x: Math.round(tubingen.width / 4),
    y: Math.round(tubingen.height / 4),
    width: Math.round(tubingen.width / 2),
    height: Math.round(tubingen.height / 2),
  });
  const photos: [string, RgbImage][] = [["tubingen", tubingen], ["tubingen detail", detail]]
    .slice(0, Number(values.photos)) as [string, RgbImage][];
  const styleLoss = values["style-loss"] as StyleStatistic | undefined;
  const styleWeight = values["style-weight"] === undefined
    ? undefined
    : Number(values["style-weight"]);
  const configs = styleLoss ? styleLossConfigs(styleLoss, styleWeight) : CONFIGS;
  const paintings = PAINTINGS.filter((p) => !values.only || p.includes(values.only));
  const pairs = photos.flatMap(([photoName, photo]) =>
    paintings.map((p) => ({ photoName, photo, painting: p }))
  );
  const [base, ...candidates] = configs;
  console.log(
    `| photo × painting | px | ${base.name}: content / style | ` +
      candidates.map((c) => `${c.name}: content / style | style ÷ | content ×`).join(" | ") +
      ` | ${configs.at(-1)!.name} loss start → end | s ${base.name} / ${configs.at(-1)!.name} |`,
  );
  console.log(`|---|---|---|${candidates.map(() => "---|---|---|").join("")}---|---|`);
  const rows: RgbImage[][] = [];
  const fails: string[] = [];
  for (const [s, size] of sizes.entries()) {
    for (const [k, pair] of pairs.entries()) {
      if (s > 0 && k >= bigPairs) continue;
      const content = resizeLongerSide(pair.photo, size);
      const style = await readExample(pair.painting);
      const results: SweepResult[] = [];
      for (const config of configs) {
        results.push(await renderAndScore(engine, weights, content, style, config, iterations));
      }
      const [old, ...rest] = results;
      const cells = rest.map((r) => {
        const styleGain = old.score.style / r.score.style;
        const contentCost = r.score.content / old.score.content;
        if (!styleLoss && (styleGain < 5 || contentCost > 2.5 || r.finalLoss > r.initialLoss)) {
          fails.push(`${pair.photoName} × ${pair.painting} @ ${size}`);
        }
        return `${fmt(r.score.content)} / ${fmt(r.score.style)} | ${styleGain.toFixed(1)} | ` +
          `${contentCost.toFixed(2)}`;
      });
      const last = rest.at(-1)!;
      console.log(
        `| ${pair.photoName} × ${pair.painting.replace(/\.jpg$/, "")} | ${size} | ` +
          `${fmt(old.score.content)} / ${fmt(old.score.style)} | ${cells.join(" | ")} | ` +
          `${fmt(last.initialLoss)} → ${fmt(last.finalLoss)} | ` +
          `${old.seconds.toFixed(1)} / ${last.seconds.toFixed(1)} |`,
      );
      for (const r of results) for (const w of r.warnings) console.error(`  warning: ${w}`);
      if (s === 0) {
        rows.push([content, ...results.map((r) => r.image), resizeLongerSide(style, size)]);
      }
    }
  }
  if (!styleLoss) {
    console.log(
      fails.length
        ? `\nmissed the targets (style ≥5× lower, content ≤2.5×, loss down): ${fails.join("; ")}`
        : `\nevery pair: style ≥5× lower, content ≤2.5× higher, loss lower at the end than at the start`,
    );
  }
  if (values.sheet) {
    const cell = sizes[0];
    const gap = 4;
    const cols = rows[0]?.length ?? 0;
    const sheet = createImage(cols * (cell + gap) - gap, rows.length * (cell + gap) - gap, 1);
    rows.forEach((row, r) =>
      row.forEach((tile, c) => paste(sheet, tile, c * (cell + gap), r * (cell + gap)))
    );
    const format = /\.jpe?g$/i.test(values.sheet) ? "jpeg" : "png";
    await Deno.writeFile(resolve(values.sheet), await encodeImage(sheet, { format, quality: 88 }));
    console.log(
      `contact sheet (photo | ${configs.map((c) => c.name).join(" | ")} | painting): ` +
        values.sheet,
    );
  }
  await engine.dispose();
}

if (import.meta.main) await main();
