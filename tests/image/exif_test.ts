import assert from "node:assert/strict";
import { uprightExif } from "../../src/image/exif.ts";
import { encodeImage } from "../../src/image/codecs.ts";
import { createImage } from "../../src/image/image.ts";
import { withExifOrientation } from "./_exif.ts";

const plain = await encodeImage(createImage(8, 8, 0.5), { format: "jpeg", profile: "none" });

/** The TIFF block of the APP1 segment `withExifOrientation` inserted (after SOI, "Exif\0\0"). */
function exifOf(jpeg: Uint8Array): Uint8Array {
  const length = (jpeg[4] << 8) | jpeg[5];
  return jpeg.subarray(6, 4 + length);
}

Deno.test("uprightExif sets Orientation to 1 in both byte orders and drops the Exif header", () => {
  for (const little of [false, true]) {
    for (let o = 1; o <= 8; o++) {
      const exif = exifOf(withExifOrientation(plain, o, little));
      const tiff = uprightExif(exif);
      assert.equal(tiff.length, exif.length - 6);
      const view = new DataView(tiff.buffer, tiff.byteOffset);
      assert.equal(view.getUint16(18, little), 1, `orientation ${o}, little-endian ${little}`);
      assert.equal(exif[6 + 18 + (little ? 0 : 1)], o, "the input is not modified");
    }
  }
});

Deno.test("malformed EXIF is returned unchanged, never throws", () => {
  const junk = new Uint8Array([1, 2, 3, 4, 5]);
  assert.deepEqual(uprightExif(junk), junk);
  const truncated = exifOf(withExifOrientation(plain, 6)).subarray(0, 16);
  assert.deepEqual(uprightExif(truncated), truncated.subarray(6));
});
