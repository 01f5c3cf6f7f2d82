/**
 * The eight exact flips/rotations by multiples of 90° (the dihedral group of the square): pure pixel
 * permutations, no resampling. Rotations are clockwise, as an image is viewed (y pointing down).
 */
import type { RgbImage } from "./image.ts";

/** A flip or quarter-turn rotation. */
export type DihedralOp =
  | "identity"
  | "flip-horizontal"
  | "flip-vertical"
  | "rotate90"
  | "rotate180"
  | "rotate270"
  | "transpose"
  | "transverse";

/**
 * Applies `op`. `transpose` mirrors across the main diagonal (out(x, y) = in(y, x)); `transverse`
 * across the anti-diagonal. `rotate90` turns clockwise: the left column becomes the top row.
 */
export function applyDihedral(image: RgbImage, op: DihedralOp): RgbImage {
  const { width: w, height: h } = image;
  const swap = op === "rotate90" || op === "rotate270" || op === "transpose" || op === "transverse";
  const outW = swap ? h : w;
  const outH = swap ? w : h;
  // Source (sx, sy) of output (x, y) as sx = ax·x + bx·y + cx, sy = ay·x + by·y + cy.
  const [ax, bx, cx, ay, by, cy] = (() => {
    switch (op) {
      case "identity":
        return [1, 0, 0, 0, 1, 0];
      case "flip-horizontal":
        return [-1, 0, w - 1, 0, 1, 0];
      case "flip-vertical":
        return [1, 0, 0, 0, -1, h - 1];
      case "rotate180":
        return [-1, 0, w - 1, 0, -1, h - 1];
      case "rotate90":
        return [0, 1, 0, -1, 0, h - 1];
      case "rotate270":
        return [0, -1, w - 1, 1, 0, 0];
      case "transpose":
        return [0, 1, 0, 1, 0, 0];
      case "transverse":
        return [0, -1, w - 1, -1, 0, h - 1];
    }
  })();
  const src = image.data;
  const out = new Float32Array(src.length);
  let o = 0;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const p = ((ay * x + by * y + cy) * w + (ax * x + bx * y + cx)) * 3;
      out[o++] = src[p];
      out[o++] = src[p + 1];
      out[o++] = src[p + 2];
    }
  }
  return { width: outW, height: outH, data: out };
}
