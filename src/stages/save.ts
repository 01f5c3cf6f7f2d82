/**
 * `save`: writes an image as PNG, JPEG, WebP, AVIF or TIFF inside the output directory, atomically
 * (temporary file, then rename: an interrupted run never leaves a partial file). It never
 * overwrites one of the recipe's input files, and refuses paths outside the output directory
 * unless the recipe allows it. Samples are quantized once, here, to 8 or 16 bits; alpha is written
 * when the image has it (JPEG has none: flattened onto `background`). `metadata`: `provenance` (default) embeds the record (PNG)
 * and the colour profile (sRGB, or the one `load` kept); `keep` adds the source file's EXIF;
 * `strip` writes neither (the sidecar record is still written). The output value carries the path,
 * the SHA-256 of the bytes written, and the input image unchanged (so steps may chain after it).
 */
import { flattenAlpha } from "../image/alpha.ts";
import { hexColorParam, parseHexColor } from "./hex_color.ts";
import { realpath } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { z } from "npm:zod@4.6.7";
import { encodeImage, fromBase64, type ImageFormat } from "../image/codecs.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { messageOf } from "../util/errors.ts";
import { sha256Hex } from "../util/hash.ts";
import { imageOf, type Stage, StageError } from "./stage.ts";

const params = z.object({
  path: z.string().min(1).describe("output file, relative to the output directory"),
  format: z.enum(["auto", "png", "jpeg", "webp", "avif", "tiff"]).default("auto").describe(
    "file format; auto: by extension (.png, .jpg/.jpeg, .webp, .avif, .tif/.tiff)",
  ),
  quality: z.number().int().min(1).max(100).default(92).describe(
    "JPEG / WebP / AVIF quality, 1–100",
  ),
  bit_depth: z.union([z.literal(8), z.literal(16)]).default(8).describe(
    "bits per sample: 8, or 16 (PNG and TIFF)",
  ),
  lossless: z.boolean().default(false).describe("WebP / AVIF: lossless compression"),
  progressive: z.boolean().default(false).describe("JPEG: progressive scans"),
  chroma_subsampling: z.enum(["4:2:0", "4:4:4"]).optional().describe(
    "JPEG / AVIF chroma subsampling (default 4:2:0 for JPEG, 4:4:4 for AVIF)",
  ),
  metadata: z.enum(["provenance", "keep", "strip"]).default("provenance").describe(
    "provenance: record (PNG) + colour profile; keep: also the source's EXIF; strip: neither",
  ),
  background: hexColorParam("background").default("#ffffff").describe(
    "colour a transparent image is flattened onto for a format without alpha (JPEG)",
  ),
}).strict();

/** Parsed parameters of `save`. */
export type SaveParams = z.infer<typeof params>;

const extensionFormats: Record<string, ImageFormat> = {
  ".png": "png",
  ".jpg": "jpeg",
  ".jpeg": "jpeg",
  ".webp": "webp",
  ".avif": "avif",
  ".tif": "tiff",
  ".tiff": "tiff",
};

/** The format `save` writes for `params`, or an error message. */
export function saveFormat(p: SaveParams): ImageFormat | string {
  if (p.format !== "auto") return p.format;
  const ext = extname(p.path).toLowerCase();
  return extensionFormats[ext] ??
    `cannot tell the format from the extension "${ext || "(none)"}" of "${p.path}"; ` +
      `use .png, .jpg, .webp, .avif or .tif, or set format`;
}

/** Problems with the parameters' combination (16 bits in a format without them, …). */
function optionProblems(p: SaveParams, format: ImageFormat): string[] {
  const problems: string[] = [];
  if (p.bit_depth === 16 && format !== "png" && format !== "tiff") {
    problems.push(`bit_depth 16 is written only as PNG or TIFF, not ${format.toUpperCase()}`);
  }
  if (p.lossless && format !== "webp" && format !== "avif") {
    problems.push(`lossless applies to WebP and AVIF only (PNG and TIFF are always lossless)`);
  }
  if (p.progressive && format !== "jpeg") problems.push(`progressive applies to JPEG only`);
  return problems;
}

