/**
 * `crop`: cuts out a rectangle given by its top-left corner and size, in pixels (`units: px`, the
 * default) or as fractions of the image's width and height (`units: fraction`, rounded to pixels).
 * A rectangle reaching past the image is an error naming the overflow.
 */
import { z } from "npm:zod@4.6.7";
import { cropImage, type Rect } from "../image/crop.ts";
import { imageOf, type Stage, StageError } from "./stage.ts";
import { transformWithAlpha } from "../image/alpha.ts";

const params = z.object({
  x: z.number().min(0).default(0).describe("left edge (pixels, or fraction of the width)"),
  y: z.number().min(0).default(0).describe("top edge (pixels, or fraction of the height)"),
  width: z.number().positive().describe("width (pixels, or fraction of the width)"),
  height: z.number().positive().describe("height (pixels, or fraction of the height)"),
  units: z.enum(["px", "fraction"]).default("px").describe(
    "px: whole pixels; fraction: parts of the image size (0–1), rounded to pixels",
  ),
}).strict().superRefine((p, ctx) => {
  for (const k of ["x", "y", "width", "height"] as const) {
    if (p.units === "px" && !Number.isInteger(p[k])) {
      ctx.addIssue({ code: "custom", path: [k], message: `${k} must be a whole number of pixels` });
    }
  }
  if (p.units === "fraction" && (p.x + p.width > 1 || p.y + p.height > 1)) {
    ctx.addIssue({
      code: "custom",
      message: "fractions must satisfy x + width ≤ 1 and y + height ≤ 1",
    });
  }
});

/** Parsed parameters of `crop`. */
export type CropParams = z.infer<typeof params>;

/** The pixel rectangle `crop` cuts from a `width × height` image (not yet bounds-checked). */
export function cropRect(width: number, height: number, p: CropParams): Rect {
  if (p.units === "px") return { x: p.x, y: p.y, width: p.width, height: p.height };
  const x = Math.round(p.x * width);
  const y = Math.round(p.y * height);
  return {
    x,
    y,
    width: Math.max(1, Math.min(width - x, Math.round(p.width * width))),
    height: Math.max(1, Math.min(height - y, Math.round(p.height * height))),
  };
}

/** The `crop` stage. */
export const cropStage: Stage<CropParams> = {
  name: "crop",
  version: 1,
  description: "Cut out a rectangle (pixels or fractions of the size)",
  params,
  inputs: { image: { kind: "image", description: "the image to crop" } },
  output: "image",
  shape(inputs, p) {
    if (!inputs.image) return p.units === "px" ? { width: p.width, height: p.height } : undefined;
    const r = cropRect(inputs.image.width, inputs.image.height, p);
    return { width: r.width, height: r.height };
  },
  run(_ctx, inputs, p) {
    const image = imageOf(inputs.image, "image");
    const r = cropRect(image.width, image.height, p);
    const overflow: string[] = [];
    if (r.x + r.width > image.width) {
      overflow.push(`x + width = ${r.x + r.width} exceeds the image width ${image.width}`);
    }
    if (r.y + r.height > image.height) {
      overflow.push(`y + height = ${r.y + r.height} exceeds the image height ${image.height}`);
    }
    if (overflow.length) {
      throw new StageError(
        `crop rectangle ${r.width}×${r.height} at (${r.x}, ${r.y}) does not fit the ` +
          `${image.width}×${image.height} image: ${overflow.join("; ")}`,
      );
    }
    return Promise.resolve({
      kind: "image",
      image: transformWithAlpha(image, (i) => cropImage(i, r), { premultiply: false }),
      info: { ...r },
    });
  },
};
