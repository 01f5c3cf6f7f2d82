/** Seeded synthetic images with known colour statistics, shared by the colour tests. */
import { createImage, type RgbImage } from "../../src/image/image.ts";
import { Prng } from "../../src/util/prng.ts";

/**
 * A width × height image whose pixels are mean + mix · z with z standard normal per channel, so its
 * expected covariance is mix · mixᵀ (the sample statistics are what tests compare).
 */
export function correlatedImage(
  width: number,
  height: number,
  seed: number,
  mean: readonly number[],
  mix: readonly number[],
): RgbImage {
  const prng = new Prng(seed);
  const image = createImage(width, height);
  for (let i = 0; i < image.data.length; i += 3) {
    const z = [prng.normal(), prng.normal(), prng.normal()];
    for (let c = 0; c < 3; c++) {
      image.data[i + c] = mean[c] + mix[3 * c] * z[0] + mix[3 * c + 1] * z[1] +
        mix[3 * c + 2] * z[2];
    }
  }
  return image;
}

/** A warm, fairly saturated "painting" (source / style). */
export function warmImage(width = 24, height = 20): RgbImage {
  return correlatedImage(width, height, 7, [0.62, 0.41, 0.28], [
    0.09,
    0.02,
    0.0,
    0.05,
    0.06,
    0.01,
    0.02,
    0.03,
    0.05,
  ]);
}

/** A cool, less saturated "photo" (content / target). */
export function coolImage(width = 22, height = 18): RgbImage {
  return correlatedImage(width, height, 11, [0.35, 0.47, 0.58], [
    0.04,
    -0.01,
    0.02,
    0.03,
    0.05,
    0.0,
    0.01,
    0.04,
    0.07,
  ]);
}

/** Largest absolute difference between two equal-length number lists. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
