/**
 * Per-channel histogram matching by exact CDF matching on float data: each source value is mapped
 * to the target's quantile at the same rank, interpolating linearly between target samples.
 *
 * The source value of rank r (0-based, of n) has quantile q = r / (n − 1) and becomes the target's
 * sorted samples interpolated at position q (m − 1). Tied source values share the quantile of the
 * middle of their run (so equal inputs stay equal; a deterministic alternative to breaking ties by
 * position). With equal sizes and no ties, the output's sorted values are exactly the target's.
 */
import { argsortFloat32 } from "./float_argsort.ts";
import { createImage, type RgbImage } from "./image.ts";

/** `values` remapped so that their distribution is that of `reference` (see the module comment). */
export function matchHistogram(values: Float32Array, reference: Float32Array): Float32Array {
  if (values.length === 0) return new Float32Array(0);
  if (reference.length === 0) throw new RangeError("histogram reference has no values");
  const n = values.length, m = reference.length;
  const targetOrder = argsortFloat32(reference);
  const sortedTarget = new Float32Array(m);
  for (let i = 0; i < m; i++) sortedTarget[i] = reference[targetOrder[i]];
  const order = argsortFloat32(values);
  const out = new Float32Array(n);
  // Walk the source in ascending order, one run of equal values at a time.
  for (let first = 0; first < n;) {
    const v = values[order[first]];
    let last = first;
    while (last + 1 < n && values[order[last + 1]] === v) last++;
    const q = n === 1 ? 0.5 : (first + last) / 2 / (n - 1);
    const matched = quantile(sortedTarget, q * (m - 1));
    for (let r = first; r <= last; r++) out[order[r]] = matched;
    first = last + 1;
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
