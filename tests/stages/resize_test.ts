import assert from "node:assert/strict";
import { resizeStage, resizeTarget } from "../../src/stages/resize.ts";
import { imageOf } from "../../src/stages/stage.ts";
import { grayImage, redRows, synthImage } from "../image/_images.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";

const parse = (p: unknown) => resizeStage.params.parse(p);

Deno.test("resize target: each way of giving the size, aspect kept", () => {
  assert.deepEqual(resizeTarget(1024, 768, parse({ max_side: 512 })), { width: 512, height: 384 });
  assert.deepEqual(resizeTarget(768, 1024, parse({ max_side: 100 })), { width: 75, height: 100 });
  assert.deepEqual(resizeTarget(1024, 768, parse({ width: 300 })), { width: 300, height: 225 });
  assert.deepEqual(resizeTarget(1024, 768, parse({ height: 100 })), { width: 133, height: 100 });
  assert.deepEqual(resizeTarget(1024, 768, parse({ scale: 0.25 })), { width: 256, height: 192 });
  assert.deepEqual(resizeTarget(1024, 768, parse({ width: 100, height: 100 })), {
    width: 100,
    height: 75,
  });
  assert.deepEqual(resizeTarget(1024, 768, parse({ width: 100, height: 100, fit: "stretch" })), {
    width: 100,
    height: 100,
  });
  assert.deepEqual(resizeTarget(100, 10, parse({ scale: 0.01 })), { width: 1, height: 1 });
  assert.deepEqual(resizeTarget(200, 100, parse({ max_side: 400, upscale: false })), {
    width: 200,
    height: 100,
  });
});

Deno.test("resize params: exactly one size, fit only with width and height, default lanczos3", () => {
  assert.equal(parse({ max_side: 5 }).filter, "lanczos3");
  for (
    const bad of [
      {},
      { max_side: 5, width: 3 },
      { scale: 2, height: 3 },
      { max_side: 5, fit: "stretch" },
      {
        max_side: 2.5,
      },
      { scale: -1 },
      { width: 3, filter: "cubic" },
    ]
  ) {
    assert.equal(resizeStage.params.safeParse(bad).success, false, JSON.stringify(bad));
  }
});

Deno.test("resize runs with the chosen filter and shape() agrees with run()", async () => {
  const ctx = await makeTestContext();
  try {
    const input = grayImage([[0.1, 0.2], [0.3, 0.4]]);
    const out = imageOf(
      await runStage(resizeStage, ctx, { image: imageValue(input) }, {
        scale: 2,
        filter: "nearest",
      }),
      "out",
    );
    assert.deepEqual(redRows(out).map((r) => r.map((v) => Math.round(v * 10))), [
      [1, 1, 2, 2],
      [1, 1, 2, 2],
      [3, 3, 4, 4],
      [3, 3, 4, 4],
    ]);
    const big = synthImage(37, 23, (x, y) => [x / 37, y / 23, 0.5]);
    const p = parse({ max_side: 16 });
    const shaped = resizeStage.shape!({ image: { width: 37, height: 23 } }, p);
    const ran = imageOf(await resizeStage.run(ctx, { image: imageValue(big) }, p), "out");
    assert.deepEqual(shaped, { width: ran.width, height: ran.height });
    assert.deepEqual(shaped, { width: 16, height: 10 });
  } finally {
    await ctx.dispose();
  }
});
