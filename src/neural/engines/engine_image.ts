/** An image as the engines take it (objective/terms.ts): HWC RGB on the 0–255 scale. */
import type { RgbImage } from "../../image/image.ts";

/** The engines' view of `image`: its RGB values ×255 (a new array; alpha is not carried). */
export function toEngineImage(
  image: RgbImage,
): { height: number; width: number; data: Float32Array } {
  return { height: image.height, width: image.width, data: image.data.map((v) => v * 255) };
}

/** Checks that `length` values are an HWC RGB image of height × width (RangeError otherwise). */
export function checkEngineImage(length: number, height: number, width: number): void {
  if (length !== height * width * 3) {
    throw new RangeError(`image has ${length} values, expected ${height}×${width}×3`);
  }
}
