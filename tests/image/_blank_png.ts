/**
 * A valid PNG of any declared size that is tiny on disk (1-bit grey, all zero, deflated): the shape
 * of a decompression bomb, for tests of limits checked from the header before decoding.
 */
import { deflateSync } from "node:zlib";
import { encodeChunk } from "../../src/image/png_text.ts";
import { concatBytes } from "../../src/util/bytes.ts";

/** A `width × height` 1-bit greyscale PNG of zeros (16000² is about 31 KB). */
export function blankPng(width: number, height: number): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale, deflate, filter 0, no interlace
  const rows = new Uint8Array(height * (1 + Math.ceil(width / 8))); // filter byte 0 + zero bits
  return concatBytes([
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    encodeChunk("IHDR", header),
    encodeChunk("IDAT", deflateSync(rows)),
    encodeChunk("IEND", new Uint8Array()),
  ]);
}

/** {@link blankPng} cut short inside its pixel data: the header reads, decoding fails. */
export function truncatedPng(width: number, height: number): Uint8Array {
  const png = blankPng(width, height);
  return png.slice(0, Math.max(8 + 25 + 8, png.length - 12 - 1000));
}
