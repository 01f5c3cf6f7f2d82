/**
 * `load`: reads a PNG or JPEG into an RGB image with values in [0, 1]. JPEG EXIF orientation is
 * applied (the image comes out upright); alpha is dropped (not composited: transparent pixels keep
 * their stored colour).
 */
import { z } from "zod";
import { CodecError, decodeImage } from "../image/codecs.ts";
import { imageSize } from "../image/image_size.ts";
import { checkPixels } from "./pixel_limit.ts";
import { type Stage, StageError } from "./stage.ts";

const params = z.object({
  path: z.string().min(1).describe(
    "image file (PNG or JPEG): relative to the recipe, else looked up in $STYLEPIPE_IMAGES",
  ),
}).strict();

/** Parsed parameters of `load`. */
export type LoadParams = z.infer<typeof params>;

/** The `load` stage. */
export const loadStage: Stage<LoadParams> = {
  name: "load",
  version: 1,
  description: "Read a PNG or JPEG image (EXIF orientation applied, alpha dropped)",
  params,
  inputs: {},
  output: "image",
  inputFiles: (p) => [p.path],
  async fileShape(path) {
    const size = imageSize(await Deno.readFile(path));
    if (size) checkPixels(size.width, size.height, `image "${path}"`);
    return size;
  },
  estimate(_inputs, _p, env) {
    // Decoded RGBA bytes plus the float RGB image.
    return env?.output && { bytes: env.output.width * env.output.height * (4 + 12) };
  },
  async run(ctx, _inputs, p) {
    const path = await ctx.paths.input(p.path);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      throw new StageError(`cannot read image "${path}": ${(e as Error).message}`);
    }
    const size = imageSize(bytes); // from the header, before any pixel is decoded
    if (size) checkPixels(size.width, size.height, `image "${path}"`);
    try {
      const image = await decodeImage(bytes);
      return { kind: "image", image, info: { path, width: image.width, height: image.height } };
    } catch (e) {
      if (e instanceof CodecError) {
        throw new StageError(`cannot decode image "${path}": ${e.message}`);
      }
      throw e;
    }
  },
};
