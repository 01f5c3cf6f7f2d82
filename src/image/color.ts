/**
 * Luma/chroma colour spaces for colour preservation (Gatys, Bethge, Hertzmann & Shechtman 2016):
 * YIQ (NTSC, FCC 1953 coefficients) and YCbCr (full-range BT.601, the JPEG convention: Cb and Cr
 * centred on 0.5). Both are affine maps of RGB on [0, 1] sharing the BT.601 luma
 * Y = 0.299 R + 0.587 G + 0.114 B; only the two chroma channels differ.
 *
 * Each inverse is the exact inverse of its forward matrix, computed in double precision at load,
 * rather than the rounded published inverse (whose 4-digit coefficients only invert to ~1e-4), so a
 * round trip returns the input up to float32 rounding.
 */
import { createImage, type RgbImage } from "./image.ts";
import { invert3, type Mat3 } from "./mat3.ts";

/** A luma/chroma colour space. */
export type ColorSpace = "yiq" | "ycbcr";

/** The colour spaces, for parameter schemas. */
export const colorSpaces: readonly ColorSpace[] = ["yiq", "ycbcr"];

/** An image in a luma/chroma space: interleaved (Y, C1, C2) float32 samples, HWC like {@link RgbImage}. */
export interface LumaChromaImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** The space the samples are in. */
  readonly space: ColorSpace;
  /** `width * height * 3` samples: Y, then the two chroma channels (I, Q or Cb, Cr). */
  readonly data: Float32Array;
}

/** BT.601 luma weights of R, G, B (they sum to 1, so a grey pixel's luma is its value). */
export const LUMA_WEIGHTS: readonly [number, number, number] = [0.299, 0.587, 0.114];

const [KR, KG, KB] = LUMA_WEIGHTS;

interface AffineSpace {
  /** Row-major forward matrix RGB → space. */
  readonly forward: Mat3;
  /** Offset added after the forward matrix. */
  readonly offset: readonly [number, number, number];
  /** The exact inverse of `forward`. */
  readonly inverse: Mat3;
}

function affineSpace(forward: Mat3, offset: [number, number, number]): AffineSpace {
  return { forward, offset, inverse: invert3(forward) };
}

const SPACES: Record<ColorSpace, AffineSpace> = {
  // FCC NTSC: the I and Q rows sum to zero, so greys have zero chroma.
  yiq: affineSpace([KR, KG, KB, 0.5959, -0.2746, -0.3213, 0.2115, -0.5227, 0.3112], [0, 0, 0]),
  // Full-range BT.601: Cb = (B − Y) / (2 (1 − Kb)) + ½, Cr = (R − Y) / (2 (1 − Kr)) + ½.
  ycbcr: affineSpace(
    [
      KR,
      KG,
      KB,
      -KR / (2 * (1 - KB)),
      -KG / (2 * (1 - KB)),
      (1 - KB) / (2 * (1 - KB)),
      (1 - KR) / (2 * (1 - KR)),
      -KG / (2 * (1 - KR)),
      -KB / (2 * (1 - KR)),
    ],
    [0, 0.5, 0.5],
  ),
};

/** Converts an RGB image to `space`. */
export function toLumaChroma(image: RgbImage, space: ColorSpace): LumaChromaImage {
  const { forward: m, offset } = SPACES[space];
  const src = image.data;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i += 3) {
    const r = src[i], g = src[i + 1], b = src[i + 2];
    out[i] = m[0] * r + m[1] * g + m[2] * b + offset[0];
    out[i + 1] = m[3] * r + m[4] * g + m[5] * b + offset[1];
    out[i + 2] = m[6] * r + m[7] * g + m[8] * b + offset[2];
  }
  return { width: image.width, height: image.height, space, data: out };
}

/** Converts a luma/chroma image back to RGB (no clamping: out-of-gamut values are kept). */
export function toRgb(image: LumaChromaImage): RgbImage {
  const { inverse: m, offset } = SPACES[image.space];
  const src = image.data;
  const out = createImage(image.width, image.height);
  const dst = out.data;
  for (let i = 0; i < src.length; i += 3) {
    const y = src[i] - offset[0], c1 = src[i + 1] - offset[1], c2 = src[i + 2] - offset[2];
    dst[i] = m[0] * y + m[1] * c1 + m[2] * c2;
    dst[i + 1] = m[3] * y + m[4] * c1 + m[5] * c2;
    dst[i + 2] = m[6] * y + m[7] * c1 + m[8] * c2;
  }
  return out;
}

/** The BT.601 luma of every pixel (row-major, height × width); identical in YIQ and YCbCr. */
export function luminance(image: RgbImage): Float32Array {
  const src = image.data;
  const out = new Float32Array(image.width * image.height);
  for (let p = 0, i = 0; p < out.length; p++, i += 3) {
    out[p] = KR * src[i] + KG * src[i + 1] + KB * src[i + 2];
  }
  return out;
}

/**
 * The luma of `lumaFrom` with the chroma of `chromaFrom`, in `space` (the paper's luminance-only
 * colour preservation: the styled result's Y, the content photo's I, Q or Cb, Cr). Both images must
 * have the same size. The result is not clamped; callers decide how to bring it into [0, 1].
 */
export function combineLuminanceChroma(
  lumaFrom: RgbImage,
  chromaFrom: RgbImage,
  space: ColorSpace,
): RgbImage {
  if (lumaFrom.width !== chromaFrom.width || lumaFrom.height !== chromaFrom.height) {
    throw new RangeError(
      `luma image is ${lumaFrom.width}×${lumaFrom.height} but chroma image is ` +
        `${chromaFrom.width}×${chromaFrom.height}`,
    );
  }
  const y = luminance(lumaFrom);
  const mixed = toLumaChroma(chromaFrom, space);
  for (let p = 0; p < y.length; p++) mixed.data[3 * p] = y[p];
  return toRgb(mixed);
}

/** A grey RGB image whose three channels are the given luma (row-major, height × width). */
export function greyFromLuminance(luma: Float32Array, width: number, height: number): RgbImage {
  const out = createImage(width, height);
  if (luma.length !== width * height) {
    throw new RangeError(`expected ${width * height} luma values, got ${luma.length}`);
  }
  for (let p = 0; p < luma.length; p++) out.data.fill(luma[p], 3 * p, 3 * p + 3);
  return out;
}

/** Clamps every sample into [0, 1] in place and returns the image. */
export function clampUnit(image: RgbImage): RgbImage {
  const d = image.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i] < 0 ? 0 : d[i] > 1 ? 1 : d[i];
  return image;
}
