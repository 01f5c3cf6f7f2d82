import assert from "node:assert/strict";
import { flipStage } from "../../src/stages/flip.ts";
import { imageOf } from "../../src/stages/stage.ts";
import { grayImage, redRows } from "../image/_images.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";

Deno.test("flip horizontal (default) and vertical mirror exactly", async () => {
  const ctx = await makeTestContext();
  try {
    const input = imageValue(grayImage([[1, 2, 3], [4, 5, 6]]));
    const h = await runStage(flipStage, ctx, { image: input });
    assert.deepEqual(redRows(imageOf(h, "h")), [[3, 2, 1], [6, 5, 4]]);
    const v = await runStage(flipStage, ctx, { image: input }, { direction: "vertical" });
    assert.deepEqual(redRows(imageOf(v, "v")), [[4, 5, 6], [1, 2, 3]]);
    assert.equal(flipStage.params.safeParse({ direction: "diagonal" }).success, false);
  } finally {
    await ctx.dispose();
  }
});
