/** `flip`: mirrors the image left–right (`horizontal`) or top–bottom (`vertical`); exact. */
import { z } from "npm:zod@4.6.7";
import { applyDihedral } from "../image/dihedral.ts";
import { imageOf, type Stage } from "./stage.ts";
import { transformWithAlpha } from "../image/alpha.ts";

const params = z.object({
  direction: z.enum(["horizontal", "vertical"]).default("horizontal").describe(
    "horizontal: mirror left–right; vertical: mirror top–bottom",
  ),
}).strict();

/** Parsed parameters of `flip`. */
export type FlipParams = z.infer<typeof params>;

/** The `flip` stage. */
export const flipStage: Stage<FlipParams> = {
  name: "flip",
  version: 1,
  description: "Mirror the image horizontally or vertically",
  params,
  inputs: { image: { kind: "image", description: "the image to mirror" } },
  output: "image",
  shape(inputs) {
    return inputs.image;
  },
  run(_ctx, inputs, p) {
    const image = imageOf(inputs.image, "image");
    const op = p.direction === "horizontal" ? "flip-horizontal" : "flip-vertical";
    return Promise.resolve({
      kind: "image",
      image: transformWithAlpha(image, (i) => applyDihedral(i, op), { premultiply: false }),
    });
  },
};
