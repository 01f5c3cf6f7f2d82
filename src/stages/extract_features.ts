/**
 * `extract-features`: the targets of Gatys et al. (2015) from a content image and one or more style
 * images — content activations (default relu4_2) and normalized Gram matrices (default relu1_1 …
 * relu5_1) — as one cacheable value, so changing only optimizer settings reuses them.
 *
 * Several styles:
 * - without masks, the style target of each layer is the blend Σₖ bₖ·Gₖ of the styles' Gram matrices
 *   (weights bₖ from `style_blend`, normalized to sum 1). A Gram matrix holds feature co-occurrence
 *   averages, so a 50/50 blend is the Gram matrix of an image made half of style A's textures and half
 *   of style B's: the result mixes strokes and colours of both across the whole picture (patches of
 *   each rather than one averaged texture); it does not put A on one side and B on the other — masks
 *   do that.
 * - with masks (one per style, white = this style applies), one target per (style, layer) carries the
 *   mask; the engine computes that target's Gram on mask-weighted features of the result (as
 *   cysmith/neural-style-tf does). The style image's own Gram is used unmasked, scaled by the mean of
 *   M² at the layer's resolution, because the engines normalize a masked Gram by the full H·W·C.
 *   Each target's weight is the layer weight × the style's blend weight.
 */
import { toEngineImage } from "../neural/engines/engine_image.ts";
import { z } from "npm:zod@4.6.7";
import type { RgbImage } from "../image/image.ts";
import { toGrayscale } from "../image/luma.ts";
import { resizeImage } from "../image/resample.ts";
import type { ContentTarget, StyleTarget } from "../neural/objective/spec.ts";
import type { Engine } from "../neural/engines/engine.ts";
import { layerBlock, type Padding, PADDINGS, type Pooling } from "../neural/plan/network.ts";
import { styleGramMemo, type StyleLayerStats } from "../neural/objective/style_gram_memo.ts";
import { blendGrams, maskGramScale } from "../neural/objective/gram.ts";
import { contentTarget } from "../neural/objective/content.ts";
import { stageWeights, weightsProblem } from "./stage_weights.ts";
import { fitExtraction } from "./memory_fit.ts";
import { activationsAt, statisticsAt } from "./tiled_evaluation.ts";
import type { VggWeights } from "../neural/models/weights_types.ts";
import {
  type CheckContext,
  type FeatureTargets,
  imageOf,
  type InputShapes,
  type PlannedFeatures,
  type Stage,
  StageError,
  type Value,
} from "./stage.ts";

const layerName = z.string().regex(/^(conv|relu)\d_\d$|^pool\d$/, "a layer like relu4_2 or pool3");

const params = z.object({
  model: z.string().default("vgg19").describe("weights folder name (vgg19, vgg16)"),
  content_layers: z.array(layerName).default(["relu4_2"]).describe("content representation layers"),
  style_layers: z.array(layerName).min(1)
    .default(["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"])
    .describe("style representation layers (Gram matrices)"),
  style_layer_weights: z.array(z.number().nonnegative()).optional()
    .describe("one weight per style layer (default 1 each, as jcjohnson/neural-style)"),
  style_blend: z.array(z.number().nonnegative()).optional()
    .describe("one weight per style image, normalized to sum 1 (default equal)"),
  style_scale: z.number().positive().default(1)
    .describe("style image's longer side = style_scale × the content's longer side"),
  pooling: z.enum(["avg", "max"]).default("avg")
    .describe("pooling between VGG blocks (avg, as Gatys recommends; max as jcjohnson)"),
  padding: z.enum(PADDINGS).default("zero")
    .describe(
      "how the first conv pads the image, for the targets and the optimized image alike (zero, " +
        "as VGG; reflect or replicate against a dark border)",
    ),
}).strict();

/** Parsed parameters of `extract-features`. */
export type ExtractFeaturesParams = z.infer<typeof params>;

/** Everything {@link computeFeatureTargets} needs besides the engine and weights. */
export interface FeatureSettings {
  readonly contentLayers: readonly string[];
  readonly styleLayers: readonly string[];
  /** One per style layer. */
  readonly styleLayerWeights: readonly number[];
  /** One per style image, summing to 1. */
  readonly styleBlend: readonly number[];
  readonly pooling: Pooling;
  /** The first conv's padding (default zero). */
  readonly padding?: Padding;
  /** Tile side in px for images the memory budget cannot take whole (ctx.fit; absent: whole). */
  readonly tile?: number;
}

/**
 * Computes content and style targets for a content image, style images (already at the scale to
 * use) and optional masks (content resolution, values 0–1, one per style). Reusable at other sizes
 * (coarse-to-fine upscale recomputes with the same settings).
 */
