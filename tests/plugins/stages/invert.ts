/** A plugin stage as a user would write one: `invert` (1 − v), with a `strength` parameter. */
import { z } from "zod";
import { imageOf, type Stage } from "../../../src/stages/stage.ts";

const params = z.object({
  strength: z.number().min(0).max(1).default(1).describe("0: unchanged, 1: fully inverted"),
}).strict();

/** The `invert` plugin stage. */
const invertStage: Stage<z.infer<typeof params>> = {
  name: "invert",
  version: 1,
  description: "Inverts an image (plugin example)",
  params,
  inputs: { image: { kind: "image", description: "the image to invert" } },
  output: "image",
  shape: (inputs) => inputs.image,
  run(_ctx, inputs, p) {
    const img = imageOf(inputs.image, "image");
    const data = img.data.map((v) => v + p.strength * (1 - 2 * v));
    return Promise.resolve({ kind: "image", image: { ...img, data } });
  },
};

export default invertStage;
