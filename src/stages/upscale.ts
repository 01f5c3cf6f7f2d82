/**
 * `upscale`: one coarse-to-fine step. The previous result is enlarged (lanczos3 or bicubic) by a
 * factor or to a longer side, the content and style targets are recomputed at the new size with
 * the extraction settings of the features (style images scaled by style_scale relative to the new
 * content size, masks resized), and the style transfer runs again from the enlarged image with
 * (usually fewer) iterations. Gatys et al. optimize at one size; this is the multi-resolution
 * scheme of jcjohnson/neural-style's multires example, which keeps large renders affordable.
 *
 * The targets come from the best pixels available: the optional `content` and `style` inputs (the
 * original images, as the `scales:` expansion wires them), else the images kept in the features,
 * which were stored at the first size and are only enlarged (a warning says so).
 */
import { z } from "npm:zod@4.6.7";
import type { RgbImage } from "../image/image.ts";
import { resizeImage } from "../image/resample.ts";
import { stageWeights } from "./stage_weights.ts";
import {
  computeFeatureTargets,
  type FeatureSettings,
  maskValues,
  scaleStyle,
} from "./extract_features.ts";
import {
  featuresOf,
  type FeatureTargets,
  imageOf,
  type Stage,
  type StageContext,
  StageError,
  type Value,
} from "./stage.ts";
import {
  styleLossProblems,
  styleTransferParams,
  styleTransferStage,
  transferPlan,
} from "./style_transfer.ts";
import { transformWithAlpha } from "../image/alpha.ts";

const params = styleTransferParams.omit({ init: true, iterations: true }).extend({
  factor: z.number().min(1).optional().describe("enlargement factor of the previous result"),
  size: z.number().int().min(1).optional().describe("longer side of the result in pixels"),
  filter: z.enum(["lanczos3", "bicubic"]).default("lanczos3")
    .describe("filter that enlarges the previous result"),
  iterations: z.number().int().min(0).default(100)
    .describe("optimizer iterations at the new size (the most it runs when tolerance is set)"),
}).strict().refine((p) => (p.factor === undefined) !== (p.size === undefined), {
  message: "give either factor or size (the longer side), not both",
});

/** Parsed parameters of `upscale`. */
export type UpscaleParams = z.infer<typeof params>;

/** Size of the enlarged image: `factor` × the input, or longer side `size` (aspect kept). */
export function upscaledSize(
  width: number,
  height: number,
  p: Pick<UpscaleParams, "factor" | "size">,
): { width: number; height: number } {
  const ratio = p.factor ?? p.size! / Math.max(width, height);
  return {
    width: Math.max(1, Math.round(width * ratio)),
    height: Math.max(1, Math.round(height * ratio)),
  };
}

/** The `upscale` stage. */
export const upscaleStage: Stage<UpscaleParams> = {
  name: "upscale",
  // 4: as style-transfer 4 (L-BFGS's first step, tiled crops of one shape).
  version: 4,
  description: "Enlarges a result and refines it by style transfer at the new size " +
    "(targets recomputed there; coarse-to-fine)",
  params,
  inputs: {
    image: { kind: ["image", "file"], description: "the previous (smaller) result" },
    features: { kind: "features", description: "targets from extract-features (their settings)" },
    content: {
      kind: ["image", "file"],
      optional: true,
      description: "the original content image (default: the features' copy, enlarged)",
    },
    style: {
      kind: ["image", "file"],
      many: true,
      optional: true,
      description: "the original style images, as given to extract-features",
    },
  },
  output: "image",
  usesEngine: true,

  check(p, ctx) {
    return Promise.resolve(styleLossProblems(p, ctx));
  },

  shape(inputs, p) {
    const image = inputs.image;
    return image ? upscaledSize(image.width, image.height, p) : undefined;
  },

  estimate(inputs, p, env) {
    // Where the previous size is unknown at plan time (a loaded image), a square of side `size`
    // bounds the result from above.
    const image = inputs.image ?? (p.size ? { width: p.size, height: p.size } : undefined);
    if (!image) return undefined;
    const { factor: _f, size: _s, filter: _filter, ...transfer } = p;
    return transferPlan(
      { ...upscaledSize(image.width, image.height, p), features: inputs.features?.features },
      styleTransferParams.parse({ ...transfer, init: "image" }),
      env,
    );
  },

  async run(ctx, inputs, p) {
    ctx.signal.throwIfAborted();
    const previous = imageOf(inputs.image, "image");
    const features = featuresOf(inputs.features);
    const { width, height } = upscaledSize(previous.width, previous.height, p);
    const content = transformWithAlpha(
      contentSource(ctx, inputs.content, features, width, height),
      (i) => resizeImage(i, width, height, "lanczos3"),
      { premultiply: true },
    );
    const scaled = await targetsAt(ctx, inputs.style, features, content, p);
    ctx.signal.throwIfAborted();
    const enlarged = resizeImage(previous, width, height, p.filter);
    const { factor: _f, size: _s, filter: _filter, ...transfer } = p;
    const result = await styleTransferStage.run(
      ctx,
      {
        features: { kind: "features", features: scaled },
        init: { kind: "image", image: enlarged },
      },
      styleTransferParams.parse({ ...transfer, init: "image" }),
    );
    return {
      ...result,
      info: { ...result.info, from_size: [previous.width, previous.height], size: [width, height] },
    } as Value;
  },
};

