/**
 * PNG and JPEG decoding/encoding (imagescript) to and from {@link RgbImage}.
 *
 * - Decoding scales 8-bit samples to [0, 1] (v / 255) and, for JPEG, applies the EXIF Orientation.
 * - Alpha is dropped, not composited: a transparent pixel keeps the colour stored under it.
 * - Encoding quantizes once, at the edge: round(clamp(v, 0, 1) · 255).
 */
import { StylepipeError } from "../util/errors.ts";
import { Image, ImageType } from "imagescript";
import type { RgbImage } from "./image.ts";
import { applyDihedral } from "./dihedral.ts";
import { orientationTransform, readJpegOrientation } from "./exif.ts";

/** An image file that cannot be decoded (unknown format or damaged data). */
export class CodecError extends StylepipeError {}

/** Image file formats this module reads and writes. */
export type ImageFormat = "png" | "jpeg";

/** The format of encoded bytes, judged by their signature; `undefined` when neither PNG nor JPEG. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const type = ImageType.getType(bytes);
  return type === "png" || type === "jpeg" ? type : undefined;
}

/** Decodes PNG or JPEG bytes (applying the EXIF orientation of a JPEG); throws {@link CodecError}. */
export async function decodeImage(bytes: Uint8Array): Promise<RgbImage> {
  const format = sniffFormat(bytes);
  if (!format) throw new CodecError("not a PNG or JPEG file");
  let decoded: Image;
  try {
    decoded = await Image.decode(bytes);
  } catch (e) {
    throw new CodecError(`damaged ${format.toUpperCase()} data (${(e as Error).message ?? e})`);
  }
  const image = fromRgba8(decoded.width, decoded.height, decoded.bitmap);
  if (format !== "jpeg") return image;
  return applyDihedral(image, orientationTransform(readJpegOrientation(bytes) ?? 1));
}

/** Encodes as PNG (8 bits per channel, RGB stored as opaque RGBA). */
export function encodePng(image: RgbImage): Promise<Uint8Array> {
  return toImagescript(image).encode(1);
}

/** Encodes as baseline JPEG with `quality` 1–100. */
export function encodeJpeg(image: RgbImage, quality: number): Promise<Uint8Array> {
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new RangeError(`JPEG quality must be an integer 1–100, got ${quality}`);
  }
  return toImagescript(image).encodeJPEG(quality as Parameters<Image["encodeJPEG"]>[0]);
}

/** Encodes in `format` (`quality` applies to JPEG only). */
export function encodeImage(
  image: RgbImage,
  format: ImageFormat,
  quality = 92,
): Promise<Uint8Array> {
  return format === "png" ? encodePng(image) : encodeJpeg(image, quality);
}

/** The 8-bit value stored for a float sample: round(clamp(v, 0, 1) · 255) (NaN → 0). */
export function quantize8(v: number): number {
  return v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
}

/** Converts 8-bit RGBA samples to an image, dropping alpha. */
export function fromRgba8(width: number, height: number, rgba: ArrayLike<number>): RgbImage {
  const data = new Float32Array(width * height * 3);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    data[i] = rgba[j] / 255;
    data[i + 1] = rgba[j + 1] / 255;
    data[i + 2] = rgba[j + 2] / 255;
  }
  return { width, height, data };
}

function toImagescript(image: RgbImage): Image {
  const out = new Image(image.width, image.height);
  const rgba = out.bitmap;
  const src = image.data;
  for (let i = 0, j = 0; i < src.length; i += 3, j += 4) {
    rgba[j] = quantize8(src[i]);
    rgba[j + 1] = quantize8(src[i + 1]);
    rgba[j + 2] = quantize8(src[i + 2]);
    rgba[j + 3] = 255;
  }
  return out;
}
