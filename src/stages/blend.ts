/**
 * `blend`: composites `overlay` onto `base` with a blend mode and an opacity (formulas in
 * src/image/blend_modes.ts; both inputs are clamped to [0, 1] first). The output has the base's size;
 * an overlay of another size is resized (stretched, lanczos3) to it, with a warning.
 */
import { z } from "npm:zod@4.6.7";
import { blendImages, blendModes } from "../image/blend_modes.ts";
import { resizeImage } from "../image/resample.ts";
import { imageOf, type Stage } from "./stage.ts";
import { keepExtras } from "../image/alpha.ts";

const params = z.object({
  mode: z.enum(blendModes).default("normal").describe(
    "normal, multiply, screen, overlay, soft-light or difference",
  ),
  opacity: z.number().min(0).max(1).default(1).describe(
    "0: base unchanged, 1: full effect; result = base + opacity · (mode(base, overlay) − base)",
  ),
}).strict();

/** Parsed parameters of `blend`. */
export type BlendParams = z.infer<typeof params>;

/** The `blend` stage. */
export const blendStage: Stage<BlendParams> = {
  name: "blend",
  version: 1,
  description:
    "Blend two images (opacity; normal, multiply, screen, overlay, soft-light, difference)",
  params,
  inputs: {
    base: { kind: "image", description: "the bottom image (sets the output size)" },
    overlay: {
      kind: "image",
      description: "the top image (stretched to the base's size if needed)",
    },
  },
  output: "image",
  shape(inputs) {
    return inputs.base;
  },
  run(ctx, inputs, p) {
    const base = imageOf(inputs.base, "base");
    let overlay = imageOf(inputs.overlay, "overlay");
    if (overlay.width !== base.width || overlay.height !== base.height) {
      ctx.warn(
        `overlay ${overlay.width}×${overlay.height} stretched to the base's ${base.width}×${base.height}`,
      );
      overlay = resizeImage(overlay, base.width, base.height, "lanczos3");
    }
    return Promise.resolve({
      kind: "image",
      image: keepExtras(blendImages(base, overlay, p.mode, p.opacity), base),
    });
  },
};
