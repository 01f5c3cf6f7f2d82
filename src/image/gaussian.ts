/** Gaussian blur: a sampled, normalized Gaussian kernel applied separably with edge clamping. */
import type { RgbImage } from "./image.ts";
import { applySeparable, buildTaps } from "./separable.ts";

/** Kernel radius (in pixels) used for `sigma`: ⌈3σ⌉, which keeps 99.7% of the mass. */
export function gaussianRadius(sigma: number): number {
  return Math.ceil(3 * sigma);
}

/**
 * The 1-D kernel for `sigma`: `exp(−k² / 2σ²)` for k = −r…r (r = {@link gaussianRadius}),
 * normalized to sum to 1. σ = 0 gives the identity kernel `[1]`.
 */
export function gaussianKernel(sigma: number): Float64Array {
  if (!(sigma >= 0)) throw new RangeError(`sigma must be ≥ 0, got ${sigma}`);
  const r = gaussianRadius(sigma);
  const k = new Float64Array(2 * r + 1);
  if (r === 0) {
    k[0] = 1;
    return k;
  }
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** Blurs `image` with a Gaussian of standard deviation `sigma` pixels (borders replicated). */
export function gaussianBlur(image: RgbImage, sigma: number): RgbImage {
  const kernel = gaussianKernel(sigma);
  const r = (kernel.length - 1) / 2;
  const weight = (d: number) => kernel[Math.round(d) + r] ?? 0;
  // Support r + ½: the taps at distance exactly r are kept (the kernel is truncated, not zero there).
  const taps = (n: number) => buildTaps(n, n, r + 0.5, (i) => i, weight);
  return applySeparable(image, taps(image.width), taps(image.height));
}
