/** Cropping a rectangle out of an image. */
import type { RgbImage } from "./image.ts";

/** A pixel rectangle: top-left corner and size. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Copies `rect` (integers, inside the image) out of `image`; throws RangeError otherwise. */
export function cropImage(image: RgbImage, rect: Rect): RgbImage {
  const { x, y, width, height } = rect;
  if (![x, y, width, height].every(Number.isInteger) || x < 0 || y < 0 || width < 1 || height < 1) {
    throw new RangeError(`crop rectangle must be non-negative integers with a positive size`);
  }
  if (x + width > image.width || y + height > image.height) {
    throw new RangeError(
      `crop rectangle ${width}×${height} at (${x}, ${y}) exceeds the ${image.width}×${image.height} image`,
    );
  }
  const out = new Float32Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const start = ((y + row) * image.width + x) * 3;
    out.set(image.data.subarray(start, start + width * 3), row * width * 3);
  }
  return { width, height, data: out };
}
