/**
 * Image files to and from {@link RgbImage}, on sharp (libvips). Only decoding, encoding and colour
 * profile conversion happen here; every pixel operation stays in our float code.
 *
 * - Reads PNG (1–16 bit, grey, palette, alpha), JPEG (incl. CMYK and progressive), WebP, AVIF/HEIF
 *   and TIFF (8/16 bit). The EXIF orientation is applied (the image comes out upright); an embedded
 *   ICC profile is converted to sRGB, or kept (`colour: "keep"`: samples as stored, the profile
 *   carried on the image). Alpha becomes the image's alpha plane (straight, not premultiplied).
 * - Writes PNG (8/16 bit), JPEG, WebP, AVIF, TIFF (8/16 bit), RGB unless the image has alpha.
 *   Samples are quantized once, here: round(clamp(v, 0, 1) · (2^bits − 1)).
 * - A profile is attached without converting the samples: the pixels are first written as an
 *   uncompressed PNG, the `iCCP` (and `eXIf`) chunks are added to it, and libvips re-encodes that
 *   with the profile kept. (sharp's `withIccProfile` converts from sRGB, or from Display P3 for
 *   16-bit images, which would alter samples that are already in the target space.)
 */
import sharp, { type Metadata } from "npm:sharp@0.35.5";
import { deflateSync } from "node:zlib";
import { Buffer } from "node:buffer";
import { messageOf, StylepipeError } from "../util/errors.ts";
import type { RgbImage } from "./image.ts";
import { uprightExif } from "./exif.ts";
import { addExifToTiff } from "./tiff_exif.ts";
import { addPngChunks } from "./png_text.ts";

/** An image file that cannot be decoded (unknown format or damaged data). */
export class CodecError extends StylepipeError {}

/** Image file formats this module writes. */
export type ImageFormat = "png" | "jpeg" | "webp" | "avif" | "tiff";

/** Formats read, as sharp names them (`heif` covers AVIF). */
const READABLE = new Set(["png", "jpeg", "webp", "heif", "tiff"]);

/** What the header of an image file says, read without decoding the pixels. */
export interface ImageHeader {
  /** `png`, `jpeg`, `webp`, `heif` (AVIF) or `tiff`. */
  readonly format: string;
  /** Upright size (after the EXIF orientation), as {@link decodeImage} will produce. */
  readonly width: number;
  readonly height: number;
  /** Bits per sample stored: 8 or 16 (1–4-bit PNGs read as 8). */
  readonly bits: 8 | 16;
  readonly hasAlpha: boolean;
  /** Colour space as stored: `srgb`, `b-w`, `cmyk`, `rgb16`, `grey16`… */
  readonly space: string;
  /** Whether the file embeds an ICC profile. */
  readonly hasProfile: boolean;
}

/** Encoded image data: the bytes, or a file's path (then only what decoding needs is read). */
export type ImageSource = Uint8Array | string;

/**
 * Reads the header of encoded bytes or of a file (only its first blocks are read); throws
 * {@link CodecError} for unknown or damaged data.
 */
export async function readImageHeader(source: ImageSource): Promise<ImageHeader> {
  return (await probe(source)).header;
}

