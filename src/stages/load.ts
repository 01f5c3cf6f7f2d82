/**
 * `load`: reads a PNG (1–16 bit, grey, palette, alpha), JPEG (incl. CMYK), WebP, AVIF or TIFF into
 * an image with values in [0, 1]. The EXIF orientation is applied (the image comes out upright);
 * an embedded colour profile is converted to sRGB, or kept (`colour: keep`); alpha is carried as
 * the image's alpha plane; the file's EXIF rides along for `save`'s `metadata: keep`.
 */
import { z } from "npm:zod@4.6.7";
import {
  CodecError,
  decodeBytesPerPixel,
  decodeImage,
  type ImageHeader,
  readImageHeader,
} from "../image/codecs.ts";
import { checkMemory, checkPixels, maxPixels } from "./pixel_limit.ts";
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
 * The one place a file's header is read before its pixels are decoded (size, depth, format; only
 * the file's first blocks are read): `plan` sizes steps from it, and `run` reads it first so the
 * pixel limit and the memory budget can refuse a file before decoding it.
 */
export async function readHeader(path: string): Promise<ImageHeader> {
  try {
    return await readImageHeader(path);
  } catch (e) {
    if (e instanceof CodecError) {
      throw new StageError(`cannot decode image "${path}": ${e.message}`);
    }
    throw new StageError(`cannot read image "${path}": ${messageOf(e)}`);
  }
}

/**
 * Refuses a file over the pixel limit or whose decoding would pass the memory budget (from its
 * header); returns the decode's cost in bytes.
 */
function checkDecodable(header: ImageHeader, path: string): number {
  checkPixels(header.width, header.height, `image "${path}"`);
  const what = `image "${path}" (${header.width}×${header.height} ${header.format}, ` +
    `${header.hasAlpha ? "with alpha, " : ""}${header.bits}-bit)`;
  const bytes = header.width * header.height * decodeBytesPerPixel(header);
  checkMemory(bytes, `decoding ${what}`);
  return bytes;
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
    const header = await readHeader(path).catch(() => undefined);
    if (!header) return undefined;
    return {
      width: header.width,
      height: header.height,
      decodeBytes: checkDecodable(header, path),
    };
  },
  estimate(_inputs, _p, env) {
    // What decoding costs (measured per format); 16 bytes a pixel when the header is unknown.
    const output = env?.output;
    return output && { bytes: output.decodeBytes ?? output.width * output.height * 16 };
  },
  async run(ctx, _inputs, p) {
    const path = await ctx.paths.input(p.path);
    const header = await readHeader(path); // from the header, before any pixel is decoded
    checkDecodable(header, path);
    try {
      const image = await decodeImage(path, {
        colour: p.colour,
        keepExif: true,
        maxPixels: maxPixels(),
      });
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
