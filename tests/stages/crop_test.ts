import assert from "node:assert/strict";
import { cropStage } from "../../src/stages/crop.ts";
import { imageOf, StageError } from "../../src/stages/stage.ts";
import { grayImage, redRows } from "../image/_images.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";

const input = grayImage([
  [0, 1, 2, 3],
  [4, 5, 6, 7],
  [8, 9, 10, 11],
]);

Deno.test("crop in pixels copies exactly that rectangle", async () => {
  const ctx = await makeTestContext();
  try {
    const out = await runStage(cropStage, ctx, { image: imageValue(input) }, {
      x: 1,
      y: 1,
      width: 2,
      height: 2,
    });
    assert.deepEqual(redRows(imageOf(out, "out")), [[5, 6], [9, 10]]);
  } finally {
    await ctx.dispose();
  }
});

Deno.test("crop in fractions rounds to pixels; shape() agrees", async () => {
  const ctx = await makeTestContext();
  try {
    const p = { x: 0.5, y: 0, width: 0.5, height: 2 / 3, units: "fraction" };
    const out = imageOf(await runStage(cropStage, ctx, { image: imageValue(input) }, p), "out");
    assert.deepEqual(redRows(out), [[2, 3], [6, 7]]);
    assert.deepEqual(
      cropStage.shape!({ image: { width: 4, height: 3 } }, cropStage.params.parse(p)),
      {
        width: 2,
        height: 2,
      },
    );
  } finally {
    await ctx.dispose();
  }
});

Deno.test("crop out of bounds is a StageError naming the overflow", async () => {
  const ctx = await makeTestContext();
  try {
    await assert.rejects(
      runStage(cropStage, ctx, { image: imageValue(input) }, { x: 2, width: 3, height: 1 }),
      (e) =>
        e instanceof StageError && e.message.includes("x + width = 5 exceeds the image width 4"),
    );
    await assert.rejects(
      runStage(cropStage, ctx, { image: imageValue(input) }, { y: 1, width: 1, height: 3 }),
      (e) => e instanceof StageError && e.message.includes("height 3"),
    );
  } finally {
    await ctx.dispose();
  }
});

Deno.test("crop params: whole pixels, fractions within the image", () => {
  const ok = (p: unknown) => cropStage.params.safeParse(p).success;
  assert.equal(ok({ width: 2, height: 2 }), true);
  assert.equal(ok({ width: 2.5, height: 2 }), false);
  assert.equal(ok({ x: -1, width: 2, height: 2 }), false);
  assert.equal(ok({ x: 0.6, width: 0.5, height: 1, units: "fraction" }), false);
  assert.equal(ok({ width: 2 }), false);
});
