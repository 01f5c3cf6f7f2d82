/**
 * A fixed yardstick for comparing renders, independent of the weights a render used:
 * - content distance = mean((F − P)²) over relu3_2 of the output (F) and of the content image (P);
 * - style distance = Σ over relu1_1, relu2_1, relu3_1 of mean((G − A)²), G and A the Gram matrices
 *   of the output and of the style image, normalized as in objective/gram.ts: FᵀF / (H·W·C).
 * Average pooling, the network at the output's size, the style image resized so its longer side is
 * the output's (style_scale 1). These are the layers the partial VGG19 weights provide, so every
 * render here can be scored; the PyTorch reference uses the same definition.
 */
import { toEngineImage } from "../engines/engine_image.ts";
import type { RgbImage } from "../../image/image.ts";
import { resizeImage, resizeLongerSide } from "../../image/resample.ts";
import type { Engine } from "../engines/engine.ts";
import type { VggWeights } from "../models/weights_types.ts";
import { gramMatrix } from "../objective/gram.ts";

/** The content layer of the score. */
export const SCORE_CONTENT_LAYER = "relu3_2";
/** The style layers of the score. */
export const SCORE_STYLE_LAYERS: readonly string[] = ["relu1_1", "relu2_1", "relu3_1"];

/** Content and style distances of one image (see the module comment). */
export interface Score {
  readonly content: number;
  readonly style: number;
}

/**
 * Scores `output` against `content` and `style` (RGB 0–1). The content image is resized to the
 * output's size, the style image to the output's longer side (lanczos3).
 */
export async function scoreImage(
  engine: Engine,
  weights: VggWeights,
  output: RgbImage,
  content: RgbImage,
  style: RgbImage,
): Promise<Score> {
  const { width, height } = output;
  const styleSized = resizeLongerSide(style, Math.max(width, height));
  const contentSized = content.width === width && content.height === height
    ? content
    : resizeImage(content, width, height, "lanczos3");
  const layers = [SCORE_CONTENT_LAYER, ...SCORE_STYLE_LAYERS];
  const acts = async (image: RgbImage, names: readonly string[]) =>
    await engine.extract(weights, "avg", toEngineImage(image), names);
  const o = await acts(output, layers);
  const c = await acts(contentSized, [SCORE_CONTENT_LAYER]);
  const s = await acts(styleSized, SCORE_STYLE_LAYERS);
  const contentDistance = meanSquaredDifference(
    o.get(SCORE_CONTENT_LAYER)!.data,
    c.get(SCORE_CONTENT_LAYER)!.data,
  );
  let styleDistance = 0;
  for (const layer of SCORE_STYLE_LAYERS) {
    styleDistance += meanSquaredDifference(
      gramMatrix(o.get(layer)!),
      gramMatrix(s.get(layer)!),
    );
  }
  return { content: contentDistance, style: styleDistance };
}

/** mean((a − b)²), accumulated in float64. */
export function meanSquaredDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  return sum / a.length;
}
