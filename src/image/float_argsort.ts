/**
 * Stable argsort of float32 values by LSD radix sort (three 11-bit passes over order-preserving
 * integer keys): O(n), several times faster than a comparator sort on megapixel channels.
 * NaNs sort after +∞; −0 sorts just before +0.
 */

/** Indices that put `values` in ascending order; equal values keep their original order. */
export function argsortFloat32(values: Float32Array): Uint32Array {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  let keys = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    // Order-preserving map of IEEE-754 bits: negatives get all bits flipped, positives the sign bit.
    const b = bits[i];
    keys[i] = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
  }
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let nextKeys = new Uint32Array(n), nextOrder = new Uint32Array(n);
  const counts = new Uint32Array(2048);
  for (const shift of [0, 11, 22]) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(keys[i] >>> shift) & 2047]++;
    let sum = 0;
    for (let d = 0; d < 2048; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      const at = counts[(k >>> shift) & 2047]++;
      nextKeys[at] = k;
      nextOrder[at] = order[i];
    }
    [keys, nextKeys] = [nextKeys, keys];
    [order, nextOrder] = [nextOrder, order];
  }
  return order;
}
