import assert from "node:assert/strict";
import {
  CodecError,
  decodeImage,
  encodeJpeg,
  encodePng,
  quantize8,
  sniffFormat,
} from "../../src/image/codecs.ts";
import { Image } from "imagescript";
import { synthImage } from "./_images.ts";
import { withExifOrientation } from "./_exif.ts";

Deno.test("PNG round trip is exact for 8-bit values", async () => {
  const image = synthImage(5, 3, (x, y) => [(x * 50) / 255, (y * 100) / 255, ((x + y) * 17) / 255]);
  const back = await decodeImage(await encodePng(image));
  assert.equal(back.width, 5);
  assert.equal(back.height, 3);
  assert.deepEqual(back.data, image.data);
});

Deno.test("encoding quantizes round(clamp(v, 0, 1) · 255)", async () => {
  assert.deepEqual([-0.5, 0, 0.5 / 255, 0.499 / 255, 0.5, 1, 7, NaN].map(quantize8), [
    0,
    0,
    1,
    0,
    128,
    255,
    255,
    0,
  ]);
  const back = await decodeImage(await encodePng(synthImage(1, 1, () => [-1, 0.5, 2])));
  assert.deepEqual([...back.data], [0, 128 / 255, 1].map(Math.fround));
});

Deno.test("alpha is dropped: a transparent PNG pixel keeps its stored colour", async () => {
  const rgba = new Image(2, 1);
  rgba.bitmap.set([255, 0, 0, 0, 0, 0, 255, 128]);
  const image = await decodeImage(await rgba.encode());
  assert.deepEqual([...image.data], [1, 0, 0, 0, 0, 1]);
});

Deno.test("JPEG: higher quality gives a bigger file; format is sniffed", async () => {
  const noisy = synthImage(32, 32, (x, y) => [((x * 37 + y * 11) % 17) / 16, (x ^ y) / 31, y / 31]);
  const low = await encodeJpeg(noisy, 10);
  const high = await encodeJpeg(noisy, 95);
  assert.ok(high.length > low.length * 1.5, `${low.length} vs ${high.length}`);
  assert.equal(sniffFormat(low), "jpeg");
  assert.equal(sniffFormat(await encodePng(noisy)), "png");
  assert.throws(() => encodeJpeg(noisy, 0), RangeError);
});

Deno.test("JPEG with EXIF orientation 6 is decoded upright (rotated 90° clockwise)", async () => {
  // Stored 16×8: left 8×8 block red, right block blue. Upright: 8×16, red on top, blue below.
  const stored = synthImage(16, 8, (x) => (x < 8 ? [1, 0, 0] : [0, 0, 1]));
  const jpeg = withExifOrientation(await encodeJpeg(stored, 95), 6);
  const upright = await decodeImage(jpeg);
  assert.equal(upright.width, 8);
  assert.equal(upright.height, 16);
  const at = (
    x: number,
    y: number,
  ) => [...upright.data.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3)];
  for (const [x, y] of [[0, 0], [7, 7], [3, 4]]) {
    const [r, , b] = at(x, y);
    assert.ok(r > 0.9 && b < 0.1, `top (${x}, ${y}) should be red: ${at(x, y)}`);
  }
  for (const [x, y] of [[0, 8], [7, 15], [4, 12]]) {
    const [r, , b] = at(x, y);
    assert.ok(r < 0.1 && b > 0.9, `bottom (${x}, ${y}) should be blue: ${at(x, y)}`);
  }
});

Deno.test("undecodable bytes throw CodecError", async () => {
  await assert.rejects(decodeImage(new TextEncoder().encode("hello")), CodecError);
  const png = await encodePng(synthImage(4, 4, () => [0, 0, 0]));
  await assert.rejects(decodeImage(png.subarray(0, 30)), CodecError);
});
