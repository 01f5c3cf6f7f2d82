import assert from "node:assert/strict";
import { parseHexColor } from "../../src/stages/hex_color.ts";
import { rotateStage } from "../../src/stages/rotate.ts";
import { imageOf } from "../../src/stages/stage.ts";
import { grayImage, redRows, synthImage } from "../image/_images.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";

Deno.test("rotate 90 is exact and clockwise; 270 and −90 agree", async () => {
  const ctx = await makeTestContext();
  try {
    const input = grayImage([[1, 2, 3], [4, 5, 6]]);
    const run = async (angle: number) =>
      redRows(
        imageOf(await runStage(rotateStage, ctx, { image: imageValue(input) }, { angle }), "o"),
      );
    assert.deepEqual(await run(90), [[4, 1], [5, 2], [6, 3]]);
    assert.deepEqual(await run(180), [[6, 5, 4], [3, 2, 1]]);
    assert.deepEqual(await run(270), [[3, 6], [2, 5], [1, 4]]);
    assert.deepEqual(await run(-90), await run(270));
  } finally {
    await ctx.dispose();
  }
});

Deno.test("rotate an arbitrary angle: fill colour in the corners, expand sets the size", async () => {
  const ctx = await makeTestContext();
  try {
    const flat = synthImage(10, 6, () => [0, 0, 0]);
    const p = { angle: 30, fill: "#fff" };
    const out = imageOf(await runStage(rotateStage, ctx, { image: imageValue(flat) }, p), "o");
    // 10·cos30 + 6·sin30 = 11.66 → 12;  10·sin30 + 6·cos30 = 10.20 → 10.
    assert.deepEqual([out.width, out.height], [12, 10]);
    assert.deepEqual(
      rotateStage.shape!({ image: { width: 10, height: 6 } }, rotateStage.params.parse(p)),
      {
        width: 12,
        height: 10,
      },
    );
    assert.deepEqual([...out.data.subarray(0, 3)], [1, 1, 1]);
    const c = ((5 * 12) + 6) * 3;
    assert.deepEqual([...out.data.subarray(c, c + 3)], [0, 0, 0]);
    const kept = imageOf(
      await runStage(rotateStage, ctx, { image: imageValue(flat) }, { ...p, expand: false }),
      "o",
    );
    assert.deepEqual([kept.width, kept.height], [10, 6]);
  } finally {
    await ctx.dispose();
  }
});

Deno.test("rotate fill colours parse; bad colours are rejected by the schema", () => {
  assert.deepEqual(parseHexColor("#ff0080"), [1, 0, 128 / 255]);
  assert.deepEqual(parseHexColor("#0f0"), [0, 1, 0]);
  assert.equal(rotateStage.params.safeParse({ angle: 10, fill: "red" }).success, false);
  assert.equal(rotateStage.params.safeParse({ fill: "#000" }).success, false);
});
