/**
 * The optional alpha plane (and the source profile / EXIF) riding along an {@link RgbImage}: stages
 * that move pixels resample the alpha with the colour; stages that recolour keep it as it is; a
 * style transfer, which works on RGB, gets it back from its content image.
 */
import type { RgbImage } from "./image.ts";
import { resizeImage } from "./resample.ts";

/** What rides along besides the RGB samples. */
type Extras = Pick<RgbImage, "alpha" | "icc" | "exif">;

/** Options of {@link transformWithAlpha}. */
export interface AlphaTransformOptions {
  /**
   * Filter colour premultiplied by alpha (for operations that mix neighbouring pixels, so a
   * transparent pixel's hidden colour does not bleed); exact permutations need not.
   */
  readonly premultiply: boolean;
  /** The transform applied to the alpha plane (default: the same one), e.g. another fill value. */
  readonly alphaTransform?: (alpha: RgbImage) => RgbImage;
}

/**
 * Applies a geometric transform (`transform` treats the three channels alike) to the colour and
 * the alpha plane, and carries the profile and EXIF. Without alpha it is `transform` alone.
 */
export function transformWithAlpha(
  image: RgbImage,
  transform: (image: RgbImage) => RgbImage,
  options: AlphaTransformOptions,
): RgbImage {
  const { alpha } = image;
  const meta = metaOf(image);
  if (!alpha) return { ...plain(transform(plain(image))), ...meta };
  const n = image.width * image.height;
  const colour = plain(image);
  if (options.premultiply) {
    const data = colour.data.slice();
    for (let p = 0; p < n; p++) {
      for (let c = 0; c < 3; c++) data[3 * p + c] *= alpha[p];
    }
    colour.data = data;
  }
  const out = plain(transform(colour));
  const plane = channel0((options.alphaTransform ?? transform)(asImage(image, alpha)));
  if (options.premultiply) {
    for (let p = 0; p < plane.length; p++) {
      const a = plane[p];
      for (let c = 0; c < 3; c++) out.data[3 * p + c] = a > 0 ? out.data[3 * p + c] / a : 0;
    }
  }
  return { ...out, alpha: plane, ...meta };
}

/** `out` (same size as `source`) with `source`'s alpha, profile and EXIF (a recolouring stage). */
export function keepExtras(out: RgbImage, source: RgbImage): RgbImage {
  const extras: Extras = { ...(source.alpha ? { alpha: source.alpha } : {}), ...metaOf(source) };
  if (source.width !== out.width || source.height !== out.height) {
    return { ...out, ...metaOf(source) };
  }
  return { ...out, ...extras };
}

/**
 * An RGB result (e.g. of a style transfer) with `source`'s alpha re-attached, resized (lanczos3)
 * when the sizes differ, and `source`'s profile and EXIF.
 */
export function reattachAlpha(out: RgbImage, source: RgbImage): RgbImage {
  if (!source.alpha) return { ...out, ...metaOf(source) };
  let alpha = source.alpha;
  if (source.width !== out.width || source.height !== out.height) {
    alpha = channel0(resizeImage(asImage(source, source.alpha), out.width, out.height, "lanczos3"));
  }
  return { ...out, alpha, ...metaOf(source) };
}

function metaOf(image: RgbImage): Extras {
  return { ...(image.icc ? { icc: image.icc } : {}), ...(image.exif ? { exif: image.exif } : {}) };
}

/** Width, height and samples only (mutable data so premultiplying can replace it). */
function plain(image: RgbImage): { width: number; height: number; data: Float32Array } {
  return { width: image.width, height: image.height, data: image.data };
}

/** The alpha plane as a grey image (so RGB transforms apply to it unchanged). */
function asImage(image: RgbImage, alpha: Float32Array): RgbImage {
  const data = new Float32Array(alpha.length * 3);
  for (let p = 0; p < alpha.length; p++) data[3 * p] = data[3 * p + 1] = data[3 * p + 2] = alpha[p];
  return { width: image.width, height: image.height, data };
}

/** The first channel, clamped to [0, 1] (filters such as lanczos3 overshoot). */
function channel0(image: RgbImage): Float32Array {
  const out = new Float32Array(image.width * image.height);
  for (let p = 0; p < out.length; p++) out[p] = Math.min(1, Math.max(0, image.data[3 * p]));
  return out;
}

/**
 * The image composited over an opaque `background` (RGB in [0, 1]) and without alpha:
 * a·colour + (1 − a)·background per channel, on the stored (sRGB-encoded) values as ImageMagick's
 * `-flatten` does. An image without alpha is returned unchanged.
 */
export function flattenAlpha(
  image: RgbImage,
  background: readonly [number, number, number],
): RgbImage {
  const { alpha } = image;
  if (!alpha) return image;
  const data = new Float32Array(image.data.length);
  for (let p = 0; p < alpha.length; p++) {
    const a = alpha[p];
    for (let c = 0; c < 3; c++) {
      data[3 * p + c] = a * image.data[3 * p + c] + (1 - a) * background[c];
    }
  }
  const { alpha: _dropped, ...rest } = image;
  return { ...rest, data };
}
