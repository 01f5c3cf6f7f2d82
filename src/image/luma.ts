/** Rec. 709 luma and grayscale conversion. */
import type { RgbImage } from "./image.ts";

/** Rec. 709 luma weights for R, G, B. */
export const REC709_LUMA = [0.2126, 0.7152, 0.0722] as const;

/**
 * Grayscale as RGB: every pixel becomes (Y, Y, Y) with Y = 0.2126 R + 0.7152 G + 0.0722 B, computed on
 * the stored (gamma-encoded) values, i.e. luma Y′ rather than linear luminance.
 */
export function toGrayscale(image: RgbImage): RgbImage {
  const [kr, kg, kb] = REC709_LUMA;
  const src = image.data;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i += 3) {
    const y = kr * src[i] + kg * src[i + 1] + kb * src[i + 2];
    out[i] = y;
    out[i + 1] = y;
    out[i + 2] = y;
  }
  return { width: image.width, height: image.height, data: out };
}
