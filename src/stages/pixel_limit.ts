/**
 * The largest image a step may decode or produce, checked from sizes alone (an image header, a
 * resize target) before any pixel memory is allocated: a 747 KB PNG can declare 16000×16000
 * pixels, 3 GiB as float RGB. Default 100 megapixels; `STYLEPIPE_MAX_MEGAPIXELS` changes it.
 */
import { StageError } from "./stage.ts";

/** The default limit in megapixels. */
export const DEFAULT_MAX_MEGAPIXELS = 100;

/** The limit in pixels: `$STYLEPIPE_MAX_MEGAPIXELS` (a positive number) × 10⁶, else the default. */
export function maxPixels(): number {
  const raw = Deno.env.get("STYLEPIPE_MAX_MEGAPIXELS");
  const mp = raw === undefined ? NaN : Number(raw);
  return (Number.isFinite(mp) && mp > 0 ? mp : DEFAULT_MAX_MEGAPIXELS) * 1e6;
}

/** Throws a {@link StageError} when `width × height` is over the limit; `what` names the image. */
export function checkPixels(width: number, height: number, what: string): void {
  const limit = maxPixels();
  if (width * height > limit) {
    throw new StageError(
      `${what} is ${width}×${height} = ${(width * height / 1e6).toFixed(1)} megapixels, over the ` +
        `limit of ${limit / 1e6}; use a smaller image, or raise STYLEPIPE_MAX_MEGAPIXELS`,
    );
  }
}
