/**
 * Separable 1-D filtering, the engine behind resizing and blurring: a precomputed table of weights
 * over a contiguous source window for each output position, applied along rows, then along columns.
 */
import type { RgbImage } from "./image.ts";

/** For each of `size` output positions, `taps` weights over source samples `start … start+taps−1`. */
export interface TapTable {
  /** Number of output positions. */
  readonly size: number;
  /** Window length (the same for every position; unused taps have weight 0). */
  readonly taps: number;
  /** First source index of each position's window; windows lie inside the source. */
  readonly start: Int32Array;
  /** `size * taps` weights, row-major; each position's weights sum to 1. */
  readonly weight: Float32Array;
}

/**
 * Builds a tap table from a kernel centred per output position. Source samples outside
 * `[0, sourceSize)` take the value of the nearest edge sample (edge replication: their weight is
 * added to the edge's); weights are normalized to sum to 1.
 *
 * @param size number of output positions
 * @param sourceSize number of source samples
 * @param support kernel half-width, in source samples: the kernel must vanish for |d| ≥ support
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
  // Source samples strictly inside (c − support, c + support): at most ⌈2·support⌉ of them.
  const reach = Math.ceil(2 * support);
  const taps = Math.min(reach, sourceSize);
  const start = new Int32Array(size);
  const weight = new Float32Array(size * taps);
  const w = new Float64Array(taps);
  for (let i = 0; i < size; i++) {
    const c = center(i);
    const left = Math.floor(c - support) + 1;
    const s = Math.max(0, Math.min(left, sourceSize - taps));
    w.fill(0);
    let sum = 0;
    for (let k = 0; k < reach; k++) {
      const j = left + k;
      const v = kernel(j - c);
      w[(j < 0 ? 0 : j >= sourceSize ? sourceSize - 1 : j) - s] += v;
      sum += v;
    }
    start[i] = s;
    for (let k = 0; k < taps; k++) weight[i * taps + k] = sum !== 0 ? w[k] / sum : 0;
  }
  return { size, taps, start, weight };
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
  const { taps: xt, start: xStart, weight: xWeight } = xTaps;
  for (let y = 0; y < height; y++) {
    const rowIn = y * width * 3;
    const rowOut = y * outW * 3;
    for (let x = 0; x < outW; x++) {
      let r = 0, g = 0, b = 0;
      const base = x * xt;
      let p = rowIn + xStart[x] * 3;
      for (let k = 0; k < xt; k++, p += 3) {
        const w = xWeight[base + k];
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
  // Pass 2: columns, accumulated a whole row at a time (cache-friendly; float64 accumulator).
  const out = new Float32Array(outH * outW * 3);
  const rowLen = outW * 3;
  const acc = new Float64Array(rowLen);
  const { taps: yt, start: yStart, weight: yWeight } = yTaps;
  for (let y = 0; y < outH; y++) {
    acc.fill(0);
    for (let k = 0; k < yt; k++) {
      const w = yWeight[y * yt + k];
      if (w === 0) continue;
      const s = (yStart[y] + k) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] += w * mid[s + i];
    }
    out.set(acc, y * rowLen);
  }
  return { width: outW, height: outH, data: out };
}
