/**
 * The upright size of a PNG or JPEG read from its header alone (PNG IHDR; JPEG start-of-frame,
 * with EXIF orientations 5–8 swapping width and height), so `plan` can size steps without decoding.
 */
import { readJpegOrientation } from "./exif.ts";
import { jpegSegments } from "./jpeg_segments.ts";

/** Width and height in pixels. */
export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The size the decoder will produce for these bytes, or `undefined` when the header is unreadable. */
export function imageSize(bytes: Uint8Array): ImageSize | undefined {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return pngSize(bytes);
  return jpegSize(bytes);
}

function pngSize(bytes: Uint8Array): ImageSize | undefined {
  if (bytes.length < 24) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isIhdr = String.fromCharCode(...bytes.subarray(12, 16)) === "IHDR";
  return isIhdr ? { width: view.getUint32(16), height: view.getUint32(20) } : undefined;
}

function jpegSize(bytes: Uint8Array): ImageSize | undefined {
  for (const { marker, payload } of jpegSegments(bytes)) {
    // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    const isFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (!isFrame || payload.length < 5) continue;
    const height = (payload[1] << 8) | payload[2];
    const width = (payload[3] << 8) | payload[4];
    const orientation = readJpegOrientation(bytes) ?? 1;
    return orientation >= 5 ? { width: height, height: width } : { width, height };
  }
  return undefined;
}
