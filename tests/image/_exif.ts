/** Builds EXIF test fixtures: inserts an APP1 segment carrying an Orientation tag into a JPEG. */

/** `jpeg` with an APP1 "Exif" segment (IFD0 holding only Orientation) right after SOI. */
export function withExifOrientation(
  jpeg: Uint8Array,
  orientation: number,
  littleEndian = false,
): Uint8Array {
  const tiff = new DataView(new ArrayBuffer(26));
  tiff.setUint16(0, littleEndian ? 0x4949 : 0x4d4d);
  tiff.setUint16(2, 42, littleEndian);
  tiff.setUint32(4, 8, littleEndian); // IFD0 offset
  tiff.setUint16(8, 1, littleEndian); // one entry
  tiff.setUint16(10, 0x0112, littleEndian); // Orientation
  tiff.setUint16(12, 3, littleEndian); // SHORT
  tiff.setUint32(14, 1, littleEndian); // count
  tiff.setUint16(18, orientation, littleEndian);
  tiff.setUint32(22, 0, littleEndian); // no next IFD
  const payload = [...new TextEncoder().encode("Exif"), 0, 0, ...new Uint8Array(tiff.buffer)];
  const length = payload.length + 2;
  const segment = [0xff, 0xe1, length >> 8, length & 0xff, ...payload];
  return new Uint8Array([...jpeg.subarray(0, 2), ...segment, ...jpeg.subarray(2)]);
}