async function probe(source: ImageSource): Promise<{ header: ImageHeader; meta: Metadata }> {
  let meta: Metadata;
  try {
    meta = await sharp(source, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new CodecError(`not a readable image (${messageOf(e)})`);
  }
  if (!meta.format || !READABLE.has(meta.format) || !meta.width || !meta.height) {
    throw new CodecError(
      `unsupported format "${meta.format}"; expected PNG, JPEG, WebP, AVIF or TIFF`,
    );
  }
  const upright = meta.autoOrient ?? meta;
  const header: ImageHeader = {
    format: meta.format,
    width: upright.width,
    height: upright.height,
    bits: meta.depth === "uchar" || meta.depth === "char" ? 8 : 16,
    hasAlpha: !!meta.hasAlpha,
    space: meta.space ?? "srgb",
    hasProfile: !!meta.hasProfile,
  };
  return { header, meta };
}

/**
 * Bytes of memory decoding one pixel of an image with this header costs at its peak: libvips'
 * output buffer (channels × bytes per sample), our float planes (12 bytes RGB + 4 alpha), and
 * the format's decoder working set. Measured with src/bench/decode_memory.ts (docs/security.md).
 */
export function decodeBytesPerPixel(header: ImageHeader): number {
  const channels = 3 + (header.hasAlpha ? 1 : 0);
  const sample = header.bits === 16 ? 2 : 1;
  const floats = 12 + (header.hasAlpha ? 4 : 0);
  return floats + channels * sample * (1 + (DECODER_COPIES[header.format] ?? 2));
}

/**
 * Extra full-size copies of the raw samples each format's decoder holds at its peak (beyond the
 * output buffer), from the measured figures (src/bench/decode_memory.ts).
 */
const DECODER_COPIES: Record<string, number> = {
  jpeg: 1,
  png: 1,
  webp: 1,
  heif: 2,
  tiff: 1,
};

/** Options for {@link decodeImage}. */
export interface DecodeOptions {
  /** `srgb` (default): convert an embedded profile to sRGB; `keep`: samples as stored, profile kept. */
  readonly colour?: "srgb" | "keep";
  /** Carry the file's EXIF on the image (for `save`'s `metadata: keep`). */
  readonly keepExif?: boolean;
  /** Most pixels libvips may decode (its own `limitInputPixels` check); default: no limit. */
  readonly maxPixels?: number;
}

/**
 * Decodes any readable format to an upright image in [0, 1]; throws {@link CodecError}.
 *
 * @example Round-trip a 2×1 image through PNG
 * ```ts
 * import { createImage } from "./image.ts";
 * const image = createImage(2, 1);
 * image.data.set([1, 0, 0, 0, 0, 1]);
 * const back = await decodeImage(await encodeImage(image, { format: "png" }));
 * console.log(back.width, back.height, [...back.data]); // 2 1 [ 1, 0, 0, 0, 0, 1 ]
 * ```
 */
export async function decodeImage(
  source: ImageSource,
  options: DecodeOptions = {},
): Promise<RgbImage> {
  const { header, meta } = await probe(source);
  try {
    const wide = header.bits === 16;
    const profile = meta.icc && header.space !== "cmyk" ? new Uint8Array(meta.icc) : undefined;
    const srgbTagged = profile !== undefined && isSrgbProfile(profile);
    const keep = profile !== undefined && !srgbTagged && options.colour === "keep";
    // sequentialRead: libvips streams the rows it can instead of keeping a random-access copy.
    let pipeline = sharp(source, {
      failOn: "error",
      sequentialRead: true,
      limitInputPixels: options.maxPixels ?? false,
    }).autoOrient();
    // CMYK stays CMYK until the final conversion, which then uses the embedded profile with the
    // relative colorimetric intent (as ImageMagick and lcms do); the default path's perceptual
    // import crushed the shadows (peak error 23/255).
    if (header.space === "cmyk") pipeline = pipeline.pipelineColourspace("cmyk");
    else if (srgbTagged || keep) pipeline = pipeline.keepIccProfile(); // samples as stored
    // sharp converts 16-bit images to Display P3 first; this takes them on to sRGB.
    else if (profile && wide) pipeline = pipeline.withIccProfile("srgb");
    const { data, info } = await pipeline
      .toColourspace(wide ? "rgb16" : "srgb")
      .raw({ depth: wide ? "ushort" : "uchar" })
      .toBuffer({ resolveWithObject: true });
    const samples = wide
      ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const image = fromInterleaved(
      info.width,
      info.height,
      info.channels,
      samples,
      wide ? 65535 : 255,
    );
    return {
      ...image,
      ...(keep ? { icc: toBase64(profile) } : {}),
      ...(options.keepExif && meta.exif ? { exif: toBase64(uprightExif(meta.exif)) } : {}),
    };
  } catch (e) {
    if (e instanceof CodecError) throw e;
    throw new CodecError(
      `damaged ${header.format.toUpperCase()} data (${messageOf(e)})`,
    );
  }
}

/** How to encode; every field but `format` optional. */
export interface EncodeOptions {
  readonly format: ImageFormat;
  /** 8 (default) or 16 (PNG and TIFF only). */
  readonly bits?: 8 | 16;
  /** JPEG / WebP / AVIF quality 1–100 (default 92). */
  readonly quality?: number;
  /** WebP / AVIF: lossless. */
  readonly lossless?: boolean;
  /** JPEG: progressive scans. */
  readonly progressive?: boolean;
  /** JPEG / AVIF chroma subsampling (default 4:2:0 for JPEG, 4:4:4 for AVIF). */
  readonly chromaSubsampling?: "4:2:0" | "4:4:4";
  /**
   * Profile to embed: `srgb` (default; the image's own `icc` when it has one), `none`, or the
   * profile bytes.
   */
  readonly profile?: "srgb" | "none" | Uint8Array;
  /** EXIF block (TIFF bytes) to embed. */
  readonly exif?: Uint8Array;
}

/** Encodes an image; deterministic (same image and options → same bytes). */
export async function encodeImage(image: RgbImage, options: EncodeOptions): Promise<Uint8Array> {
  const bits = options.bits ?? 8;
  if (bits === 16 && options.format !== "png" && options.format !== "tiff") {
    throw new RangeError(`16-bit samples are written only as PNG or TIFF, not ${options.format}`);
  }
  const quality = options.quality ?? 92;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new RangeError(`quality must be an integer 1–100, got ${quality}`);
  }
  const alpha = image.alpha !== undefined && options.format !== "jpeg";
  const channels = alpha ? 4 : 3;
  const raw = interleave(image, channels, bits);
  const space = bits === 16 ? "rgb16" : "srgb";
  // 1. The samples as an uncompressed PNG, with the profile and EXIF chunks added.
  let png: Uint8Array = await sharp(raw, {
    raw: { width: image.width, height: image.height, channels },
  })
    .toColourspace(space)
    .png({ compressionLevel: 0 })
    .toBuffer();
  const profile = await profileBytes(image, options.profile ?? "srgb");
  const extra = [];
  if (profile) extra.push({ type: "iCCP", data: iccpChunk(profile) });
  if (options.exif) extra.push({ type: "eXIf", data: options.exif });
  png = addPngChunks(png, extra);
  // 2. Re-encoded in the target format with those kept (no colour conversion).
  let out = sharp(png).toColourspace(space);
  if (profile) out = out.keepIccProfile();
  if (options.exif) out = out.keepExif();
  switch (options.format) {
    case "png":
      out = out.png({ compressionLevel: 9, adaptiveFiltering: true, palette: false });
      break;
    case "jpeg":
      out = out.jpeg({
        quality,
        progressive: options.progressive ?? false,
        chromaSubsampling: options.chromaSubsampling ?? "4:2:0",
      });
      break;
    case "webp":
      out = out.webp({ quality, lossless: options.lossless ?? false });
      break;
    case "avif":
      out = out.avif({
        quality,
        lossless: options.lossless ?? false,
        chromaSubsampling: options.chromaSubsampling ?? "4:4:4",
      });
      break;
    case "tiff":
      out = out.tiff({ compression: "deflate", predictor: "horizontal" });
      break;
  }
  const buffer = await out.toBuffer();
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  // libvips writes no EXIF into TIFF: the tags are added to the file here.
  return options.format === "tiff" && options.exif ? addExifToTiff(bytes, options.exif) : bytes;
}

