/**
 * The `tv` term, total variation of the image x (HWC, RGB, 0–255):
 *
 *   w · Σ_{i,j,c} (x[i+1,j,c] − x[i,j,c])² + (x[i,j+1,c] − x[i,j,c])²
 *
 * a sum, not a mean (statistics.ts's `tv-squared-difference`; w = tv_weight). Normalisation
 * (`relative`, normalize.ts) divides w by the photo's own {@link totalVariation}.
 */

/** The TV term of the loss table (always present; its weight may be 0). */
export interface TvTerm {
  /** Total variation of the image x. */
  readonly kind: "tv";
  /** The whole factor w = tv_weight. */
  readonly weight: number;
}

/** Σ (x[i+1,j,c] − x[i,j,c])² + (x[i,j+1,c] − x[i,j,c])² of an HWC RGB image, on the host. */
export function totalVariation(
  image: { height: number; width: number; data: Float32Array },
): number {
  const { height: h, width: w, data } = image;
  let sum = 0;
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      for (let c = 0; c < 3; c++) {
        const v = data[(i * w + j) * 3 + c];
        if (i + 1 < h) sum += (data[((i + 1) * w + j) * 3 + c] - v) ** 2;
        if (j + 1 < w) sum += (data[(i * w + j + 1) * 3 + c] - v) ** 2;
      }
    }
  }
  return sum;
}
