/**
 * `rotate`: turns the image clockwise by `angle` degrees. Multiples of 90° are exact pixel
 * permutations (the output has the rotated size; `expand` and `fill` do not apply). Other angles
 * are sampled bilinearly; the uncovered area gets `fill`, and `expand` grows the canvas to the
 * rotated bounding box (otherwise the input size is kept and the corners are cut).
 */
import { z } from "npm:zod@4.6.7";
import { rotatedSize, rotateImage } from "../image/rotate.ts";
import { hexColorParam, parseHexColor } from "./hex_color.ts";
import { imageOf, type Stage } from "./stage.ts";
import { transformWithAlpha } from "../image/alpha.ts";

const params = z.object({
  angle: z.number().describe("degrees, clockwise (negative: counter-clockwise)"),
  fill: hexColorParam("fill").default("#000000")
    .describe("colour of the area not covered by the image (#rgb or #rrggbb)"),
  expand: z.boolean().default(true).describe(
    "grow the canvas to hold the whole rotated image (else keep the size and cut the corners)",
  ),
}).strict();

/** Parsed parameters of `rotate`. */
export type RotateParams = z.infer<typeof params>;

/** The `rotate` stage. */
export const rotateStage: Stage<RotateParams> = {
  name: "rotate",
  version: 1,
  description: "Rotate clockwise (exact for multiples of 90°, bilinear otherwise)",
  params,
  inputs: { image: { kind: "image", description: "the image to rotate" } },
  output: "image",
  shape(inputs, p) {
    return inputs.image && rotatedSize(inputs.image.width, inputs.image.height, p.angle, p.expand);
  },
  run(_ctx, inputs, p) {
    const image = imageOf(inputs.image, "image");
    const expand = p.expand;
    // The uncovered area takes the fill colour, opaque.
    const rotated = transformWithAlpha(
      image,
      (i) => rotateImage(i, p.angle, { fill: parseHexColor(p.fill), expand }),
      {
        premultiply: p.angle % 90 !== 0,
        alphaTransform: (a) => rotateImage(a, p.angle, { fill: [1, 1, 1], expand }),
      },
    );
    return Promise.resolve({ kind: "image", image: rotated, info: { angle: p.angle } });
  },
};
