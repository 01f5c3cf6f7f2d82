/**
 * EXIF blocks kept for `save`'s `metadata: keep`. Decoding applies the EXIF Orientation (the image
 * comes out upright), so the block kept must say "upright" too, or a viewer would turn it again.
 */

const ORIENTATION_TAG = 0x0112;
const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0", as JPEG APP1 carries it

/**
 * The TIFF block of an EXIF payload (a leading `Exif\0\0` removed) with IFD0's Orientation set to 1.
 * A malformed block is returned as it is (the tag is simply not found).
 */
export function uprightExif(exif: Uint8Array): Uint8Array {
  const start = EXIF_HEADER.every((b, i) => exif[i] === b) ? EXIF_HEADER.length : 0;
  const tiff = Uint8Array.from(exif.subarray(start)); // a copy with its own buffer (not a Buffer view)
  const at = orientationOffset(new DataView(tiff.buffer));
  if (at !== undefined) new DataView(tiff.buffer).setUint16(at.offset, 1, at.little);
  return tiff;
}

/** Where IFD0's Orientation value is stored (SHORT), or `undefined`. */
function orientationOffset(tiff: DataView): { offset: number; little: boolean } | undefined {
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
    return tiff.getUint16(entry + 2, little) === 3 ? { offset: entry + 8, little } : undefined;
  }
  return undefined;
}
