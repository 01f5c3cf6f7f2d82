import assert from "node:assert/strict";
import { join } from "node:path";
import { loadStage } from "../../src/stages/load.ts";
import { StageError } from "../../src/stages/stage.ts";
import { encodeJpeg, encodePng } from "../../src/image/codecs.ts";
import { imageOf } from "../../src/stages/stage.ts";
import { synthImage } from "../image/_images.ts";
import { withExifOrientation } from "../image/_exif.ts";
import { makeTestContext, runStage } from "./_context.ts";

Deno.test("load reads a PNG exactly and declares its file for hashing", async () => {
  const ctx = await makeTestContext();
  try {
    const image = synthImage(3, 2, (x, y) => [x / 255, y / 255, 200 / 255]);
    await Deno.writeFile(join(ctx.dir, "in.png"), await encodePng(image));
    const out = await runStage(loadStage, ctx, {}, { path: "in.png" });
    assert.deepEqual(imageOf(out, "out"), image);
    assert.deepEqual(loadStage.inputFiles?.({ path: "in.png", colour: "srgb" }), ["in.png"]);
  } finally {
    await ctx.dispose();
  }
});

Deno.test("load applies EXIF orientation 8 (stored image turned 90° counter-clockwise)", async () => {
  const ctx = await makeTestContext();
  try {
    // Stored 16×8, left block red, right block blue → upright 8×16 with blue on top.
    const stored = synthImage(16, 8, (x) => (x < 8 ? [1, 0, 0] : [0, 0, 1]));
    const jpeg = withExifOrientation(await encodeJpeg(stored, 95), 8);
    await Deno.writeFile(join(ctx.dir, "photo.jpg"), jpeg);
    const image = imageOf(await runStage(loadStage, ctx, {}, { path: "photo.jpg" }), "out");
    assert.equal(image.width, 8);
    assert.equal(image.height, 16);
    assert.ok(image.data[2] > 0.9 && image.data[0] < 0.1, "top-left is blue");
    const last = image.data.length - 3;
    assert.ok(image.data[last] > 0.9 && image.data[last + 2] < 0.1, "bottom-right is red");
  } finally {
    await ctx.dispose();
  }
});

Deno.test("load: missing or undecodable files are StageErrors naming the path", async () => {
  const ctx = await makeTestContext();
  try {
    await assert.rejects(
      runStage(loadStage, ctx, {}, { path: "nope.png" }),
      (e) => e instanceof StageError && e.message.includes("nope.png"),
    );
    await Deno.writeTextFile(join(ctx.dir, "fake.png"), "not an image");
    await assert.rejects(
      runStage(loadStage, ctx, {}, { path: "fake.png" }),
      (e) =>
        e instanceof StageError && e.message.includes("fake.png") && e.message.includes("decode"),
    );
  } finally {
    await ctx.dispose();
  }
});

Deno.test("load: the schema requires a path and nothing else", () => {
  assert.equal(loadStage.params.safeParse({}).success, false);
  assert.equal(loadStage.params.safeParse({ path: "a.png", size: 3 }).success, false);
});
