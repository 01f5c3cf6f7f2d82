/**
 * Image resizing with separable filters and pixel-centre alignment: output pixel `i` (of `n`) samples
 * the source at `(i + 0.5) · (N / n) − 0.5`, so the image's edges map onto each other exactly.
 *
 * When shrinking by a factor `s > 1`, the kernel is stretched by `s` (support scaling), which makes
 * every filter other than `nearest` an area-averaging prefilter: no aliasing however far the image is
 * shrunk (bilinear becomes a tent over `2s` source pixels, lanczos3 a windowed sinc over `6s`).
 * `nearest` always picks exactly one source pixel. Edges are handled by replicating the border.
 */
import type { RgbImage } from "./image.ts";
import { applySeparable, buildTaps, type TapTable } from "./separable.ts";

/** Resampling filters. */
export const resizeFilters = ["nearest", "bilinear", "bicubic", "lanczos3"] as const;
/** A resampling filter name. */
export type ResizeFilter = typeof resizeFilters[number];

interface Kernel {
  /** Half-width at scale 1, in source pixels. */
  readonly support: number;
  readonly weight: (x: number) => number;
}

const kernels: Record<Exclude<ResizeFilter, "nearest">, Kernel> = {
  bilinear: { support: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) },
  bicubic: { support: 2, weight: cubic },
  lanczos3: { support: 3, weight: (x) => lanczos(x, 3) },
};

/** Keys' cubic convolution kernel with a = −0.5 (Catmull–Rom; interpolating). */
export function cubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** Lanczos kernel with `lobes` lobes: sinc(x)·sinc(x/lobes) for |x| < lobes. */
export function lanczos(x: number, lobes: number): number {
  if (x === 0) return 1;
  if (Math.abs(x) >= lobes) return 0;
  const px = Math.PI * x;
  return (lobes * Math.sin(px) * Math.sin(px / lobes)) / (px * px);
}

/** Taps mapping `sourceSize` samples onto `size` with `filter` (see the module doc). */
export function resampleTaps(sourceSize: number, size: number, filter: ResizeFilter): TapTable {
  const scale = sourceSize / size;
  if (filter === "nearest") {
    const start = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      start[i] = Math.min(sourceSize - 1, Math.floor((i + 0.5) * scale));
    }
    return { size, taps: 1, start, weight: new Float32Array(size).fill(1) };
  }
  const kernel = kernels[filter];
  const stretch = Math.max(1, scale);
  return buildTaps(
    size,
    sourceSize,
    kernel.support * stretch,
    (i) => (i + 0.5) * scale - 0.5,
    (d) => kernel.weight(d / stretch),
  );
}

/** Resizes `image` to `width × height` with `filter` (default lanczos3). */
export function resizeImage(
  image: RgbImage,
  width: number,
  height: number,
  filter: ResizeFilter = "lanczos3",
): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resize target must be positive integers, got ${width}×${height}`);
  }
  if (width === image.width && height === image.height) {
    return { width, height, data: image.data.slice() };
  }
  return applySeparable(
    image,
    resampleTaps(image.width, width, filter),
    resampleTaps(image.height, height, filter),
  );
}

/**
 * `image` resized (lanczos3, down or up) so its longer side is `side`, the aspect ratio kept;
 * the same image when it already has that size.
 */
export function resizeLongerSide(image: RgbImage, side: number): RgbImage {
  const ratio = side / Math.max(image.width, image.height);
  const width = Math.max(1, Math.round(image.width * ratio));
  const height = Math.max(1, Math.round(image.height * ratio));
  return width === image.width && height === image.height
    ? image
    : resizeImage(image, width, height, "lanczos3");
}
