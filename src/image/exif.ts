/**
 * The EXIF Orientation tag of a JPEG (imagescript ignores it): read from the APP1 "Exif" segment's
 * TIFF IFD0, and mapped to the exact flip/rotation that displays the image upright.
 */
import type { DihedralOp } from "./dihedral.ts";
import { jpegSegments } from "./jpeg_segments.ts";

const ORIENTATION_TAG = 0x0112;

/**
 * The EXIF Orientation (1–8) of a JPEG, or `undefined` when the file has none (or it is malformed:
 * a damaged EXIF block must not stop the image from loading).
 */
export function readJpegOrientation(bytes: Uint8Array): number | undefined {
  for (const { marker, payload } of jpegSegments(bytes)) {
    if (marker === 0xe1 && isExifHeader(payload, 0)) {
      return readTiffOrientation(
        new DataView(payload.buffer, payload.byteOffset + 6, payload.byteLength - 6),
      );
    }
  }
  return undefined;
}

function isExifHeader(bytes: Uint8Array, at: number): boolean {
  const header = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"
  return header.every((b, i) => bytes[at + i] === b);
}

function readTiffOrientation(tiff: DataView): number | undefined {
  if (tiff.byteLength < 8) return undefined;
  const order = tiff.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return undefined; // "II" | "MM"
  const little = order === 0x4949;
  if (tiff.getUint16(2, little) !== 42) return undefined;
  const ifd = tiff.getUint32(4, little);
  if (ifd + 2 > tiff.byteLength) return undefined;
  const count = tiff.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.byteLength) return undefined;
    if (tiff.getUint16(entry, little) !== ORIENTATION_TAG) continue;
    const type = tiff.getUint16(entry + 2, little);
    const value = type === 3 ? tiff.getUint16(entry + 8, little) : undefined; // SHORT
    return value !== undefined && value >= 1 && value <= 8 ? value : undefined;
  }
  return undefined;
}

/** The transform that turns stored pixels with EXIF `orientation` into the upright image. */
export function orientationTransform(orientation: number): DihedralOp {
  switch (orientation) {
    case 2:
      return "flip-horizontal";
    case 3:
      return "rotate180";
    case 4:
      return "flip-vertical";
    case 5:
      return "transpose";
    case 6:
      return "rotate90";
    case 7:
      return "transverse";
    case 8:
      return "rotate270";
    default:
      return "identity";
  }
}
