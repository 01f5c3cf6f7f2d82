/**
 * Rotation by an arbitrary angle with bilinear interpolation. Multiples of 90° are delegated to the
 * exact pixel permutations of {@link applyDihedral}.
 */
import type { RgbImage } from "./image.ts";
import { applyDihedral } from "./dihedral.ts";

/** Options of {@link rotateImage}. */
export interface RotateOptions {
  /** Colour (RGB, 0–1) of the area not covered by the rotated image. */
  readonly fill: readonly [number, number, number];
  /** Grow the canvas to hold the whole rotated image (else keep the input size, cutting corners). */
  readonly expand: boolean;
}

/** Rotates clockwise by `degrees` about the image centre (see {@link RotateOptions}). */
export function rotateImage(image: RgbImage, degrees: number, options: RotateOptions): RgbImage {
  const turn = ((degrees % 360) + 360) % 360;
  if (turn === 0) return { ...image, data: image.data.slice() };
  if (turn === 90) return applyDihedral(image, "rotate90");
  if (turn === 180) return applyDihedral(image, "rotate180");
  if (turn === 270) return applyDihedral(image, "rotate270");
  return rotateBilinear(image, turn, options);
}

/** Output size of a rotation by `degrees` (the bounding box when expanding, rounded). */
export function rotatedSize(
  width: number,
  height: number,
  degrees: number,
  expand: boolean,
): { width: number; height: number } {
  const turn = ((degrees % 360) + 360) % 360;
  if (turn === 90 || turn === 270) return { width: height, height: width };
  if (!expand || turn % 180 === 0) return { width, height };
  const t = (turn * Math.PI) / 180;
  const c = Math.abs(Math.cos(t));
  const s = Math.abs(Math.sin(t));
  // Rounding (not ceiling) so 1e-12 of float error never adds a pixel.
  return {
    width: Math.max(1, Math.round(width * c + height * s)),
    height: Math.max(1, Math.round(width * s + height * c)),
  };
}

/**
 * The general path, exported for tests: each output pixel centre is rotated back into the source and
 * sampled bilinearly; neighbours outside the source contribute the fill colour, so edges are smooth.
 */
export function rotateBilinear(image: RgbImage, degrees: number, options: RotateOptions): RgbImage {
  const { width: w, height: h, data: src } = image;
  const { width: outW, height: outH } = options.expand
    ? rotatedSize(w, h, degrees, true)
    : { width: w, height: h };
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const [fr, fg, fb] = options.fill;
  const out = new Float32Array(outW * outH * 3);
  let o = 0;
  for (let y = 0; y < outH; y++) {
    const dy = y + 0.5 - outH / 2;
    for (let x = 0; x < outW; x++) {
      const dx = x + 0.5 - outW / 2;
      // Inverse of a clockwise rotation (y down): rotate (dx, dy) counter-clockwise.
      const sx = cos * dx + sin * dy + w / 2 - 0.5;
      const sy = -sin * dx + cos * dy + h / 2 - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const ax = sx - x0;
      const ay = sy - y0;
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < 4; k++) {
        const px = x0 + (k & 1);
        const py = y0 + (k >> 1);
        const wt = ((k & 1) ? ax : 1 - ax) * ((k >> 1) ? ay : 1 - ay);
        if (wt === 0) continue;
        if (px < 0 || py < 0 || px >= w || py >= h) {
          r += wt * fr;
          g += wt * fg;
          b += wt * fb;
        } else {
          const p = (py * w + px) * 3;
          r += wt * src[p];
          g += wt * src[p + 1];
          b += wt * src[p + 2];
        }
      }
      out[o++] = r;
      out[o++] = g;
      out[o++] = b;
    }
  }
  return { width: outW, height: outH, data: out };
}
