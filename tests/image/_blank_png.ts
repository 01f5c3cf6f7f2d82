/**
 * A valid PNG of any declared size that is tiny on disk (1-bit grey, all zero, deflated): the shape
 * of a decompression bomb, for tests of limits checked from the header before decoding.
 */
import { crc32, deflateSync } from "node:zlib";

/** A `width × height` 1-bit greyscale PNG of zeros (16000² is about 31 KB). */
export function blankPng(width: number, height: number): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale, deflate, filter 0, no interlace
  const rows = new Uint8Array(height * (1 + Math.ceil(width / 8))); // filter byte 0 + zero bits
  return concat([
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", new Uint8Array()),
  ]);
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const body = concat([new TextEncoder().encode(type), data]);
  const out = new Uint8Array(8 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(body, 4);
  view.setUint32(8 + data.length, crc32(body));
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** {@link blankPng} cut short inside its pixel data: the header reads, decoding fails. */
export function truncatedPng(width: number, height: number): Uint8Array {
  const png = blankPng(width, height);
  return png.slice(0, Math.max(8 + 25 + 8, png.length - 12 - 1000));
}
