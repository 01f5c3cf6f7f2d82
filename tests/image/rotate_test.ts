import assert from "node:assert/strict";
import { rotateBilinear, rotatedSize, rotateImage } from "../../src/image/rotate.ts";
import { applyDihedral } from "../../src/image/dihedral.ts";
import { assertImagesClose, synthImage } from "./_images.ts";

const black = [0, 0, 0] as const;
const sample = synthImage(5, 3, (x, y) => [x / 4, y / 2, (x + y) / 6]);

Deno.test("rotate by multiples of 90° is the exact permutation; −90 is 270", () => {
  assert.deepEqual(
    rotateImage(sample, 90, { fill: black, expand: false }),
    applyDihedral(sample, "rotate90"),
  );
  assert.deepEqual(
    rotateImage(sample, -90, { fill: black, expand: true }),
    applyDihedral(sample, "rotate270"),
  );
  assert.deepEqual(
    rotateImage(sample, 540, { fill: black, expand: true }),
    applyDihedral(sample, "rotate180"),
  );
  assert.deepEqual(rotateImage(sample, 360, { fill: black, expand: true }).data, sample.data);
});

Deno.test("the bilinear path agrees with the exact path at 90° and 180° (same direction)", () => {
  const opts = { fill: [1, 0, 1] as const, expand: true };
  assertImagesClose(rotateBilinear(sample, 90, opts), applyDihedral(sample, "rotate90"), 1e-5);
  assertImagesClose(rotateBilinear(sample, 180, opts), applyDihedral(sample, "rotate180"), 1e-5);
  assertImagesClose(rotateBilinear(sample, 270, opts), applyDihedral(sample, "rotate270"), 1e-5);
});

Deno.test("rotate 45° with expand: bounding-box size, fill in the corners, image in the centre", () => {
  const flat = synthImage(10, 10, () => [0.2, 0.4, 0.6]);
  assert.deepEqual(rotatedSize(10, 10, 45, true), { width: 14, height: 14 });
  assert.deepEqual(rotatedSize(10, 10, 45, false), { width: 10, height: 10 });
  const out = rotateImage(flat, 45, { fill: [1, 0, 0], expand: true });
  assert.equal(out.width, 14);
  const px = (
    x: number,
    y: number,
  ) => [...out.data.subarray((y * 14 + x) * 3, (y * 14 + x) * 3 + 3)];
  assert.deepEqual(px(0, 0), [1, 0, 0]);
  assert.deepEqual(px(13, 13), [1, 0, 0]);
  const centre = px(7, 7);
  [0.2, 0.4, 0.6].forEach((v, i) => assert.ok(Math.abs(centre[i] - v) < 1e-6));
});

Deno.test("rotating by 30° then −30° recovers the interior closely", () => {
  const smooth = synthImage(21, 21, (x, y) => [x / 20, y / 20, 0.5]);
  const opts = { fill: black, expand: false };
  const back = rotateImage(rotateImage(smooth, 30, opts), -30, opts);
  // A smooth (linear) image is reproduced exactly by bilinear interpolation away from the fill.
  for (let y = 7; y <= 13; y++) {
    for (let x = 7; x <= 13; x++) {
      const i = (y * 21 + x) * 3;
      assert.ok(
        Math.abs(back.data[i] - x / 20) < 1e-5 && Math.abs(back.data[i + 1] - y / 20) < 1e-5,
      );
    }
  }
});
