/** Walks the marker segments of a JPEG header (up to the image data), without decoding pixels. */

/** One marker segment: its marker byte and its payload (after the two length bytes). */
export interface JpegSegment {
  readonly marker: number;
  readonly payload: Uint8Array;
}

/**
 * The segments before the first scan (SOS) of a JPEG, in file order. Stops quietly at the first
 * malformed byte: callers treat a missing segment as "not there".
 */
export function* jpegSegments(bytes: Uint8Array): Generator<JpegSegment> {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return;
    const marker = bytes[pos + 1];
    if (marker === 0xff) { // fill byte
      pos++;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return; // image data / end
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { // markers without a length
      pos += 2;
      continue;
    }
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    const end = pos + 2 + length;
    if (length < 2 || end > bytes.length) return;
    yield { marker, payload: bytes.subarray(pos + 4, end) };
    pos = end;
  }
}
