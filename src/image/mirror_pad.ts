/** Extending an image outwards by mirroring it at its edges (the pixel on the edge is not repeated). */
import type { RgbImage } from "./image.ts";

/**
 * `image` with `margin` pixels added on every side, x[−k] = x[k] (reflect, as numpy's "reflect");
 * the colour only (an alpha plane is not carried). Throws RangeError unless 0 ≤ margin < each side.
 */
export function mirrorPad(image: RgbImage, margin: number): RgbImage {
  const { width: w, height: h } = image;
  if (!Number.isInteger(margin) || margin < 0 || (margin > 0 && (margin >= w || margin >= h))) {
    throw new RangeError(
      `a mirrored margin of ${margin} px needs an image wider and taller than it (${w}×${h})`,
    );
  }
  const width = w + 2 * margin, height = h + 2 * margin;
  const mirror = (i: number, n: number) => i < 0 ? -i : i >= n ? 2 * n - 2 - i : i;
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = mirror(y - margin, h);
    for (let x = 0; x < width; x++) {
      const from = (sy * w + mirror(x - margin, w)) * 3;
      data.set(image.data.subarray(from, from + 3), (y * width + x) * 3);
    }
  }
  return { width, height, data };
}
