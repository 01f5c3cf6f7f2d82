import assert from "node:assert/strict";
import { mirrorPad } from "../../src/image/mirror_pad.ts";

// 3×2 grey image (R = G = B): row 0 = 1 2 3, row 1 = 4 5 6.
const grey = (w: number, h: number, values: number[]) => ({
  width: w,
  height: h,
  data: Float32Array.from(values.flatMap((v) => [v, v, v])),
});

Deno.test("mirrorPad reflects about the edge pixel on every side", () => {
  const out = mirrorPad(grey(3, 2, [1, 2, 3, 4, 5, 6]), 1);
  assert.equal(out.width, 5);
  assert.equal(out.height, 4);
  const red = [...out.data].filter((_, i) => i % 3 === 0);
  // deno-fmt-ignore
  assert.deepEqual(red, [
    5, 4, 5, 6, 5,
    2, 1, 2, 3, 2,
    5, 4, 5, 6, 5,
    2, 1, 2, 3, 2,
  ]);
});

Deno.test("mirrorPad: margin 0 is a copy; a margin as large as a side is refused", () => {
  const image = grey(3, 2, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(mirrorPad(image, 0).data, image.data);
  assert.throws(
    () => mirrorPad(image, 2),
    /mirrored margin of 2 px needs an image wider and taller/,
  );
  assert.throws(() => mirrorPad(image, -1), RangeError);
});