export async function computeFeatureTargets(
  engine: Engine,
  weights: VggWeights,
  content: RgbImage,
  styles: readonly RgbImage[],
  masks: readonly Float32Array[] | undefined,
  settings: FeatureSettings,
): Promise<{ content: ContentTarget[]; style: StyleTarget[] }> {
  const { contentLayers, styleLayers, styleLayerWeights, styleBlend, pooling } = settings;
  const padding = settings.padding ?? "zero";
  const image = toEngineImage(content);
  const contentActs = await activationsAt(
    engine,
    weights,
    pooling,
    image,
    contentLayers,
    padding,
    settings.tile,
  );
  const contentTargets = contentLayers.map((layer) =>
    contentTarget(layer, 1, contentActs.get(layer)!)
  );

  // stats[k][l]: style k, layer l — each style computed once per process (see StyleGramMemo).
  const stats: StyleLayerStats[][] = [];
  for (const style of styles) {
    const pixels = toEngineImage(style);
    const key = {
      engine: engine.name,
      weightsId: weights.id,
      pooling,
      padding,
      layers: styleLayers,
      width: style.width,
      height: style.height,
      pixels: pixels.data,
      // Tiled statistics differ from whole ones in float summation order.
      tile: settings.tile,
    };
    stats.push(
      await styleGramMemo.get(
        key,
        () => statisticsAt(engine, weights, pooling, pixels, styleLayers, padding, settings.tile),
      ),
    );
  }

  const styleTargets: StyleTarget[] = [];
  if (!masks) {
    styleLayers.forEach((layer, l) => {
      // The blended Gram and mean are the mixture's (covarianceFromGram).
      const gram = blendGrams(stats.map((s) => s[l].gram), styleBlend);
      const mean = blendGrams(stats.map((s) => s[l].mean), styleBlend);
      styleTargets.push({ layer, weight: styleLayerWeights[l], gram, mean });
    });
  } else {
    styles.forEach((_, k) => {
      styleLayers.forEach((layer, l) => {
        const block = layerBlock(weights.arch, layer);
        const scale = maskGramScale(masks[k], content.height, content.width, block);
        const gram = stats[k][l].gram.map((v) => v * scale);
        const weight = styleLayerWeights[l] * styleBlend[k];
        styleTargets.push({ layer, weight, gram, mask: masks[k] });
      });
    });
  }
  return { content: contentTargets, style: styleTargets };
}

/** Problems with the parameters that the schema cannot see (list lengths). */
function paramProblems(p: ExtractFeaturesParams): string[] {
  const problems: string[] = [];
  if (p.style_layer_weights && p.style_layer_weights.length !== p.style_layers.length) {
    problems.push(
      `style_layer_weights has ${p.style_layer_weights.length} entries but style_layers has ` +
        `${p.style_layers.length}`,
    );
  }
  if (p.style_blend && p.style_blend.reduce((a, b) => a + b, 0) <= 0) {
    problems.push("style_blend weights must not all be 0");
  }
  return problems;
}

/** Style image resized so its longer side is `scale` × the content's longer side. */
export function scaleStyle(style: RgbImage, content: RgbImage, scale: number): RgbImage {
  const target = Math.max(1, Math.round(scale * Math.max(content.width, content.height)));
  const ratio = target / Math.max(style.width, style.height);
  const width = Math.max(1, Math.round(style.width * ratio));
  const height = Math.max(1, Math.round(style.height * ratio));
  return resizeImage(style, width, height, "lanczos3");
}

/** A mask image as one 0–1 value per content pixel (luma of the mask resized to the content). */
export function maskValues(mask: RgbImage, content: RgbImage): Float32Array {
  const gray = toGrayscale(resizeImage(mask, content.width, content.height, "bilinear"));
  const out = new Float32Array(content.width * content.height);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, gray.data[i * 3]));
  return out;
}

