/**
 * Blending two images of the same size. With base a and overlay b (per channel, both clamped to
 * [0, 1] first), the mode gives f(a, b) and the result is a + opacity · (f(a, b) − a):
 * - normal:     b
 * - multiply:   a · b
 * - screen:     1 − (1 − a)(1 − b)
 * - overlay:    a ≤ 0.5 ? 2ab : 1 − 2(1 − a)(1 − b)
 * - soft-light: W3C compositing formula: b ≤ 0.5 ? a − (1 − 2b) a (1 − a) : a + (2b − 1)(D(a) − a),
 *               D(a) = a ≤ 0.25 ? ((16a − 12)a + 4)a : √a
 * - difference: |a − b|
 */
import type { RgbImage } from "./image.ts";

/** Blend modes. */
export const blendModes = [
  "normal",
  "multiply",
  "screen",
  "overlay",
  "soft-light",
  "difference",
] as const;
/** A blend mode name. */
export type BlendMode = typeof blendModes[number];

const modeFunctions: Record<BlendMode, (a: number, b: number) => number> = {
  normal: (_a, b) => b,
  multiply: (a, b) => a * b,
  screen: (a, b) => 1 - (1 - a) * (1 - b),
  overlay: (a, b) => (a <= 0.5 ? 2 * a * b : 1 - 2 * (1 - a) * (1 - b)),
  "soft-light": (a, b) => {
    if (b <= 0.5) return a - (1 - 2 * b) * a * (1 - a);
    const d = a <= 0.25 ? ((16 * a - 12) * a + 4) * a : Math.sqrt(a);
    return a + (2 * b - 1) * (d - a);
  },
  difference: (a, b) => Math.abs(a - b),
};

/** Blends `overlay` onto `base` (same size) with `mode` and `opacity` in [0, 1]. */
export function blendImages(
  base: RgbImage,
  overlay: RgbImage,
  mode: BlendMode,
  opacity: number,
): RgbImage {
  if (base.width !== overlay.width || base.height !== overlay.height) {
    throw new RangeError(
      `blend needs equal sizes, got ${base.width}×${base.height} and ${overlay.width}×${overlay.height}`,
    );
  }
  const f = modeFunctions[mode];
  const a = base.data;
  const b = overlay.data;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = clamp01(a[i]);
    out[i] = x + opacity * (f(x, clamp01(b[i])) - x);
  }
  return { width: base.width, height: base.height, data: out };
}

function clamp01(v: number): number {
  return v > 0 ? (v < 1 ? v : 1) : 0;
}
