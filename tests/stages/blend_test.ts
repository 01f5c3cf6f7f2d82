import assert from "node:assert/strict";
import { blendStage } from "../../src/stages/blend.ts";
import { imageOf } from "../../src/stages/stage.ts";
import { assertArrayClose, synthImage } from "../image/_images.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";

const base = synthImage(2, 2, () => [0.2, 0.5, 0.8]);
const overlay = synthImage(2, 2, () => [0.5, 0.5, 0.5]);

Deno.test("blend: modes and opacity on exact values", async () => {
  const ctx = await makeTestContext();
  try {
    const run = async (p: unknown) =>
      imageOf(
        await runStage(
          blendStage,
          ctx,
          { base: imageValue(base), overlay: imageValue(overlay) },
          p,
        ),
        "o",
      ).data.subarray(0, 3);
    assertArrayClose(await run({}), [0.5, 0.5, 0.5], 1e-7);
    assertArrayClose(await run({ opacity: 0.5 }), [0.35, 0.5, 0.65], 1e-7);
    assertArrayClose(await run({ mode: "multiply" }), [0.1, 0.25, 0.4], 1e-7);
    assertArrayClose(await run({ mode: "screen" }), [0.6, 0.75, 0.9], 1e-7);
    assertArrayClose(await run({ mode: "overlay" }), [0.2, 0.5, 0.8], 1e-7);
    assertArrayClose(await run({ mode: "soft-light" }), [0.2, 0.5, 0.8], 1e-7);
    assertArrayClose(await run({ mode: "difference", opacity: 0.5 }), [0.25, 0.25, 0.55], 1e-7);
    assert.equal(blendStage.params.safeParse({ mode: "dodge" }).success, false);
    assert.equal(blendStage.params.safeParse({ opacity: 1.5 }).success, false);
  } finally {
    await ctx.dispose();
  }
});

Deno.test("blend: an overlay of another size is stretched to the base, with a warning", async () => {
  const ctx = await makeTestContext();
  try {
    const small = synthImage(1, 1, () => [1, 0, 0]);
    const out = imageOf(
      await runStage(blendStage, ctx, { base: imageValue(base), overlay: imageValue(small) }, {
        mode: "normal",
      }),
      "o",
    );
    assert.deepEqual([out.width, out.height], [2, 2]);
    assertArrayClose(out.data, [1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0], 1e-6);
    assert.equal(ctx.warnings.length, 1);
    assert.match(ctx.warnings[0], /1×1 stretched to the base's 2×2/);
  } finally {
    await ctx.dispose();
  }
});