function listOf(value: Value | Value[] | undefined): Value[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** What the features of a step will hold, for the plan's estimates. */
function plannedFeatures(p: ExtractFeaturesParams, inputs: InputShapes): PlannedFeatures {
  return {
    model: p.model,
    contentLayers: p.content_layers,
    styleLayers: p.style_layers,
    styleScale: p.style_scale,
    masked: "masks" in inputs,
  };
}

/** The `extract-features` stage. */
export const extractFeaturesStage: Stage<ExtractFeaturesParams> = {
  name: "extract-features",
  // 2: unmasked style targets carry their mean feature (for style_loss: mean-covariance).
  // 3: tiled crops have one shape (their sums' float order changed).
  version: 3,
  description: "VGG content activations and style Gram matrices and means (several styles: blend " +
    "or masks; avg pooling by default, as Gatys recommends)",
  params,
  inputs: {
    content: { kind: "image", description: "the content photograph" },
    style: { kind: "image", many: true, description: "one or more style images" },
    masks: {
      kind: "image",
      many: true,
      optional: true,
      description: "one mask per style (white = this style applies), resized to the content",
    },
  },
  output: "features",
  usesEngine: true,
  models: (p) => [p.model],

  async check(p: ExtractFeaturesParams, ctx: CheckContext): Promise<string[]> {
    const problems = paramProblems(p);
    const layers = [...p.content_layers, ...p.style_layers];
    const problem = await weightsProblem(ctx.weightsDirs, p.model, layers);
    return problem ? [...problems, problem] : problems;
  },

  shape(inputs, p) {
    // Each VGG block halves the image: a layer of block b needs 2^(b−1) pixels a side (pool b: 2^b).
    const pools = Math.max(
      ...[...p.content_layers, ...p.style_layers].map((l) => {
        const m = /^(?:conv|relu)(\d)_\d$|^pool(\d)$/.exec(l);
        return m ? (m[1] ? Number(m[1]) - 1 : Number(m[2])) : 0;
      }),
    );
    const min = 2 ** pools;
    for (const [name, shape] of Object.entries(inputs)) {
      if (name !== "masks" && shape && (shape.width < min || shape.height < min)) {
        throw new StageError(
          `the ${name} image is ${shape.width}×${shape.height}; the layers asked for need at least ` +
            `${min}×${min} pixels (each VGG block halves the image)`,
        );
      }
    }
    const c = inputs.content;
    return c && { width: c.width, height: c.height, features: plannedFeatures(p, inputs) };
  },

  estimate(inputs, p, env) {
    const c = inputs.content;
    const engine = env?.engine ?? "auto";
    return c && fitExtraction(engine, plannedFeatures(p, inputs), c.width, c.height, env?.memory);
  },

  async run(ctx, inputs, p) {
    const problems = paramProblems(p);
    if (problems.length) throw new StageError(problems.join("; "));
    const content = imageOf(inputs.content, "content");
    const styleValues = listOf(inputs.style);
    if (styleValues.length === 0) throw new StageError(`input "style" needs at least one image`);
    const maskValuesIn = listOf(inputs.masks);
    if (maskValuesIn.length && maskValuesIn.length !== styleValues.length) {
      throw new StageError(
        `got ${maskValuesIn.length} masks for ${styleValues.length} styles: give one mask per style`,
      );
    }
    const blend = p.style_blend ?? styleValues.map(() => 1);
    if (blend.length !== styleValues.length) {
      throw new StageError(
        `style_blend has ${blend.length} weights for ${styleValues.length} style images`,
      );
    }
    const blendSum = blend.reduce((a, b) => a + b, 0);
    const styleBlend = blend.map((b) => b / blendSum);
    const styleLayerWeights = p.style_layer_weights ?? p.style_layers.map(() => 1);

    const styles = styleValues.map((v, i) =>
      scaleStyle(imageOf(v, `style[${i}]`), content, p.style_scale)
    );
    const masks = maskValuesIn.length
      ? maskValuesIn.map((v, i) => maskValues(imageOf(v, `masks[${i}]`), content))
      : undefined;

    const layers = [...p.content_layers, ...p.style_layers];
    const weights = await stageWeights(ctx.weightsDirs, p.model, layers);
    if (ctx.signal.aborted) throw ctx.signal.reason;

    const settings: FeatureSettings = {
      contentLayers: p.content_layers,
      styleLayers: p.style_layers,
      styleLayerWeights,
      styleBlend,
      pooling: p.pooling,
      padding: p.padding,
      tile: ctx.fit?.tile,
    };
    const engine = await ctx.engine();
    const targets = await computeFeatureTargets(engine, weights, content, styles, masks, settings);
    const features: FeatureTargets = {
      model: p.model,
      weightsId: weights.id,
      pooling: p.pooling,
      padding: p.padding,
      width: content.width,
      height: content.height,
      content: targets.content,
      style: targets.style,
      contentImage: content,
      styleImages: styles,
      recipe: {
        model: p.model,
        content_layers: p.content_layers,
        style_layers: p.style_layers,
        style_layer_weights: styleLayerWeights,
        style_blend: styleBlend,
        style_scale: p.style_scale,
        pooling: p.pooling,
        padding: p.padding,
        ...(masks ? { masks } : {}),
      },
    };
    return {
      kind: "features",
      features,
      info: {
        engine: engine.name,
        styles: styles.length,
        masked: masks !== undefined,
        ...(ctx.fit ? { memory_fit: { ...ctx.fit } } : {}),
      },
    };
  },
};
