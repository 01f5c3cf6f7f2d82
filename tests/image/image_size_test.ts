import assert from "node:assert/strict";
import { decodeImage, encodeJpeg, encodePng } from "../../src/image/codecs.ts";
import { createImage } from "../../src/image/image.ts";
import { imageSize } from "../../src/image/image_size.ts";
import { withExifOrientation } from "./_exif.ts";

Deno.test("imageSize reads PNG and JPEG headers without decoding", async () => {
  const image = createImage(7, 5, 0.5);
  assert.deepEqual(imageSize(await encodePng(image)), { width: 7, height: 5 });
  assert.deepEqual(imageSize(await encodeJpeg(image, 90)), { width: 7, height: 5 });
});

Deno.test("imageSize gives the upright size: EXIF orientations 5–8 swap the sides", async () => {
  const jpeg = await encodeJpeg(createImage(7, 5, 0.5), 90);
  for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const bytes = withExifOrientation(jpeg, orientation);
    const decoded = await decodeImage(bytes);
    assert.deepEqual(imageSize(bytes), { width: decoded.width, height: decoded.height });
  }
  assert.deepEqual(imageSize(withExifOrientation(jpeg, 6)), { width: 5, height: 7 });
});

Deno.test("imageSize is undefined for other data and truncated headers", async () => {
  assert.equal(imageSize(new TextEncoder().encode("not an image at all")), undefined);
  const png = await encodePng(createImage(3, 2));
  assert.equal(imageSize(png.subarray(0, 20)), undefined);
});