/** The `save` stage. */
export const saveStage: Stage<SaveParams> = {
  name: "save",
  version: 3,
  description:
    "Write the image as PNG, JPEG, WebP, AVIF or TIFF (atomic; never overwrites an input)",
  params,
  inputs: { image: { kind: ["image", "file"], description: "the image to write" } },
  output: "file",
  writesFiles: true,
  check(p) {
    const format = saveFormat(p);
    return Promise.resolve(isFormat(format) ? optionProblems(p, format) : [format]);
  },
  shape(inputs) {
    return inputs.image;
  },
  async run(ctx, inputs, p) {
    const image = imageOf(inputs.image, "image");
    const format = saveFormat(p);
    if (!isFormat(format)) throw new StageError(format);
    const problems = optionProblems(p, format);
    if (problems.length) throw new StageError(problems.join("; "));
    const path = ctx.paths.output(p.path);
    const byExtension = extensionFormats[extname(p.path).toLowerCase()];
    if (byExtension && byExtension !== format) {
      ctx.warn(`writing ${format.toUpperCase()} data to "${p.path}" (format set explicitly)`);
    }
    if (await isInput(path, ctx.paths.inputs)) {
      throw new StageError(`refusing to overwrite the input file "${path}"; choose another path`);
    }
    if (p.metadata === "keep" && !image.exif) {
      ctx.warn(`metadata: keep, but the image carries no EXIF from its source`);
    }
    // JPEG has no alpha: a transparent image is flattened onto `background`, as other tools do.
    const written = format === "jpeg" ? flattenAlpha(image, parseHexColor(p.background)) : image;
    const encoded = await encodeImage(written, {
      format,
      bits: p.bit_depth,
      quality: p.quality,
      lossless: p.lossless,
      progressive: p.progressive,
      chromaSubsampling: p.chroma_subsampling,
      profile: p.metadata === "strip" ? "none" : "srgb",
      exif: p.metadata === "keep" && image.exif ? fromBase64(image.exif) : undefined,
    });
    // The record is always made (it goes to the sidecar); `strip` keeps it out of the file.
    const stamped = ctx.stampOutput ? await ctx.stampOutput(path, encoded) : encoded;
    const bytes = p.metadata === "strip" ? encoded : stamped;
    if (ctx.signal.aborted) throw new StageError("cancelled before writing");
    try {
      await writeConfined(path, bytes, () => ctx.paths.output(p.path));
    } catch (e) {
      if (e instanceof StageError) throw e; // confinement: the reason as it is
      throw new StageError(`cannot write ${path}: ${messageOf(e)}`, { cause: e });
    }
    return {
      kind: "file",
      path,
      sha256: sha256Hex(bytes),
      image,
      info: {
        format,
        bits: p.bit_depth,
        bytes: bytes.length,
        width: image.width,
        height: image.height,
        ...(image.alpha && format !== "jpeg" ? { alpha: true } : {}),
      },
    };
  },
};

function isFormat(format: string): format is ImageFormat {
  return Object.values(extensionFormats).includes(format as ImageFormat);
}

/**
 * Writes `bytes` at `path` without leaving the confinement `check` (the output resolver) enforces,
 * even if a folder on the way is swapped for a symbolic link while the image was encoding: the
 * check runs again once the folders exist, the file is written into the resolved folder, and
 * after the rename the file's real path is checked once more (a file that escaped is removed).
 */
async function writeConfined(path: string, bytes: Uint8Array, check: () => string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  check();
  const target = join(await realpath(dirname(path)), basename(path));
  await atomicWrite(target, bytes);
  const landed = await realpath(target).catch(() => target);
  let escaped: unknown;
  try {
    check();
    if (landed !== join(await realpath(dirname(path)), basename(path))) {
      escaped = new StageError(`the folder of "${path}" was replaced while writing; not written`);
    }
  } catch (e) {
    escaped = e;
  }
  if (escaped) {
    await Deno.remove(landed).catch(() => {});
    throw escaped;
  }
}

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
