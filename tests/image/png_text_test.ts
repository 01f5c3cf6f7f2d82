import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { decodeImage, encodeImage } from "../../src/image/codecs.ts";
import { synthImage } from "./_images.ts";
import { isPng, PngFormatError, readPngText, writePngText } from "../../src/image/png_text.ts";

/** A 3×2 PNG carrying two Latin-1 `tEXt` entries, as other tools write them. */
async function tinyPng(): Promise<Uint8Array> {
  const img = synthImage(3, 2, (x, y) => [(x + 1) * 40 / 255, (y + 1) * 90 / 255, 7 / 255]);
  const png = await encodeImage(img, { format: "png", profile: "none" });
  const latin1 = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));
  const iend = png.length - 12;
  return new Uint8Array([
    ...png.subarray(0, iend),
    ...rawChunk("tEXt", latin1("Creation Time\0Sat, 01 Jan 2000")),
    ...rawChunk("tEXt", latin1("Software\0some encoder")),
    ...png.subarray(iend),
  ]);
}

/** The pixel at (x, y) as 8-bit RGB. */
async function pixel(png: Uint8Array, x: number, y: number): Promise<number[]> {
  const img = await decodeImage(png);
  const at = (y * img.width + x) * 3;
  return [...img.data.subarray(at, at + 3)].map((v) => Math.round(v * 255));
}

/** Builds a raw chunk (length, type, data, CRC) for tests that need hand-made chunks. */
function rawChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

Deno.test("iTXt round trip keeps pixels and other chunks, UTF-8 text intact", async () => {
  const png = await tinyPng();
  assert.deepEqual([...readPngText(png).keys()], ["Creation Time", "Software"]);
  const text = JSON.stringify({ recipe: "tübingen → starry ✨", n: 3 });
  const out = writePngText(png, "stylepipe", text);
  assert.ok(isPng(out));
  assert.equal(readPngText(out).get("stylepipe"), text);
  // Exactly one chunk added: 12 bytes framing + keyword + 5 separator bytes + UTF-8 text.
  const added = 12 + "stylepipe".length + 5 + new TextEncoder().encode(text).length;
  assert.equal(out.length, png.length + added);
  assert.deepEqual(await pixel(out, 2, 1), [120, 180, 7]);
  // The bytes before the text chunk are unchanged; IEND is still last.
  assert.deepEqual(out.subarray(0, png.length - 12), png.subarray(0, png.length - 12));
  assert.deepEqual(out.subarray(out.length - 12), png.subarray(png.length - 12));
});

Deno.test("writing the same keyword again replaces the entry", async () => {
  const once = writePngText(await tinyPng(), "stylepipe", "first");
  const twice = writePngText(once, "stylepipe", "second, longer");
  const other = writePngText(twice, "Comment", "kept");
  const text = readPngText(other);
  assert.equal(text.get("stylepipe"), "second, longer");
  assert.equal(text.get("Comment"), "kept");
  assert.equal(twice.length, once.length + "second, longer".length - "first".length);
});

Deno.test("reads Latin-1 tEXt chunks written by other tools", async () => {
  const png = await tinyPng();
  const data = new Uint8Array([...new TextEncoder().encode("Author"), 0, 0x4a, 0xe9]);
  const iend = png.length - 12;
  const withText = new Uint8Array([
    ...png.subarray(0, iend),
    ...rawChunk("tEXt", data),
    ...png.subarray(iend),
  ]);
  assert.equal(readPngText(withText).get("Author"), "Jé");
});

Deno.test("corrupted or foreign bytes are rejected with a PngFormatError", async () => {
  const out = writePngText(await tinyPng(), "stylepipe", "abc");
  const bad = out.slice();
  bad[bad.length - 14] ^= 0xff; // a byte of the iTXt text
  assert.throws(() => readPngText(bad), PngFormatError);
  assert.throws(() => readPngText(out.subarray(0, out.length - 20)), PngFormatError);
  assert.throws(() => readPngText(new TextEncoder().encode("GIF89a........")), PngFormatError);
  assert.throws(() => writePngText(out, "", "x"), RangeError);
  assert.throws(() => writePngText(out, "a".repeat(80), "x"), RangeError);
});
