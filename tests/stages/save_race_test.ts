/**
 * Issue 22, item 6: `save` writes inside the output folder even when a folder on the way is
 * swapped for a symbolic link to elsewhere while the image encodes (the confinement is checked
 * again on real paths before and after the write).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createImage } from "../../src/image/image.ts";
import { RunPaths } from "../../src/pipeline/paths.ts";
import { saveStage } from "../../src/stages/save.ts";
import { StageError } from "../../src/stages/stage.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";

Deno.test("save: out/sub swapped for a link during encoding is refused, nothing written outside", async () => {
  const ctx = await makeTestContext();
  const out = join(ctx.dir, "out");
  const outside = join(ctx.dir, "outside");
  await Deno.mkdir(join(out, "sub"), { recursive: true });
  await Deno.mkdir(outside);
  const real = new RunPaths({
    recipeDir: ctx.dir,
    imageDirs: [],
    outDir: out,
    allowOutsideOutput: false,
  }, new Set());
  let checks = 0;
  const paths = {
    inputs: real.inputs,
    input: (p: string) => real.input(p),
    output(p: string): string {
      const target = real.output(p);
      if (checks++ === 0) {
        // The attacker's swap, between the stage's first check and its write.
        Deno.removeSync(join(out, "sub"), { recursive: true });
        Deno.symlinkSync(outside, join(out, "sub"));
      }
      return target;
    },
  };
  const e = await runStage(saveStage, { ...ctx, paths }, {
    image: imageValue(createImage(4, 4, 0.5)),
  }, { path: "sub/x.png" }).then(() => undefined, (e) => e);
  assert.ok(e instanceof StageError, String(e));
  assert.match(e.message, /leads through a symbolic link .*outside/);
  assert.deepEqual([...Deno.readDirSync(outside)], []);
  assert.equal(checks, 1); // the first check passed; the second (before writing) refused
  await ctx.dispose();
});
