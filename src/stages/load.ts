/**
 * `load`: reads a PNG (1–16 bit, grey, palette, alpha), JPEG (incl. CMYK), WebP, AVIF or TIFF into
 * an image with values in [0, 1]. The EXIF orientation is applied (the image comes out upright);
 * an embedded colour profile is converted to sRGB, or kept (`colour: keep`); alpha is carried as
 * the image's alpha plane; the file's EXIF rides along for `save`'s `metadata: keep`.
 */
import { z } from "zod";
import { CodecError, decodeImage, type ImageHeader, readImageHeader } from "../image/codecs.ts";
import { checkPixels } from "./pixel_limit.ts";
import { type Stage, StageError } from "./stage.ts";
import { messageOf } from "../util/errors.ts";

const params = z.object({
  path: z.string().min(1).describe(
    "image file (PNG, JPEG, WebP, AVIF, TIFF): relative to the recipe, else looked up in $STYLEPIPE_IMAGES",
  ),
  colour: z.enum(["srgb", "keep"]).default("srgb").describe(
    "srgb: convert an embedded colour profile to sRGB; keep: samples as stored, the profile carried to save",
  ),
}).strict();

/** Parsed parameters of `load`. */
export type LoadParams = z.infer<typeof params>;

/**
 * The one place a file's header is read before its pixels are decoded (size, depth, format):
 * `plan` sizes steps from it, and `run` reads it first so a check on the header can refuse a file
 * before decoding it.
 */
export async function readHeader(path: string, bytes?: Uint8Array): Promise<ImageHeader> {
  try {
    return await readImageHeader(bytes ?? await Deno.readFile(path));
  } catch (e) {
    if (e instanceof CodecError) {
      throw new StageError(`cannot decode image "${path}": ${e.message}`);
    }
    throw new StageError(`cannot read image "${path}": ${messageOf(e)}`);
  }
}

/** The `load` stage. */
export const loadStage: Stage<LoadParams> = {
  name: "load",
  version: 2,
  description: "Read a PNG, JPEG, WebP, AVIF or TIFF image (EXIF orientation applied; sRGB)",
  params,
  inputs: {},
  output: "image",
  inputFiles: (p) => [p.path],
  async fileShape(path) {
    const { width, height } = await readHeader(path).catch(() => ({ width: 0, height: 0 }));
    if (width > 0) checkPixels(width, height, `image "${path}"`);
    return width > 0 ? { width, height } : undefined;
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
      throw new StageError(`cannot read image "${path}": ${messageOf(e)}`);
    }
    const header = await readHeader(path, bytes); // from the header, before any pixel is decoded
    checkPixels(header.width, header.height, `image "${path}"`);
    try {
      const image = await decodeImage(bytes, { colour: p.colour, keepExif: true });
      // `path` as written in the recipe: the record stays the same in another folder.
      const info = {
        path: p.path,
        width: image.width,
        height: image.height,
        format: header.format,
        bits: header.bits,
        ...(image.alpha ? { alpha: true } : {}),
        ...(header.hasProfile ? { profile: image.icc ? "kept" : "sRGB" } : {}),
      };
      return { kind: "image", image, info };
    } catch (e) {
      if (e instanceof CodecError) {
        throw new StageError(`cannot decode image "${path}": ${e.message}`);
      }
      throw e;
    }
  },
};
