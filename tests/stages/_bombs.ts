/**
 * Decompression bombs for the memory tests, made here from tiny valid images whose size fields are
 * then patched: each header declares 10000×10000 (100 MP, at the pixel limit) or 1×100,000,000.
 */
import sharp from "sharp";
import { Buffer } from "node:buffer";
import { encodeChunk } from "../../src/image/png_text.ts";

/** A tiny image in `format` (16 × 16, RGB, or RGBA 16-bit for `rgba16`). */
async function tiny(format: "jpeg" | "webp" | "png" | "tiff" | "avif", rgba16 = false) {
  let s = sharp({ create: { width: 16, height: 16, channels: 3, background: "#808080" } });
  if (rgba16) s = s.ensureAlpha().toColourspace("rgb16");
  const out = format === "jpeg"
    ? s.jpeg()
    : format === "webp"
    ? s.webp({ lossless: false })
    : format === "png"
    ? s.png()
    : format === "tiff"
    ? s.tiff({ compression: "none" })
    : s.avif({ effort: 0 });
  return new Uint8Array(await out.toBuffer());
}

const find = (b: Uint8Array, text: string, from = 0) =>
  Buffer.from(b).indexOf(Buffer.from(text, "latin1"), from);

/** A PNG whose IHDR says `width × height` (the CRC recomputed). */
function patchPng(png: Uint8Array, width: number, height: number): Uint8Array {
  const ihdr = png.slice(16, 29);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  const out = png.slice();
  out.set(encodeChunk("IHDR", ihdr), 8);
  return out;
}

/** The bombs: name → file bytes (each declares at least 100 MP). */
export async function makeBombs(): Promise<Record<string, Uint8Array>> {
  const side = 10_000;
  const jpeg = await tiny("jpeg");
  const sof = [0xc0, 0xc1, 0xc2].map((m) => Buffer.from(jpeg).indexOf(Buffer.from([0xff, m])))
    .find((i) => i > 0)!;
  new DataView(jpeg.buffer).setUint16(sof + 5, side); // height
  new DataView(jpeg.buffer).setUint16(sof + 7, side); // width

  const webp = await tiny("webp");
  const vp8 = find(webp, "VP8 ") + 8 + 6; // chunk header, frame tag and start code
  new DataView(webp.buffer).setUint16(vp8, side, true);
  new DataView(webp.buffer).setUint16(vp8 + 2, side, true);

  const tiff = await tiny("tiff", true);
  const tv = new DataView(tiff.buffer);
  const ifd = tv.getUint32(4, true);
  for (let i = 0, n = tv.getUint16(ifd, true); i < n; i++) {
    const e = ifd + 2 + 12 * i;
    const tag = tv.getUint16(e, true);
    if (tag !== 256 && tag !== 257) continue;
    if (tv.getUint16(e + 2, true) === 3) tv.setUint16(e + 8, side, true);
    else tv.setUint32(e + 8, side, true);
  }

  const avif = await tiny("avif");
  const ispe = find(avif, "ispe") + 8;
  new DataView(avif.buffer).setUint32(ispe, side);
  new DataView(avif.buffer).setUint32(ispe + 4, side);

  return {
    "webp.webp": webp,
    "jpeg.jpg": jpeg,
    "rgba16.tiff": tiff,
    "rgba16.png": patchPng(await tiny("png", true), side, side),
    "tall.png": patchPng(await tiny("png"), 1, 100_000_000),
    "avif.avif": avif,
  };
}
