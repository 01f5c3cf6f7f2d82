/**
 * Bounded resources (issue 12, finding 5): an image's pixel count is checked from its header before
 * decoding, `resize` has an upper bound on `scale` and on its result, and `plan` estimates memory
 * for load, blur and resize.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createImage } from "../../src/image/image.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { RecipeError } from "../../src/recipe/errors.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { loadStage } from "../../src/stages/load.ts";
import { resizeStage } from "../../src/stages/resize.ts";
import { StageError } from "../../src/stages/stage.ts";
import { blankPng } from "../image/_blank_png.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";

Deno.test("load refuses a 16000×16000 image from its header, before decoding", async () => {
  const ctx = await makeTestContext();
  await Deno.writeFile(join(ctx.dir, "huge.png"), blankPng(16000, 16000));
  const e = await runStage(loadStage, ctx, {}, { path: "huge.png" }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(e instanceof StageError);
  assert.match(e.message, /is 16000×16000 = 256\.0 megapixels, over the limit of 100/);
  await ctx.dispose();
});

Deno.test("the pixel limit is configurable and validate reports it at the load step", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(join(dir, "big.png"), blankPng(4000, 3000));
  const text = `version: 1\nsteps:\n  - { id: p, use: load, with: { path: big.png } }\n`;
  const plan = async () =>
    planRecipe(await parseRecipe(text, join(dir, "r.yaml"), { registry: builtinStages() }), {
      imageDirs: [],
    });
  assert.ok(await plan(), "12 MP is under the default limit");
  Deno.env.set("STYLEPIPE_MAX_MEGAPIXELS", "10");
  try {
    const e = await plan().then(() => undefined, (e) => e);
    assert.ok(e instanceof RecipeError);
    assert.match(
      e.message,
      /r\.yaml:3:39: step "p": image ".*big\.png" is 4000×3000 = 12\.0 megapixels, over the limit of 10/,
    );
  } finally {
    Deno.env.delete("STYLEPIPE_MAX_MEGAPIXELS");
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("resize: scale has an upper bound, and so does the result", async () => {
  assert.equal(resizeStage.params.safeParse({ scale: 1000 }).success, false);
  assert.equal(resizeStage.params.safeParse({ scale: 64 }).success, true);
  const ctx = await makeTestContext();
  const wide = imageValue(createImage(600, 1, 0.5));
  const e = await runStage(resizeStage, ctx, { image: wide }, { scale: 64 }).then(
    () => 0,
    (e) => e,
  );
  assert.ok(e instanceof StageError);
  assert.match(e.message, /would be 38400×64; sides are at most 32768/);
  await ctx.dispose();
});

Deno.test("plan estimates memory for load, blur and resize from the header's size", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(join(dir, "photo.png"), blankPng(400, 300));
  const text = `version: 1
steps:
  - { id: p, use: load, with: { path: photo.png } }
  - { id: b, use: blur, from: p, with: { sigma: 2 } }
  - { id: r, use: resize, from: b, with: { scale: 2 } }
  - { id: big, use: resize, from: b, with: { scale: 60 } }
`;
  const recipe = await parseRecipe(text, join(dir, "r.yaml"), { registry: builtinStages() });
  const e = await planRecipe(recipe, { imageDirs: [] }).then(() => undefined, (e) => e);
  assert.ok(e instanceof RecipeError, "a 24000×18000 resize is refused at validation");
  assert.match(e.message, /r\.yaml:6:\d+: step "big": the resized image is 24000×18000/);
  const ok = await parseRecipe(text.split("\n").slice(0, 5).join("\n"), join(dir, "r.yaml"), {
    registry: builtinStages(),
  });
  const plan = await planRecipe(ok, { imageDirs: [] });
  const bytes = Object.fromEntries(plan.steps.map((p) => [p.step.id, p.estimate?.bytes]));
  const px = 400 * 300;
  assert.deepEqual(bytes, { p: px * 18, b: px * 36, r: 12 * (px + 2 * 4 * px) }); // 1-bit grey PNG → RGB8
  await Deno.remove(dir, { recursive: true });
});
