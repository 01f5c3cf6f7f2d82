import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage, encodeJpeg, encodePng } from "../../src/image/codecs.ts";
import { verifyCommand } from "../../src/cli/verify.ts";
import { CacheStore } from "../../src/pipeline/cache.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { embedProvenance, extractProvenance } from "../../src/pipeline/provenance.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { loadRecipe } from "../../src/recipe/load.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { testImagesDir } from "../stages/_context.ts";
import { withExifOrientation } from "../image/_exif.ts";
import { synthImage } from "../image/_images.ts";

const RECIPE = `version: 1
name: verify-me
seed: 7
steps:
  - { id: photo, use: load, with: { path: tubingen.jpg } }
  - { id: small, use: resize, from: photo, with: { max_side: 12 } }
  - { id: warm, use: adjust, from: small, with: { contrast: 1.2, gamma: 0.9 } }
  - { id: final, use: save, from: warm, with: { path: final.png } }
`;

/** Renders the recipe into `dir/out` (cached in `dir/cache`) and returns the output path. */
async function render(dir: string): Promise<string> {
  await Deno.writeTextFile(join(dir, "recipe.yaml"), RECIPE);
  const recipe = await loadRecipe(join(dir, "recipe.yaml"), { registry: builtinStages() });
  const plan = await planRecipe(recipe, { outDir: join(dir, "out"), imageDirs: [testImagesDir()] });
  await runPlan(plan, { cache: new CacheStore(join(dir, "cache")) });
  return join(dir, "out", "final.png");
}

/** Runs verify, returning its exit code and what it printed. */
async function verify(...args: string[]): Promise<{ code: number; out: string }> {
  Deno.env.set("STYLEPIPE_IMAGES", testImagesDir());
  const lines: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { code: await verifyCommand(args), out: lines.join("\n") };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

Deno.test("verify re-renders a fresh output and finds identical bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const output = await render(dir);
    const record = extractProvenance(await Deno.readFile(output));
    assert.deepEqual(record.recipe.steps.map((s) => s.id), ["photo", "small", "warm", "final"]);
    const { code, out } = await verify(output);
    assert.equal(code, 0, out);
    assert.match(out, /final\.png: identical \(same bytes; re-rendered with auto in/);
    const { code: jsonCode, out: json } = await verify("--json", output);
    assert.equal(jsonCode, 0);
    const event = JSON.parse(json);
    assert.equal(event.identicalBytes, true);
    assert.equal(event.maxDifference, 0);
    assert.deepEqual(event.notes, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify reports the largest pixel difference of an altered output", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const output = await render(dir);
    const bytes = await Deno.readFile(output);
    const image = await decodeImage(bytes);
    const data = image.data.slice();
    const at = (3 * image.width + 5) * 3 + 1; // green of pixel (5, 3)
    data[at] = data[at] > 0.5 ? data[at] - 9 / 255 : data[at] + 9 / 255;
    const altered = await encodePng({ ...image, data });
    await Deno.writeFile(output, embedProvenance(altered, extractProvenance(bytes)));
    const { code, out } = await verify(output);
    assert.equal(code, 1, out);
    assert.match(out, /different: largest pixel difference 9\/255 at \(5, 3\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify explains a file without provenance, and usage errors exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plain = join(dir, "plain.png");
    await Deno.writeFile(
      plain,
      await encodePng({ width: 1, height: 1, data: new Float32Array(3) }),
    );
    const { code, out } = await verify(plain);
    assert.equal(code, 1);
    assert.match(out, /plain\.png has no provenance: no "stylepipe" PNG chunk and no readable/);
    assert.equal((await verify()).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compareImages counts alpha: a missing plane is opaque", async () => {
  const { compareImages } = await import("../../src/pipeline/reproduce.ts");
  const rgb = { width: 2, height: 1, data: new Float32Array(6).fill(0.5) };
  assert.equal(
    compareImages(rgb, { ...rgb, alpha: new Float32Array([1, 1]) }).identicalPixels,
    true,
  );
  const r = compareImages(rgb, { ...rgb, alpha: new Float32Array([1, 0.8]) });
  assert.equal(r.maxDifference, 51);
  assert.deepEqual(r.at, { x: 1, y: 0 });
});

Deno.test("verify after an input changed says so, and that an EXIF-only edit leaves the pixels alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const photo = join(dir, "tubingen.jpg");
    // A photo found nowhere else (verify would otherwise find the original by its hash).
    const picture = (k: number) => synthImage(16, 12, (x, y) => [x / 15, y / 11, k]);
    await Deno.writeFile(photo, await encodeJpeg(picture(0.3), 90));
    const output = await render(dir);
    // Only the metadata: an EXIF block saying "upright" (the pixels stay as they were).
    await Deno.writeFile(photo, withExifOrientation(await Deno.readFile(photo), 1));
    const exifOnly = await verify(output);
    assert.equal(exifOnly.code, 0, exifOnly.out);
    assert.match(
      exifOnly.out,
      /input tubingen\.jpg changed since the render \(sha256 [0-9a-f]{12}… then, [0-9a-f]{12}… now:/,
    );
    assert.match(
      exifOnly.out,
      /gives the same pixels: only what does not reach them \(EXIF or other metadata\)/,
    );
    assert.doesNotMatch(exifOnly.out, /not found/);
    // Other pixels: a different picture under the same name.
    await Deno.writeFile(photo, await encodeJpeg(picture(0.8), 90));
    const repainted = await verify(output);
    assert.equal(repainted.code, 1, repainted.out);
    assert.match(repainted.out, /different: largest pixel difference/);
    assert.match(
      repainted.out,
      /tubingen\.jpg changed since the render: it may explain the difference/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
