/**
 * Region masks at a layer's resolution (plan/network.ts says which): a mask is area-averaged onto it.
 */
import { layerSize } from "../plan/network.ts";

/**
 * A region mask given at the image's resolution (height × width), area-averaged onto the resolution
 * of a layer of VGG block `block` (the block's pools come before it; a `poolN` has block N + 1's).
 */
export function maskAtLayer(
  mask: Float32Array,
  height: number,
  width: number,
  block: number,
): Float32Array {
  const [h, w] = layerSize(block, height, width);
  return resizeMaskArea(mask, height, width, h, w);
}

/**
 * Area-averages a mask (row-major, height × width, values 0–1) onto toHeight × toWidth: each output
 * cell is the mean of the input area it covers (fractional overlaps weighted exactly).
 */
export function resizeMaskArea(
  mask: Float32Array,
  height: number,
  width: number,
  toHeight: number,
  toWidth: number,
): Float32Array {
  if (mask.length !== height * width) {
    throw new RangeError(`mask has ${mask.length} values, expected ${height}×${width}`);
  }
  const rows = areaWeights(height, toHeight);
  const cols = areaWeights(width, toWidth);
  const out = new Float32Array(toHeight * toWidth);
  for (let oy = 0; oy < toHeight; oy++) {
    for (const [iy, wy] of rows[oy]) {
      for (let ox = 0; ox < toWidth; ox++) {
        let acc = 0;
        for (const [ix, wx] of cols[ox]) acc += wx * mask[iy * width + ix];
        out[oy * toWidth + ox] += wy * acc;
      }
    }
  }
  return out;
}

/** For each output index, the input indices it covers and their normalized overlap weights. */
function areaWeights(n: number, m: number): [number, number][][] {
  const scale = n / m;
  const result: [number, number][][] = [];
  for (let o = 0; o < m; o++) {
    const start = o * scale, end = (o + 1) * scale;
    const taps: [number, number][] = [];
    for (let i = Math.floor(start); i < Math.min(n, Math.ceil(end)); i++) {
      const overlap = Math.min(end, i + 1) - Math.max(start, i);
      if (overlap > 1e-12) taps.push([i, overlap / scale]);
    }
    result.push(taps);
  }
  return result;
}
