import assert from "node:assert/strict";
import { grayscaleStage } from "../../src/stages/grayscale.ts";
import { imageOf } from "../../src/stages/stage.ts";
import { assertArrayClose, synthImage } from "../image/_images.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";

Deno.test("grayscale: Rec. 709 luma in all three channels", async () => {
  const ctx = await makeTestContext();
  try {
    const primaries = synthImage(3, 1, (x) => [x === 0 ? 1 : 0, x === 1 ? 1 : 0, x === 2 ? 1 : 0]);
    const out = imageOf(await runStage(grayscaleStage, ctx, { image: imageValue(primaries) }), "o");
    assertArrayClose(out.data, [
      0.2126,
      0.2126,
      0.2126,
      0.7152,
      0.7152,
      0.7152,
      0.0722,
      0.0722,
      0.0722,
    ], 1e-7);
    assert.equal(grayscaleStage.params.safeParse({ weights: "601" }).success, false);
  } finally {
    await ctx.dispose();
  }
});
