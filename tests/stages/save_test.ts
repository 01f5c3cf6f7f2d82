import assert from "node:assert/strict";
import { join } from "node:path";
import { saveFormat, saveStage } from "../../src/stages/save.ts";
import { loadStage } from "../../src/stages/load.ts";
import { type FileValue, imageOf, StageError } from "../../src/stages/stage.ts";
import { sha256File } from "../../src/util/hash.ts";
import { synthImage } from "../image/_images.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";
import { encodeJpeg, readImageHeader } from "../../src/image/codecs.ts";
import { withExifOrientation } from "../image/_exif.ts";
import sharp from "sharp";

const image = synthImage(4, 3, (x, y) => [(x * 60) / 255, (y * 90) / 255, ((x * y) % 7) / 7]);

Deno.test("save → load: PNG round trip is exact at 8 bits; value carries path and sha256", async () => {
  const ctx = await makeTestContext();
  try {
    const out = await runStage(saveStage, ctx, { image: imageValue(image) }, {
      path: "sub/out.png",
    });
    assert.equal(out.kind, "file");
    const file = out as FileValue;
    assert.equal(file.path, join(ctx.dir, "sub/out.png"));
    assert.equal(file.sha256, await sha256File(file.path));
    const back = imageOf(await runStage(loadStage, ctx, {}, { path: "sub/out.png" }), "back");
    const quantized = image.data.map((v) => Math.round(v * 255) / 255);
    assert.deepEqual(back.data, quantized);
    // No temporary file is left behind.
    assert.deepEqual([...Deno.readDirSync(join(ctx.dir, "sub"))].map((e) => e.name), ["out.png"]);
  } finally {
    await ctx.dispose();
  }
});

Deno.test("save: JPEG quality changes the file size; a saved file can be saved again", async () => {
  const ctx = await makeTestContext();
  try {
    const noisy = synthImage(
      32,
      32,
      (x, y) => [((x * 37 + y * 11) % 17) / 16, (x ^ y) / 31, y / 31],
    );
    const sizes: number[] = [];
    for (const quality of [20, 95]) {
      const out = await runStage(saveStage, ctx, { image: imageValue(noisy) }, {
        path: `q${quality}.jpg`,
        quality,
      }) as FileValue;
      sizes.push((await Deno.stat(out.path)).size);
      const again = await runStage(saveStage, ctx, { image: out }, { path: `copy${quality}.png` });
      assert.equal(again.kind, "file");
    }
    assert.ok(sizes[1] > sizes[0] * 1.5, `sizes ${sizes}`);
  } finally {
    await ctx.dispose();
  }
});

Deno.test("save: an explicit format that contradicts the extension is written, with a warning", async () => {
  const ctx = await makeTestContext();
  try {
    const out = await runStage(saveStage, ctx, { image: imageValue(image) }, {
      path: "odd.jpg",
      format: "png",
    }) as FileValue;
    const bytes = await Deno.readFile(out.path);
    assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    assert.equal(ctx.warnings.length, 1);
    assert.match(ctx.warnings[0], /PNG data to "odd\.jpg"/);
  } finally {
    await ctx.dispose();
  }
});

Deno.test("save refuses to overwrite an input file", async () => {
  const ctx = await makeTestContext({ inputs: ["photo.png"] });
  try {
    await Deno.writeTextFile(join(ctx.dir, "photo.png"), "original");
    await assert.rejects(
      runStage(saveStage, ctx, { image: imageValue(image) }, { path: "photo.png" }),
      (e) => e instanceof StageError && e.message.includes("overwrite"),
    );
    // Also through a symbolic link pointing at the input.
    await Deno.symlink(join(ctx.dir, "photo.png"), join(ctx.dir, "link.png"));
    await assert.rejects(
      runStage(saveStage, ctx, { image: imageValue(image) }, { path: "link.png" }),
      StageError,
    );
    assert.equal(await Deno.readTextFile(join(ctx.dir, "photo.png")), "original");
  } finally {
    await ctx.dispose();
  }
});

