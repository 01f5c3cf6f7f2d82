/**
 * Per-channel histogram matching by exact CDF matching on float data: each source value is mapped
 * to the target's quantile at the same rank, interpolating linearly between target samples.
 *
 * The source value of rank r (0-based, of n) has quantile q = r / (n − 1) and becomes the target's
 * sorted samples interpolated at position q (m − 1). Tied source values share the quantile of the
 * middle of their run (so equal inputs stay equal; a deterministic alternative to breaking ties by
 * position). With equal sizes and no ties, the output's sorted values are exactly the target's.
 */
import { createImage, type RgbImage } from "./image.ts";

/** `values` remapped so that their distribution is that of `reference` (see the module comment). */
export function matchHistogram(values: Float32Array, reference: Float32Array): Float32Array {
  if (values.length === 0) return new Float32Array(0);
  if (reference.length === 0) throw new RangeError("histogram reference has no values");
  const sortedSource = Float32Array.from(values).sort();
  const sortedTarget = Float32Array.from(reference).sort();
  const n = values.length, m = reference.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const first = lowerBound(sortedSource, v);
    const last = upperBound(sortedSource, v) - 1;
    const q = n === 1 ? 0.5 : (first + last) / 2 / (n - 1);
    out[i] = quantile(sortedTarget, q * (m - 1));
  }
  return out;
}

/** `source` with each RGB channel histogram-matched to the same channel of `target`. */
export function histogramColorTransfer(source: RgbImage, target: RgbImage): RgbImage {
  const out = createImage(source.width, source.height);
  for (let c = 0; c < 3; c++) {
    const matched = matchHistogram(channel(source, c), channel(target, c));
    for (let p = 0; p < matched.length; p++) out.data[3 * p + c] = matched[p];
  }
  return out;
}

/** Channel `c` of an RGB image as a row-major plane. */
export function channel(image: RgbImage, c: number): Float32Array {
  const out = new Float32Array(image.width * image.height);
  for (let p = 0; p < out.length; p++) out[p] = image.data[3 * p + c];
  return out;
}

function quantile(sorted: Float32Array, position: number): number {
  const lo = Math.floor(position);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const f = position - lo;
  return sorted[lo] + f * (sorted[hi] - sorted[lo]);
}

function lowerBound(sorted: Float32Array, v: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(sorted: Float32Array, v: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
