import assert from "node:assert/strict";
import { borderContrast } from "../../src/bench/border_sweep.ts";
import { createImage } from "../../src/image/image.ts";

Deno.test("borderContrast: frame minus inner band, per edge, in luma 0–255", () => {
  // 20 × 16 grey 0.5, the top 2 rows black and the right 3 columns white.
  const image = createImage(20, 16, 0.5);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 20; j++) {
      const v = i < 2 ? 0 : j >= 17 ? 1 : undefined;
      if (v !== undefined) image.data.fill(v, (i * 20 + j) * 3, (i * 20 + j) * 3 + 3);
    }
  }
  const c = borderContrast(image, 4);
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-3, `${a} vs ${b}`);
  // Top: half of its 4 rows black (the right 3 columns of those rows too), band all grey but its 3
  // white columns; per row 17 grey + 3 white (band) vs the same rows with 2 of 4 black.
  const grey = 127.5;
  const bandTop = (17 * grey + 3 * 255) / 20;
  near(c.top, ((2 * 0 * 20) + 2 * (17 * grey + 3 * 255)) / 80 - bandTop);
  near(c.bottom, 0);
  near(c.left, (2 * 0 + 14 * grey) / 16 - (2 * 0 + 14 * grey) / 16);
  near(c.right, (2 * 0 + 14 * (grey + 3 * 255) / 4) / 16 - (2 * 0 + 14 * grey) / 16);
  assert.throws(() => borderContrast(createImage(15, 40, 0), 4), /too small/);
  near(borderContrast(createImage(16, 16, 0.3), 4).frame, 0);
  // A black 4-pixel frame around grey: the frame is 127.5 darker than the band inside it.
  const framed = createImage(18, 16, 0.5);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 18; j++) {
      if (Math.min(i, j, 15 - i, 17 - j) < 4) {
        framed.data.fill(0, (i * 18 + j) * 3, (i * 18 + j) * 3 + 3);
      }
    }
  }
  near(borderContrast(framed, 4).frame, -127.5);
});
