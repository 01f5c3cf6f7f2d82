import assert from "node:assert/strict";
import { createImage } from "../../src/image/image.ts";
import { captionsFromIds, contactSheetStage } from "../../src/stages/contact_sheet.ts";
import type { Value } from "../../src/stages/stage.ts";
import { makeTestContext } from "./_context.ts";

const solid = (w: number, h: number, v: number): Value => ({
  kind: "image",
  image: createImage(w, h, v),
});

Deno.test("captions: step ids without their common prefix", () => {
  assert.deepEqual(
    captionsFromIds(["transfer-tubingen-starry_night", "transfer-tubingen-the_scream"]),
    ["starry_night", "the_scream"],
  );
  assert.deepEqual(captionsFromIds(["transfer-a", "transfer-b"]), ["a", "b"]);
  assert.deepEqual(captionsFromIds(["only-one"]), ["only-one"]);
});

Deno.test("contact-sheet: grid size, each image scaled into its cell, background between", async () => {
  const ctx = await makeTestContext();
  try {
    const p = contactSheetStage.params.parse({ cell: 20, gap: 4, captions: false });
    const out = await contactSheetStage.run(ctx, {
      images: [solid(40, 20, 1), solid(10, 10, 0), solid(20, 40, 0.5)],
    }, p);
    const image = (out as { image: { width: number; height: number; data: Float32Array } }).image;
    // 3 images → 2 columns × 2 rows of 20 px cells with 4 px gaps.
    assert.deepEqual([image.width, image.height], [2 * 24 + 4, 2 * 24 + 4]);
    const at = (x: number, y: number) => image.data[(y * image.width + x) * 3];
    assert.equal(at(0, 0), 1, "white background");
    assert.equal(at(4 + 10, 4 + 5), 1, "first image (40×20 → 20×10), top-aligned");
    assert.equal(at(4 + 10, 4 + 15), 1, "below it: background");
    assert.equal(at(28 + 10, 4 + 10), 0, "second (10×10 → 20×20)");
    assert.equal(at(4 + 10, 28 + 10), 0.5, "third (20×40 → 10×20), centred");
    assert.equal(at(4 + 2, 28 + 10), 1, "left of the centred third: background");
  } finally {
    await ctx.dispose();
  }
});

Deno.test("contact-sheet: captions from the input steps; given captions must match the count", async () => {
  const ctx = await makeTestContext();
  try {
    const withIds = { ...ctx, inputSteps: { images: ["t-a", "t-b"] } };
    const p = contactSheetStage.params.parse({ cell: 32, gap: 4 });
    const out = await contactSheetStage.run(withIds, {
      images: [solid(32, 32, 1), solid(32, 32, 1)],
    }, p);
    const image = (out as { image: { width: number; height: number; data: Float32Array } }).image;
    // Dark caption ink below each white cell, on the white background.
    const dark = (x0: number) => {
      let n = 0;
      for (let y = 36; y < image.height; y++) {
        for (let x = x0; x < x0 + 32; x++) if (image.data[(y * image.width + x) * 3] < 0.5) n++;
      }
      return n;
    };
    assert.ok(dark(4) > 10 && dark(40) > 10, `${dark(4)} ${dark(40)}`);
    await assert.rejects(
      async () =>
        await contactSheetStage.run(ctx, { images: [solid(8, 8, 1)] }, {
          ...p,
          captions: ["a", "b"],
        }),
      /1 images but 2 captions/,
    );
  } finally {
    await ctx.dispose();
  }
});
