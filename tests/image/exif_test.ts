import assert from "node:assert/strict";
import { orientationTransform, readJpegOrientation } from "../../src/image/exif.ts";
import { encodeJpeg } from "../../src/image/codecs.ts";
import { createImage } from "../../src/image/image.ts";
import { withExifOrientation } from "./_exif.ts";

const plain = await encodeJpeg(createImage(8, 8, 0.5), 90);

Deno.test("EXIF orientation is read in both byte orders", () => {
  for (let o = 1; o <= 8; o++) {
    assert.equal(readJpegOrientation(withExifOrientation(plain, o)), o);
    assert.equal(readJpegOrientation(withExifOrientation(plain, o, true)), o);
  }
});

Deno.test("no EXIF, out-of-range or truncated data give undefined (never throw)", () => {
  assert.equal(readJpegOrientation(plain), undefined);
  assert.equal(readJpegOrientation(withExifOrientation(plain, 9)), undefined);
  const exif = withExifOrientation(plain, 6);
  assert.equal(readJpegOrientation(exif.subarray(0, 20)), undefined);
  assert.equal(readJpegOrientation(new Uint8Array([0x89, 0x50, 0x4e, 0x47])), undefined);
});

Deno.test("orientation → upright transform follows the EXIF table", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(orientationTransform), [
    "identity",
    "flip-horizontal",
    "rotate180",
    "flip-vertical",
    "transpose",
    "rotate90",
    "transverse",
    "rotate270",
  ]);
});
