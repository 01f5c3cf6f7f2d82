/**
 * The largest image a step may decode or produce, checked from sizes alone (an image header, a
 * resize target) before any pixel memory is allocated: a 747 KB PNG can declare 16000×16000
 * pixels, 3 GiB as float RGB. Default 100 megapixels; `STYLEPIPE_MAX_MEGAPIXELS` changes it.
 * Within it, the memory budget bounds what decoding one file, and the images a run holds at once,
 * may cost: default 1536 MB; `--memory` or `STYLEPIPE_MEMORY_BUDGET_MB` changes it.
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

/** The default memory budget in megabytes (10⁶ bytes). */
export const DEFAULT_MEMORY_BUDGET_MB = 1536;

/** The variable holding the images' budget in MB (`--memory` sets it for its run). */
export const IMAGE_BUDGET_ENV = "STYLEPIPE_MEMORY_BUDGET_MB";

/** The memory budget in bytes: `$STYLEPIPE_MEMORY_BUDGET_MB` (a positive number) × 10⁶, else the default. */
export function memoryBudget(): number {
  const raw = Deno.env.get(IMAGE_BUDGET_ENV);
  const mb = raw === undefined ? NaN : Number(raw);
  return (Number.isFinite(mb) && mb > 0 ? mb : DEFAULT_MEMORY_BUDGET_MB) * 1e6;
}

/** Throws a {@link StageError} when `bytes` is over the memory budget; `what` names the cost. */
export function checkMemory(bytes: number, what: string): void {
  const budget = memoryBudget();
  if (bytes > budget) {
    throw new StageError(
      `${what} needs about ${(bytes / 1e6).toFixed(0)} MB, over the memory budget of ` +
        `${(budget / 1e6).toFixed(0)} MB; use a smaller image, or raise --memory ` +
        `(or ${IMAGE_BUDGET_ENV})`,
    );
  }
}
