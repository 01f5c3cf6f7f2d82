/**
 * `rotate`: turns the image clockwise by `angle` degrees. Multiples of 90° are exact pixel
 * permutations (the output has the rotated size; `expand` and `fill` do not apply). Other angles
 * are sampled bilinearly; the uncovered area gets `fill`, and `expand` grows the canvas to the
 * rotated bounding box (otherwise the input size is kept and the corners are cut).
 */
import { z } from "zod";
import { rotatedSize, rotateImage } from "../image/rotate.ts";
import { imageOf, type Stage } from "./stage.ts";
import { transformWithAlpha } from "../image/alpha.ts";

const hexColor = /^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

const params = z.object({
  angle: z.number().describe("degrees, clockwise (negative: counter-clockwise)"),
  fill: z.string().regex(hexColor, "fill must be a colour like #000 or #1a2b3c").default("#000000")
    .describe("colour of the area not covered by the image (#rgb or #rrggbb)"),
  expand: z.boolean().default(true).describe(
    "grow the canvas to hold the whole rotated image (else keep the size and cut the corners)",
  ),
}).strict();

/** Parsed parameters of `rotate`. */
export type RotateParams = z.infer<typeof params>;

/** `#rgb` / `#rrggbb` as RGB in [0, 1]. */
export function parseHexColor(hex: string): [number, number, number] {
  const h = hex.slice(1);
  const full = h.length === 3 ? [...h].map((c) => c + c).join("") : h;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16) / 255) as [number, number, number];
}

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
