/** Tone and colour adjustments with explicit per-pixel formulas. */
import type { RgbImage } from "./image.ts";
import { REC709_LUMA } from "./luma.ts";

/** Adjustment amounts; the neutral values leave the image unchanged. */
export interface Adjustments {
  /** Added to every channel: v + brightness. Neutral 0. */
  readonly brightness: number;
  /** Scales the distance from mid-grey: (v − 0.5) · contrast + 0.5. Neutral 1. */
  readonly contrast: number;
  /** Scales the distance from the pixel's Rec. 709 luma Y: Y + (v − Y) · saturation. Neutral 1. */
  readonly saturation: number;
  /** Power curve: max(v, 0)^(1 / gamma); gamma > 1 brightens mid-tones. Neutral 1. */
  readonly gamma: number;
}

/**
 * Applies, in this order, brightness, contrast, saturation and gamma (formulas on
 * {@link Adjustments}). Results are not clamped (saving clamps), except that gamma treats negative
 * values as 0.
 */
export function adjustImage(image: RgbImage, a: Adjustments): RgbImage {
  const [kr, kg, kb] = REC709_LUMA;
  const { brightness, contrast, saturation } = a;
  const exponent = 1 / a.gamma;
  const src = image.data;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i += 3) {
    let r = (src[i] + brightness - 0.5) * contrast + 0.5;
    let g = (src[i + 1] + brightness - 0.5) * contrast + 0.5;
    let b = (src[i + 2] + brightness - 0.5) * contrast + 0.5;
    if (saturation !== 1) {
      const y = kr * r + kg * g + kb * b;
      r = y + (r - y) * saturation;
      g = y + (g - y) * saturation;
      b = y + (b - y) * saturation;
    }
    if (exponent !== 1) {
      r = Math.pow(Math.max(r, 0), exponent);
      g = Math.pow(Math.max(g, 0), exponent);
      b = Math.pow(Math.max(b, 0), exponent);
    }
    out[i] = r;
    out[i + 1] = g;
    out[i + 2] = b;
  }
  return { width: image.width, height: image.height, data: out };
}
