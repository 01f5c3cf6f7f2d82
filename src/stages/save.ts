/**
 * `save`: writes an image as PNG or JPEG inside the output directory, atomically (temporary file,
 * then rename: an interrupted run never leaves a partial file). It never overwrites one of the
 * recipe's input files, and refuses paths outside the output directory unless the recipe allows it.
 * Samples are quantized once, here: round(clamp(v, 0, 1) · 255). The output value carries the path,
 * the SHA-256 of the bytes written, and the input image unchanged (so steps may chain after it).
 */
import { realpath } from "node:fs/promises";
import { extname } from "node:path";
import { z } from "zod";
import { encodeImage, type ImageFormat } from "../image/codecs.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { sha256Hex } from "../util/hash.ts";
import { imageOf, type Stage, StageError } from "./stage.ts";

const params = z.object({
  path: z.string().min(1).describe("output file, relative to the output directory"),
  format: z.enum(["auto", "png", "jpeg"]).default("auto").describe(
    "file format; auto: by extension (.png → png, .jpg/.jpeg → jpeg)",
  ),
  quality: z.number().int().min(1).max(100).default(92).describe("JPEG quality, 1–100"),
}).strict();

/** Parsed parameters of `save`. */
export type SaveParams = z.infer<typeof params>;

const extensionFormats: Record<string, ImageFormat> = {
  ".png": "png",
  ".jpg": "jpeg",
  ".jpeg": "jpeg",
};

/** The format `save` writes for `params`, or an error message. */
export function saveFormat(p: SaveParams): ImageFormat | string {
  if (p.format !== "auto") return p.format;
  const ext = extname(p.path).toLowerCase();
  return extensionFormats[ext] ??
    `cannot tell the format from the extension "${ext || "(none)"}" of "${p.path}"; ` +
      `use .png, .jpg or .jpeg, or set format: png|jpeg`;
}

/** The `save` stage. */
export const saveStage: Stage<SaveParams> = {
  name: "save",
  version: 1,
  description: "Write the image as PNG or JPEG (atomic; never overwrites an input)",
  params,
  inputs: { image: { kind: ["image", "file"], description: "the image to write" } },
  output: "file",
  writesFiles: true,
  check(p) {
    const format = saveFormat(p);
    return Promise.resolve(format === "png" || format === "jpeg" ? [] : [format]);
  },
  shape(inputs) {
    return inputs.image;
  },
  async run(ctx, inputs, p) {
    const image = imageOf(inputs.image, "image");
    const format = saveFormat(p);
    if (format !== "png" && format !== "jpeg") throw new StageError(format);
    const path = ctx.paths.output(p.path);
    const byExtension = extensionFormats[extname(p.path).toLowerCase()];
    if (byExtension && byExtension !== format) {
      ctx.warn(`writing ${format.toUpperCase()} data to "${p.path}" (format set explicitly)`);
    }
    if (await isInput(path, ctx.paths.inputs)) {
      throw new StageError(`refusing to overwrite the input file "${path}"; choose another path`);
    }
    const encoded = await encodeImage(image, format, p.quality);
    const bytes = ctx.stampOutput ? await ctx.stampOutput(path, encoded) : encoded;
    if (ctx.signal.aborted) throw new StageError("cancelled before writing");
    await atomicWrite(path, bytes);
    return {
      kind: "file",
      path,
      sha256: sha256Hex(bytes),
      image,
      info: { format, bytes: bytes.length, width: image.width, height: image.height },
    };
  },
};

/** Whether `path` is (or, through links, resolves to) one of the input files. */
async function isInput(path: string, inputs: ReadonlySet<string>): Promise<boolean> {
  if (inputs.has(path)) return true;
  const real = await realpath(path).catch(() => undefined);
  if (real === undefined) return false;
  for (const input of inputs) {
    if (real === await realpath(input).catch(() => input)) return true;
  }
  return false;
}
