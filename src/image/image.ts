/**
 * The in-memory image every stage exchanges: RGB, interleaved (HWC), float32, values in [0, 1].
 *
 * Floats keep a chain of adjustments free of intermediate 8-bit rounding; codecs quantize only at
 * the edges (load/save). Colour stages work on RGB; an optional alpha plane rides along (geometric
 * stages resample it with the colour, see `alpha.ts`), as do the source file's colour profile and
 * EXIF for `save`'s `metadata: keep`.
 */
export interface RgbImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `width * height * 3` samples, row-major, RGB interleaved, nominally in [0, 1]. */
  readonly data: Float32Array;
  /** Optional straight (not premultiplied) alpha, `width * height` samples in [0, 1]. */
  readonly alpha?: Float32Array;
  /** ICC profile the samples are in (base64), when `load` kept a non-sRGB one; absent = sRGB. */
  readonly icc?: string;
  /** EXIF of the source file (base64 TIFF block, orientation reset to upright), for `metadata: keep`. */
  readonly exif?: string;
}

/** Makes a black (or `fill`-valued) image of the given size. */
export function createImage(width: number, height: number, fill = 0): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}×${height}`);
  }
  const data = new Float32Array(width * height * 3);
  if (fill !== 0) data.fill(fill);
  return { width, height, data };
}