/** Encodes as PNG (8 bits unless `bits` says 16; sRGB profile embedded). */
export function encodePng(image: RgbImage, bits: 8 | 16 = 8): Promise<Uint8Array> {
  return encodeImage(image, { format: "png", bits });
}

/** Encodes as baseline JPEG with `quality` 1–100 (sRGB profile embedded). */
export function encodeJpeg(image: RgbImage, quality: number): Promise<Uint8Array> {
  return encodeImage(image, { format: "jpeg", quality });
}

/** The 8-bit value stored for a float sample: round(clamp(v, 0, 1) · 255) (NaN → 0). */
export function quantize8(v: number): number {
  return v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
}

/** The 16-bit value stored for a float sample: round(clamp(v, 0, 1) · 65535) (NaN → 0). */
export function quantize16(v: number): number {
  return v > 0 ? (v < 1 ? Math.round(v * 65535) : 65535) : 0;
}

/** The versions of sharp and libvips doing the decoding and encoding (for provenance). */
export function codecVersions(): { sharp: string; libvips: string } {
  const v = sharp.versions as { sharp?: string; vips: string };
  return { sharp: v.sharp ?? "unknown", libvips: v.vips };
}

/** Converts interleaved samples (3 or 4 channels, alpha last; 1–2: grey) to an image. */
export function fromInterleaved(
  width: number,
  height: number,
  channels: number,
  samples: ArrayLike<number>,
  max: number,
): RgbImage {
  const n = width * height;
  const data = new Float32Array(n * 3);
  const hasAlpha = channels === 2 || channels === 4;
  const alpha = hasAlpha ? new Float32Array(n) : undefined;
  const colour = hasAlpha ? channels - 1 : channels;
  for (let p = 0; p < n; p++) {
    const j = p * channels;
    for (let c = 0; c < 3; c++) data[3 * p + c] = samples[j + (colour === 1 ? 0 : c)] / max;
    if (alpha) alpha[p] = samples[j + colour] / max;
  }
  return alpha ? { width, height, data, alpha } : { width, height, data };
}