Deno.test("save: a path it cannot write is a StageError naming the file, and nothing is written", async () => {
  const ctx = await makeTestContext();
  try {
    await Deno.writeTextFile(join(ctx.dir, "sub"), "a file where a folder would go");
    await assert.rejects(
      runStage(saveStage, ctx, { image: imageValue(image) }, { path: "sub/x.png" }),
      (e) =>
        e instanceof StageError &&
        e.message.startsWith(`cannot write ${join(ctx.dir, "sub", "x.png")}: `),
    );
    assert.equal(await Deno.readTextFile(join(ctx.dir, "sub")), "a file where a folder would go");
  } finally {
    await ctx.dispose();
  }
});

Deno.test("save refuses paths outside the output directory unless allowed", async () => {
  const outside = await Deno.makeTempDir({ prefix: "stylepipe-outside-" });
  const ctx = await makeTestContext();
  const allowed = await makeTestContext({ allowOutside: true });
  try {
    const path = join(outside, "x.png");
    for (const p of ["../escape.png", path]) {
      await assert.rejects(
        runStage(saveStage, ctx, { image: imageValue(image) }, { path: p }),
        (e) => e instanceof StageError && e.message.includes("outside"),
      );
    }
    const out = await runStage(saveStage, allowed, { image: imageValue(image) }, {
      path,
    }) as FileValue;
    assert.equal(out.path, path);
    assert.ok((await Deno.stat(path)).isFile);
  } finally {
    await ctx.dispose();
    await allowed.dispose();
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("save: format by extension, explicit format wins, unknown extension fails validation", async () => {
  const parse = (p: unknown) => saveStage.params.parse(p);
  assert.equal(saveFormat(parse({ path: "a.PNG" })), "png");
  assert.equal(saveFormat(parse({ path: "a.jpeg" })), "jpeg");
  assert.equal(saveFormat(parse({ path: "a.out", format: "jpeg" })), "jpeg");
  assert.equal(saveFormat(parse({ path: "a.tif" })), "tiff");
  assert.equal(saveFormat(parse({ path: "a.webp" })), "webp");
  assert.equal(saveFormat(parse({ path: "a.avif" })), "avif");
  const messages = await saveStage.check!(parse({ path: "a.gif" }), { weightsDirs: [] });
  assert.equal(messages.length, 1);
  assert.match(messages[0], /\.gif/);
  const mixed = await saveStage.check!(
    parse({ path: "a.jpg", bit_depth: 16, lossless: true }),
    { weightsDirs: [] },
  );
  assert.equal(mixed.length, 2, mixed.join("; "));
  assert.match(mixed[0], /bit_depth 16 .* PNG or TIFF/);
  assert.equal(saveStage.params.safeParse({ path: "a.jpg", quality: 0 }).success, false);
  assert.equal(saveStage.params.safeParse({ path: "a.jpg", quality: 101 }).success, false);
  assert.equal(parse({ path: "a.jpg" }).quality, 92);
});

Deno.test("save: 16-bit PNG and TIFF keep 16-bit samples exactly; no alpha channel unless the image has one", async () => {
  const ctx = await makeTestContext();
  try {
    const fine = synthImage(
      5,
      4,
      (x, y) => [(x * 13001 + 7) / 65535, (y * 9001) / 65535, 1 / 65535],
    );
    for (const path of ["deep.png", "deep.tif"]) {
      const out = await runStage(saveStage, ctx, { image: imageValue(fine) }, {
        path,
        bit_depth: 16,
      }) as FileValue;
      const header = await readImageHeader(await Deno.readFile(out.path));
      assert.equal(header.bits, 16);
      assert.equal(header.hasAlpha, false);
      assert.equal(header.hasProfile, true, "sRGB profile embedded by default");
      const back = imageOf(await runStage(loadStage, ctx, {}, { path }), "back");
      assert.deepEqual(back.data, fine.data, path);
    }
  } finally {
    await ctx.dispose();
  }
});

Deno.test("save: alpha is written (PNG, WebP) and read back; JPEG has none (flattened, below)", async () => {
  const ctx = await makeTestContext();
  try {
    const alpha = new Float32Array(12).map((_, i) => i / 11);
    const rgba = {
      ...image,
      data: image.data.map((v) => Math.round(v * 255) / 255),
      alpha: alpha.map((v) => Math.round(v * 255) / 255),
    };
    for (const [path, lossless] of [["a.png", false], ["a.webp", true]] as const) {
      await runStage(saveStage, ctx, { image: imageValue(rgba) }, { path, lossless });
      const back = imageOf(await runStage(loadStage, ctx, {}, { path }), "back");
      assert.deepEqual(back.alpha, rgba.alpha, path);
    }
    await runStage(saveStage, ctx, { image: imageValue(rgba) }, { path: "a.jpg" });
    assert.equal(
      (await readImageHeader(await Deno.readFile(join(ctx.dir, "a.jpg")))).hasAlpha,
      false,
    );
  } finally {
    await ctx.dispose();
  }
});

Deno.test("save metadata: keep writes the source EXIF (orientation upright), strip writes no profile", async () => {
  const ctx = await makeTestContext();
  try {
    const stored = synthImage(16, 8, (x) => (x < 8 ? [1, 0, 0] : [0, 0, 1]));
    const jpeg = withExifOrientation(await encodeJpeg(stored, 95), 6);
    await Deno.writeFile(join(ctx.dir, "photo.jpg"), jpeg);
    const photo = await runStage(loadStage, ctx, {}, { path: "photo.jpg" });
    await runStage(saveStage, ctx, { image: photo }, { path: "kept.jpg", metadata: "keep" });
    await runStage(saveStage, ctx, { image: photo }, { path: "plain.png" });
    await runStage(saveStage, ctx, { image: photo }, { path: "bare.png", metadata: "strip" });
    const kept = await sharp(join(ctx.dir, "kept.jpg")).metadata();
    assert.ok(kept.exif, "EXIF kept");
    assert.equal(kept.orientation, 1, "the pixels are upright, and the EXIF says so");
    assert.deepEqual([kept.width, kept.height], [8, 16]);
    const plain = await sharp(join(ctx.dir, "plain.png")).metadata();
    assert.equal(plain.exif, undefined);
    assert.equal(plain.hasProfile, true);
    const bare = await sharp(join(ctx.dir, "bare.png")).metadata();
    assert.equal(bare.hasProfile, false);
  } finally {
    await ctx.dispose();
  }
});

Deno.test("save: alpha into JPEG is flattened onto background (white by default)", async () => {
  const ctx = await makeTestContext();
  try {
    const red = { ...synthImage(8, 8, () => [1, 0, 0]), alpha: new Float32Array(64).fill(0.5) };
    const pixel = async (params: Record<string, unknown>) => {
      await runStage(saveStage, ctx, { image: imageValue(red) }, {
        chroma_subsampling: "4:4:4",
        quality: 100,
        ...params,
      });
      const back = imageOf(await runStage(loadStage, ctx, {}, { path: params.path }), "back");
      assert.equal(back.alpha, undefined);
      return [...back.data.subarray(0, 3)].map((v) => Math.round(v * 255));
    };
    const near = (got: number[], want: number[]) =>
      assert.ok(got.every((v, i) => Math.abs(v - want[i]) <= 2), `${got} vs ${want}`);
    near(await pixel({ path: "white.jpg" }), [255, 128, 128]);
    near(await pixel({ path: "black.jpg", background: "#000" }), [128, 0, 0]);
    assert.deepEqual(ctx.warnings, []);
  } finally {
    await ctx.dispose();
  }
});
