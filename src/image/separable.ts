/**
 * Separable 1-D filtering, the engine behind resizing and blurring: a precomputed table of taps
 * (source index + weight for each output position) applied along rows, then along columns.
 */
import type { RgbImage } from "./image.ts";

/** For each of `size` output positions, `taps` source indices and weights (flattened, row-major). */
export interface TapTable {
  /** Number of output positions. */
  readonly size: number;
  /** Taps per output position (unused taps have weight 0). */
  readonly taps: number;
  /** `size * taps` source indices, already clamped into the source range. */
  readonly index: Int32Array;
  /** `size * taps` weights; each output position's weights sum to 1. */
  readonly weight: Float32Array;
}

/**
 * Builds a tap table from a kernel centred per output position. Source indices outside
 * `[0, sourceSize)` are clamped to the edge (edge replication); weights are normalized to sum to 1.
 *
 * @param size number of output positions
 * @param sourceSize number of source samples
 * @param support kernel half-width, in source samples
 * @param center source coordinate (pixel-index space) of output position `i`
 * @param kernel weight of a source sample at signed distance `d` from the centre
 */
export function buildTaps(
  size: number,
  sourceSize: number,
  support: number,
  center: (i: number) => number,
  kernel: (d: number) => number,
): TapTable {
  const taps = Math.ceil(2 * support) + 1;
  const index = new Int32Array(size * taps);
  const weight = new Float32Array(size * taps);
  const w = new Float64Array(taps);
  for (let i = 0; i < size; i++) {
    const c = center(i);
    const left = Math.ceil(c - support);
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      w[k] = kernel(left + k - c);
      sum += w[k];
    }
    for (let k = 0; k < taps; k++) {
      const j = left + k;
      index[i * taps + k] = j < 0 ? 0 : j >= sourceSize ? sourceSize - 1 : j;
      weight[i * taps + k] = sum !== 0 ? w[k] / sum : 0;
    }
  }
  return { size, taps, index, weight };
}

/**
 * Filters an image with `xTaps` along rows and then `yTaps` along columns. The output is
 * `xTaps.size × yTaps.size`; `xTaps` must index `image.width` columns and `yTaps` `image.height` rows.
 */
export function applySeparable(image: RgbImage, xTaps: TapTable, yTaps: TapTable): RgbImage {
  const { width, height, data } = image;
  const outW = xTaps.size;
  const outH = yTaps.size;
  // Pass 1: rows (height × outW).
  const mid = new Float32Array(height * outW * 3);
  const xt = xTaps.taps;
  for (let y = 0; y < height; y++) {
    const rowIn = y * width * 3;
    const rowOut = y * outW * 3;
    for (let x = 0; x < outW; x++) {
      let r = 0, g = 0, b = 0;
      const base = x * xt;
      for (let k = 0; k < xt; k++) {
        const w = xTaps.weight[base + k];
        if (w === 0) continue;
        const p = rowIn + xTaps.index[base + k] * 3;
        r += w * data[p];
        g += w * data[p + 1];
        b += w * data[p + 2];
      }
      const o = rowOut + x * 3;
      mid[o] = r;
      mid[o + 1] = g;
      mid[o + 2] = b;
    }
  }
  // Pass 2: columns, accumulated row by row for cache-friendly access.
  const out = new Float32Array(outH * outW * 3);
  const rowLen = outW * 3;
  const yt = yTaps.taps;
  for (let y = 0; y < outH; y++) {
    const o = y * rowLen;
    for (let k = 0; k < yt; k++) {
      const w = yTaps.weight[y * yt + k];
      if (w === 0) continue;
      const s = yTaps.index[y * yt + k] * rowLen;
      for (let i = 0; i < rowLen; i++) out[o + i] += w * mid[s + i];
    }
  }
  return { width: outW, height: outH, data: out };
}
