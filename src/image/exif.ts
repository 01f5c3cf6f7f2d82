/**
 * The EXIF Orientation tag of a JPEG (imagescript ignores it): read from the APP1 "Exif" segment's
 * TIFF IFD0, and mapped to the exact flip/rotation that displays the image upright.
 */
import type { DihedralOp } from "./dihedral.ts";

const ORIENTATION_TAG = 0x0112;

/**
 * The EXIF Orientation (1–8) of a JPEG, or `undefined` when the file has none (or it is malformed:
 * a damaged EXIF block must not stop the image from loading).
 */
export function readJpegOrientation(bytes: Uint8Array): number | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return undefined;
    const marker = bytes[pos + 1];
    if (marker === 0xff) { // fill byte
      pos++;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // image data / end: no EXIF before it
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { // markers without a length
      pos += 2;
      continue;
    }
    const length = view.getUint16(pos + 2);
    const start = pos + 4;
    const end = pos + 2 + length;
    if (length < 2 || end > bytes.length) return undefined;
    if (marker === 0xe1 && isExifHeader(bytes, start)) {
      return readTiffOrientation(
        new DataView(bytes.buffer, bytes.byteOffset + start + 6, end - start - 6),
      );
    }
    pos = end;
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
