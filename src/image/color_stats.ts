/**
 * First and second moments of an image's colours: per-channel means and the 3×3 channel covariance
 * (population normalization, 1/N), accumulated in double precision; and mean/std matching of a
 * single channel (the paper's luminance matching of the style to the content).
 */
import type { RgbImage } from "./image.ts";

/** Mean colour and channel covariance of an image. */
export interface ColorStats {
  /** Mean of R, G, B. */
  readonly mean: [number, number, number];
  /** Row-major 3×3 covariance, Σ = (1/N) Σₚ (xₚ − μ)(xₚ − μ)ᵀ. */
  readonly covariance: number[];
}

/** The mean colour and channel covariance of `image` (two passes, double precision). */
export function colorStats(image: RgbImage): ColorStats {
  const d = image.data;
  const n = d.length / 3;
  const mean: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < d.length; i += 3) {
    mean[0] += d[i];
    mean[1] += d[i + 1];
    mean[2] += d[i + 2];
  }
  for (let c = 0; c < 3; c++) mean[c] /= n;
  let s00 = 0, s01 = 0, s02 = 0, s11 = 0, s12 = 0, s22 = 0;
  for (let i = 0; i < d.length; i += 3) {
    const r = d[i] - mean[0], g = d[i + 1] - mean[1], b = d[i + 2] - mean[2];
    s00 += r * r;
    s01 += r * g;
    s02 += r * b;
    s11 += g * g;
    s12 += g * b;
    s22 += b * b;
  }
  const covariance = [s00, s01, s02, s01, s11, s12, s02, s12, s22].map((s) => s / n);
  return { mean, covariance };
}

/** Mean and (population) standard deviation of a list of values, in double precision. */
export function meanStd(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length) };
}

/**
 * Maps `values` affinely so that their mean and standard deviation become the reference's:
 * v' = (σ_ref / σ) (v − μ) + μ_ref (Gatys et al. 2016, eq. 2, for the style luminance).
 * A constant input (σ = 0) takes the reference mean.
 */
export function matchMeanStd(values: Float32Array, reference: Float32Array): Float32Array {
  const src = meanStd(values), ref = meanStd(reference);
  const gain = src.std > 0 ? ref.std / src.std : 0;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = gain * (values[i] - src.mean) + ref.mean;
  return out;
}