/**
 * The features at the new size: targets recomputed from `content` and the style images scaled to
 * it. The scaled style images are dropped once their statistics are taken (126 MB at 4096 px),
 * so the transfer after it does not hold them.
 */
async function targetsAt(
  ctx: StageContext,
  styleInput: Value | Value[] | undefined,
  features: FeatureTargets,
  content: RgbImage,
  p: UpscaleParams,
): Promise<FeatureTargets> {
  const { width, height } = content;
  const styleScale = features.recipe.style_scale as number;
  const styleSide = Math.round(styleScale * Math.max(width, height));
  const styles = styleSources(ctx, styleInput, features, styleSide).map((s) =>
    scaleStyle(s, content, styleScale)
  );
  const masks = (features.recipe.masks as Float32Array[] | undefined)?.map((m) =>
    maskValues(maskImage(m, features), content)
  );
  const engine = await ctx.engine();
  const weights = await stageWeights(ctx.weightsDirs, features.model);
  const r = features.recipe;
  const settings: FeatureSettings = {
    contentLayers: r.content_layers as string[],
    styleLayers: r.style_layers as string[],
    styleLayerWeights: r.style_layer_weights as number[],
    styleBlend: r.style_blend as number[],
    pooling: features.pooling,
    padding: features.padding,
    tile: ctx.fit?.tile ?? p.tile,
  };
  const targets = await computeFeatureTargets(engine, weights, content, styles, masks, settings);
  return {
    ...features,
    weightsId: weights.id,
    width,
    height,
    content: targets.content,
    style: targets.style,
    contentImage: content,
    styleImages: [],
    recipe: { ...r, ...(masks ? { masks } : {}) },
  };
}

/** The content image to recompute targets from; warns when only the features' smaller copy is there. */
function contentSource(
  ctx: StageContext,
  input: Value | Value[] | undefined,
  features: FeatureTargets,
  width: number,
  height: number,
): RgbImage {
  if (input !== undefined) return imageOf(input, "content");
  if (width > features.contentImage.width || height > features.contentImage.height) {
    ctx.warn(
      `the content image kept in the features is ${features.contentImage.width}×` +
        `${features.contentImage.height}, so the content targets at ${width}×${height} come from ` +
        `an enlarged copy; give the original as the "content" input for full detail`,
    );
  }
  return features.contentImage;
}

/**
 * The style images to scale: the `style` input when given (one per style of the features), else
 * the features' copies (with a warning when they must be enlarged to `longerSide`).
 */
function styleSources(
  ctx: StageContext,
  input: Value | Value[] | undefined,
  features: FeatureTargets,
  longerSide: number,
): RgbImage[] {
  const given = input === undefined ? [] : Array.isArray(input) ? input : [input];
  if (given.length === 0) {
    if (features.styleImages.some((s) => Math.max(s.width, s.height) < longerSide)) {
      ctx.warn(
        `the style images kept in the features are smaller than the ${longerSide} px the new ` +
          `size needs; give the originals as the "style" input for full detail`,
      );
    }
    return [...features.styleImages];
  }
  if (given.length !== features.styleImages.length) {
    throw new StageError(
      `got ${given.length} style images but the features were extracted from ` +
        `${features.styleImages.length}: give the same styles in the same order`,
    );
  }
  return given.map((v, i) => imageOf(v, `style[${i}]`));
}

/** A stored mask (0–1 per content pixel of the features) as a grey image. */
function maskImage(mask: Float32Array, features: FeatureTargets): RgbImage {
  const data = new Float32Array(mask.length * 3);
  for (let i = 0; i < mask.length; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = mask[i];
  return { width: features.width, height: features.height, data };
}