function interleave(image: RgbImage, channels: 3 | 4, bits: 8 | 16): Uint8Array | Uint16Array {
  const n = image.width * image.height;
  const out = bits === 16 ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  const q = bits === 16 ? quantize16 : quantize8;
  const { data, alpha } = image;
  for (let p = 0; p < n; p++) {
    const j = p * channels;
    out[j] = q(data[3 * p]);
    out[j + 1] = q(data[3 * p + 1]);
    out[j + 2] = q(data[3 * p + 2]);
    if (channels === 4) out[j + 3] = q(alpha![p]);
  }
  return out;
}

let srgbProfile: Uint8Array | undefined;

/** libvips' built-in sRGB profile (read once from a 1-pixel image it tags). */
async function builtinSrgbProfile(): Promise<Uint8Array> {
  if (!srgbProfile) {
    const tagged = await sharp(Buffer.from([0, 0, 0]), {
      raw: { width: 1, height: 1, channels: 3 },
    })
      .withIccProfile("srgb").png().toBuffer();
    srgbProfile = new Uint8Array((await sharp(tagged).metadata()).icc!);
  }
  return srgbProfile;
}

function profileBytes(
  image: RgbImage,
  choice: EncodeOptions["profile"],
): Promise<Uint8Array | undefined> {
  if (choice === "none") return Promise.resolve(undefined);
  if (choice instanceof Uint8Array) return Promise.resolve(choice);
  return image.icc ? Promise.resolve(fromBase64(image.icc)) : builtinSrgbProfile();
}

/**
 * Whether an ICC profile describes sRGB, by its description tag (`desc`, ASCII or UTF-16 `mluc`):
 * such samples are read as stored, so our own sRGB outputs round-trip exactly.
 */
export function isSrgbProfile(icc: Uint8Array): boolean {
  const text = new TextDecoder("latin1").decode(icc.subarray(0, Math.min(icc.length, 4096)));
  return /sRGB/.test(text) || /s\0R\0G\0B/.test(text);
}

/** PNG `iCCP` data: name, NUL, compression method 0, zlib stream of the profile. */
function iccpChunk(profile: Uint8Array): Uint8Array {
  const name = new TextEncoder().encode("icc");
  const z = deflateSync(profile, { level: 9 });
  const out = new Uint8Array(name.length + 2 + z.length);
  out.set(name);
  out.set(z, name.length + 2);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

/** Bytes of a base64 string (the form profiles and EXIF take on an image). */
export function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}
