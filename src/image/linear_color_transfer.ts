/**
 * Linear colour transfer (Gatys, Bethge, Hertzmann & Shechtman 2016, §2.1): recolour a source image
 * x ↦ A (x − μ_s) + μ_t so that its mean colour and channel covariance become the target's,
 * A Σ_s Aᵀ = Σ_t. Two choices of A:
 * - `cholesky`: A = L_t L_s⁻¹ with Σ = L Lᵀ;
 * - `pca`: A = Σ_t^{1/2} Σ_s^{-1/2} with symmetric square roots (U Λ^{±1/2} Uᵀ from the
 *   eigendecomposition), the paper's "image analogies" variant.
 * Both covariances get a small ridge εI first so that flat or grey images (singular Σ) stay finite.
 */
import { type ColorStats, colorStats } from "./color_stats.ts";
import { createImage, type RgbImage } from "./image.ts";
import { apply3, cholesky3, invert3, type Mat3, mul3, symmetricFunction3 } from "./mat3.ts";

/** How the 3×3 transfer matrix is built. */
export type LinearVariant = "cholesky" | "pca";

/** The variants, for parameter schemas. */
export const linearVariants: readonly LinearVariant[] = ["cholesky", "pca"];

/**
 * Ridge ε added to both covariances' diagonals. Photographs have channel variances around 1e-2 and
 * 8-bit quantization alone contributes 1.3e-6; the ridge shifts the matched covariance by
 * ε (I − A Aᵀ), i.e. by about ε‖A‖², far below what an 8-bit image can show.
 */
export const COVARIANCE_RIDGE = 1e-8;

/** The affine map x ↦ matrix · (x − sourceMean) + targetMean. */
export interface ColorTransform {
  readonly matrix: number[];
  readonly sourceMean: readonly number[];
  readonly targetMean: readonly number[];
}

/** The transform taking colours with `source` statistics to the `target` statistics. */
export function linearTransferTransform(
  source: ColorStats,
  target: ColorStats,
  variant: LinearVariant,
  ridge = COVARIANCE_RIDGE,
): ColorTransform {
  const ss = regularize(source.covariance, ridge), st = regularize(target.covariance, ridge);
  const matrix = variant === "cholesky"
    ? mul3(cholesky3(st), invert3(cholesky3(ss)))
    : mul3(symmetricFunction3(st, Math.sqrt), symmetricFunction3(ss, (l) => 1 / Math.sqrt(l)));
  return { matrix, sourceMean: source.mean, targetMean: target.mean };
}

/** Applies a {@link ColorTransform} to every pixel (no clamping). */
export function applyColorTransform(image: RgbImage, t: ColorTransform): RgbImage {
  const out = createImage(image.width, image.height);
  const src = image.data, dst = out.data;
  const [ms0, ms1, ms2] = t.sourceMean;
  for (let i = 0; i < src.length; i += 3) {
    const v = apply3(t.matrix, [src[i] - ms0, src[i + 1] - ms1, src[i + 2] - ms2]);
    dst[i] = v[0] + t.targetMean[0];
    dst[i + 1] = v[1] + t.targetMean[1];
    dst[i + 2] = v[2] + t.targetMean[2];
  }
  return out;
}

/**
 * `source` recoloured so its mean colour and channel covariance equal those of `target`
 * (up to the ridge). Not clamped: the caller decides how to bring values into [0, 1].
 */
export function linearColorTransfer(
  source: RgbImage,
  target: RgbImage,
  variant: LinearVariant,
): RgbImage {
  const t = linearTransferTransform(colorStats(source), colorStats(target), variant);
  return applyColorTransform(source, t);
}

function regularize(m: Mat3, ridge: number): number[] {
  return m.map((x, i) => (i % 4 === 0 ? x + ridge : x));
}
