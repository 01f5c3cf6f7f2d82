/**
 * `resize`: scales an image. Give exactly one of `max_side`, `width`, `height`, `scale` (aspect
 * ratio kept, the other side rounded), or `width` and `height` together with `fit`: `contain`
 * (largest size that fits inside the box, aspect kept; the default) or `stretch` (exactly that size).
 * Filters: nearest, bilinear, bicubic (Catmull–Rom), lanczos3 (default); all but nearest average
 * areas when shrinking (see src/image/resample.ts), so large reductions do not alias.
 */
import { z } from "npm:zod@4.6.7";
import { resizeFilters, resizeImage } from "../image/resample.ts";
import { checkPixels } from "./pixel_limit.ts";
import { imageOf, type Stage, StageError } from "./stage.ts";
import { transformWithAlpha } from "../image/alpha.ts";

/** Largest side accepted (a 32768² float RGB image is already 12 GiB). */
const MAX_SIDE = 32768;
/** Largest `scale` (the result is also held to MAX_SIDE and the pixel limit). */
const MAX_SCALE = 64;
const side = (what: string) => z.number().int().positive().max(MAX_SIDE).optional().describe(what);

const params = z.object({
  max_side: side("longest side becomes this many pixels, aspect kept"),
  width: side("output width in pixels (aspect kept unless height is also given)"),
  height: side("output height in pixels (aspect kept unless width is also given)"),
  scale: z.number().positive().max(MAX_SCALE).optional().describe(
    "scale factor, e.g. 0.5 halves both sides",
  ),
  fit: z.enum(["contain", "stretch"]).optional().describe(
    "with both width and height: contain (fit inside, aspect kept; default) or stretch (exact size)",
  ),
  upscale: z.boolean().default(true).describe(
    "false: never enlarge (an image already small enough is passed through unchanged)",
  ),
  filter: z.enum(resizeFilters).default("lanczos3").describe("resampling filter"),
}).strict().superRefine((p, ctx) => {
  const given = (["max_side", "width", "height", "scale"] as const).filter((k) =>
    p[k] !== undefined
  );
  const pair = given.length === 2 && p.width !== undefined && p.height !== undefined;
  if (given.length !== 1 && !pair) {
    ctx.addIssue({
      code: "custom",
      message: given.length === 0
        ? "give one of max_side, width, height or scale (or width and height together)"
        : `give only one of max_side, width, height or scale (or width and height together), got ${
          given.join(", ")
        }`,
    });
  }
  if (p.fit !== undefined && !pair) {
    ctx.addIssue({ code: "custom", path: ["fit"], message: "fit needs both width and height" });
  }
});

/** Parsed parameters of `resize`. */
export type ResizeParams = z.infer<typeof params>;

/** The output size `resize` produces for a `width × height` input. */
export function resizeTarget(
  width: number,
  height: number,
  p: ResizeParams,
): { width: number; height: number } {
  const scaled = (f: number) => ({
    width: Math.max(1, Math.round(width * f)),
    height: Math.max(1, Math.round(height * f)),
  });
  let target: { width: number; height: number };
  if (p.width !== undefined && p.height !== undefined) {
    target = p.fit === "stretch"
      ? { width: p.width, height: p.height }
      : scaled(Math.min(p.width / width, p.height / height));
  } else if (p.max_side !== undefined) target = scaled(p.max_side / Math.max(width, height));
  else if (p.width !== undefined) target = { ...scaled(p.width / width), width: p.width };
  else if (p.height !== undefined) target = { ...scaled(p.height / height), height: p.height };
  else target = scaled(p.scale ?? 1);
  if (!p.upscale && (target.width > width || target.height > height)) return { width, height };
  return target;
}

/** Throws a {@link StageError} when a result of `width × height` is too large. */
function checkSize(width: number, height: number): void {
  if (width > MAX_SIDE || height > MAX_SIDE) {
    throw new StageError(`the result would be ${width}×${height}; sides are at most ${MAX_SIDE}`);
  }
  checkPixels(width, height, "the resized image");
}

/** The `resize` stage. */
export const resizeStage: Stage<ResizeParams> = {
  name: "resize",
  version: 1,
  description: "Scale the image (max_side / width / height / scale; filters up to lanczos3)",
  params,
  inputs: { image: { kind: "image", description: "the image to scale" } },
  output: "image",
  shape(inputs, p) {
    if (!inputs.image) return undefined;
    const target = resizeTarget(inputs.image.width, inputs.image.height, p);
    checkSize(target.width, target.height); // so `validate` refuses it before anything runs
    return target;
  },
  estimate(inputs, p) {
    if (!inputs.image) return undefined;
    const out = resizeTarget(inputs.image.width, inputs.image.height, p);
    return {
      bytes: 4 * 3 * (inputs.image.width * inputs.image.height + 2 * out.width * out.height),
    };
  },
  run(_ctx, inputs, p) {
    const image = imageOf(inputs.image, "image");
    const { width, height } = resizeTarget(image.width, image.height, p);
    checkSize(width, height);
    return Promise.resolve({
      kind: "image",
      image: transformWithAlpha(image, (i) => resizeImage(i, width, height, p.filter), {
        premultiply: true,
      }),
      info: { width, height, filter: p.filter },
    });
  },
};
