/**
 * `grayscale`: replaces every pixel by its Rec. 709 luma Y = 0.2126 R + 0.7152 G + 0.0722 B
 * (on the stored, gamma-encoded values); the output is still RGB, with R = G = B = Y.
 */
import { z } from "npm:zod@4.6.7";
import { toGrayscale } from "../image/luma.ts";
import { imageOf, type Stage } from "./stage.ts";
import { keepExtras } from "../image/alpha.ts";

const params = z.object({}).strict();

/** Parsed parameters of `grayscale` (none). */
export type GrayscaleParams = z.infer<typeof params>;

/** The `grayscale` stage. */
export const grayscaleStage: Stage<GrayscaleParams> = {
  name: "grayscale",
  version: 1,
  description: "Rec. 709 luma as a gray RGB image",
  params,
  inputs: { image: { kind: "image", description: "the image to convert" } },
  output: "image",
  shape(inputs) {
    return inputs.image;
  },
  run(_ctx, inputs) {
    const image = imageOf(inputs.image, "image");
    return Promise.resolve({ kind: "image", image: keepExtras(toGrayscale(image), image) });
  },
};
