import assert from "node:assert/strict";
import sharp from "sharp";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { crc32, deflateSync } from "node:zlib";
import {
  CodecError,
  decodeImage,
  encodeImage,
  encodeJpeg,
  encodePng,
  type ImageFormat,
  quantize16,
  quantize8,
  readImageHeader,
} from "../../src/image/codecs.ts";
import type { RgbImage } from "../../src/image/image.ts";
import { synthImage } from "./_images.ts";
import { withExifOrientation } from "./_exif.ts";
import { testImagesDir } from "../stages/_context.ts";

/** 8-bit-exact test card: every value k/255. */
const card8 = synthImage(
  9,
  7,
  (x, y) => [(x * 31) / 255, (y * 40) / 255, ((x * y * 13) % 256) / 255],
);
/** 16-bit-exact test card: values k/65535 that 8 bits cannot hold. */
const card16 = synthImage(
  9,
  7,
  (x, y) => [(x * 7001 + 3) / 65535, (y * 9001 + 1) / 65535, 32768 / 65535],
);
for (const v of card16.data) assert.ok(v >= 0 && v <= 1);

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

Deno.test("lossless round trips are exact: PNG and TIFF at 8 and 16 bits, lossless WebP and AVIF", async () => {
  const cases: [ImageFormat, 8 | 16, RgbImage, boolean?][] = [
    ["png", 8, card8],
    ["png", 16, card16],
    ["tiff", 8, card8],
    ["tiff", 16, card16],
    ["webp", 8, card8, true],
    ["avif", 8, card8, true],
  ];
  for (const [format, bits, image, lossless] of cases) {
    const bytes = await encodeImage(image, { format, bits, lossless });
    const header = await readImageHeader(bytes);
    assert.equal(header.bits, bits, `${format} ${bits}`);
    assert.equal(header.hasAlpha, false, `${format}: no alpha channel unless the image has one`);
    const back = await decodeImage(bytes);
    assert.deepEqual([back.width, back.height], [9, 7]);
    assert.deepEqual(back.data, image.data, `${format} ${bits}-bit round trip`);
  }
});

Deno.test("lossy formats stay close and shrink with quality; 16 bits only for PNG/TIFF", async () => {
  const smooth = synthImage(48, 32, (x, y) => [x / 47, y / 31, (x + y) / 78]);
  for (const format of ["jpeg", "webp", "avif"] as const) {
    const high = await encodeImage(smooth, { format, quality: 95 });
    const low = await encodeImage(smooth, { format, quality: 20 });
    assert.ok(low.length < high.length, `${format}: ${low.length} < ${high.length}`);
    const back = await decodeImage(high);
    assert.ok(
      maxDiff(back.data, smooth.data) < 0.08,
      `${format} q95 max diff ${maxDiff(back.data, smooth.data)}`,
    );
    assert.equal((await readImageHeader(high)).format, format === "avif" ? "heif" : format);
  }
  await assert.rejects(encodeImage(smooth, { format: "jpeg", bits: 16 }), RangeError);
  await assert.rejects(encodeJpeg(smooth, 0), RangeError);
});

Deno.test("JPEG options: progressive and 4:4:4 are written as asked", async () => {
  const image = synthImage(32, 32, (x, y) => [x / 31, y / 31, 0.3]);
  const plain = await encodeImage(image, { format: "jpeg" });
  const prog = await encodeImage(image, {
    format: "jpeg",
    progressive: true,
    chromaSubsampling: "4:4:4",
  });
  assert.equal((await sharp(plain).metadata()).isProgressive, false);
  assert.equal((await sharp(plain).metadata()).chromaSubsampling, "4:2:0");
  assert.equal((await sharp(prog).metadata()).isProgressive, true);
  assert.equal((await sharp(prog).metadata()).chromaSubsampling, "4:4:4");
});

Deno.test("the same image and options give the same bytes on repeat, in every format", async () => {
  for (const format of ["png", "jpeg", "webp", "avif", "tiff"] as const) {
    const a = await encodeImage(card8, { format });
    const b = await encodeImage(card8, { format });
    assert.deepEqual(a, b, format);
  }
});

Deno.test("quantization: round(clamp(v, 0, 1) · (2^bits − 1))", async () => {
  assert.deepEqual([-0.5, 0, 0.5 / 255, 0.499 / 255, 0.5, 1, 7, NaN].map(quantize8), [
    0,
    0,
    1,
    0,
    128,
    255,
    255,
    0,
  ]);
  assert.deepEqual([-1, 0.5, 1, 2, NaN].map(quantize16), [0, 32768, 65535, 65535, 0]);
  const back = await decodeImage(await encodePng(synthImage(1, 1, () => [-1, 0.5, 2])));
  assert.deepEqual([...back.data], [0, 128 / 255, 1].map(Math.fround));
});

Deno.test("PNG inputs of every kind: 1-bit grey, palette, grey+alpha, RGBA, 16-bit grey", async () => {
  const oneBit = onebitPng(3, 2, [[0, 1, 1], [0, 0, 1]]);
  const bw = await decodeImage(oneBit);
  assert.deepEqual([...bw.data.filter((_, i) => i % 3 === 0)], [0, 1, 1, 0, 0, 1]);
  assert.equal(bw.alpha, undefined);

  const rgb = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
  const palette = await sharp(rgb, { raw: { width: 2, height: 2, channels: 3 } }).png({
    palette: true,
  }).toBuffer();
  assert.deepEqual([...(await decodeImage(palette)).data], [...rgb].map((v) => v / 255));

  const ga = Buffer.from([10, 0, 200, 128]);
  const greyAlpha = await sharp(ga, { raw: { width: 2, height: 1, channels: 2 } }).png().toBuffer();
  const decoded = await decodeImage(greyAlpha);
  assert.deepEqual([...decoded.data], [10, 10, 10, 200, 200, 200].map((v) => Math.fround(v / 255)));
  assert.deepEqual([...decoded.alpha!], [0, 128 / 255].map(Math.fround));

  const rgba: RgbImage = {
    ...synthImage(2, 1, () => [1, 128 / 255, 0]),
    alpha: new Float32Array([1, 0]),
  };
  const back = await decodeImage(await encodePng(rgba));
  assert.equal((await readImageHeader(await encodePng(rgba))).hasAlpha, true);
  assert.deepEqual(
    back.alpha,
    rgba.alpha,
    "alpha kept (straight: the transparent pixel keeps its colour)",
  );
  assert.deepEqual(back.data, rgba.data);

  const g16 = new Uint16Array([0, 1, 65534, 65535]);
  const grey16 = await sharp(g16, { raw: { width: 2, height: 2, channels: 1 } }).toColourspace(
    "grey16",
  ).png().toBuffer();
  assert.equal((await readImageHeader(grey16)).bits, 16);
  const wide = await decodeImage(grey16);
  assert.deepEqual(
    [...wide.data.filter((_, i) => i % 3 === 1)],
    [...g16].map((v) => Math.fround(v / 65535)),
  );
});

/** A 1-bit greyscale PNG (colour type 0, bit depth 1), written by hand. */
function onebitPng(width: number, height: number, rows: number[][]): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([1, 0, 0, 0, 0], 8);
  const stride = 1 + Math.ceil(width / 8);
  const scan = new Uint8Array(stride * height);
  rows.forEach((row, y) =>
    row.forEach((v, x) => scan[y * stride + 1 + (x >> 3)] |= v << (7 - (x & 7)))
  );
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array(deflateSync(scan))),
    chunk("IEND", new Uint8Array()),
  ];
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

/** sRGB transfer function and its inverse. */
const toLinear = (v: number) => v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
const fromLinear = (v: number) => v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055;
/** Colours outside the sRGB gamut are clipped (relative colorimetric, as lcms does for matrix profiles). */
const clip = (v: number) => Math.min(1, Math.max(0, v));
/** Display P3 → sRGB, linear, D65 (P3→XYZ then XYZ→sRGB, the standard primaries). */
const P3_TO_SRGB = [
  [1.2249401, -0.2249404, 0.0],
  [-0.0420569, 1.0420571, 0.0],
  [-0.0196376, -0.0786361, 1.0982735],
];

Deno.test("a Display-P3 input is converted to sRGB like the reference conversion (≤ 2/255)", async () => {
  const p3 = synthImage(
    4,
    2,
    (x, y) =>
      [[0.7, 0.4, 0.3], [0.2, 0.6, 0.4], [0.5, 0.5, 0.5], [0.8, 0.75, 0.2]][x].map((v) =>
        v * (1 - 0.2 * y)
      ) as [number, number, number],
  );
  const raw = Buffer.from(p3.data.map((v) => Math.round(v * 255)));
  // stored samples are P3: attach the profile without converting (keepIccProfile of a tagged file)
  const tagged = await encodeImage(
    { ...p3, data: Float32Array.from(raw, (v) => v / 255) },
    {
      format: "png",
      profile: new Uint8Array(
        (await sharp(
          await sharp(raw, { raw: { width: 4, height: 2, channels: 3 } }).withIccProfile("p3").png()
            .toBuffer(),
        ).metadata()).icc!,
      ),
    },
  );
  assert.equal((await readImageHeader(tagged)).hasProfile, true);
  const srgb = await decodeImage(tagged);
  let worst = 0;
  for (let p = 0; p < 8; p++) {
    const lin = [0, 1, 2].map((c) => toLinear(raw[3 * p + c] / 255));
    for (let c = 0; c < 3; c++) {
      const ref = fromLinear(clip(P3_TO_SRGB[c].reduce((s, m, k) => s + m * lin[k], 0)));
      worst = Math.max(worst, Math.abs(ref - srgb.data[3 * p + c]) * 255);
    }
  }
  assert.ok(worst <= 2, `largest difference from the reference: ${worst.toFixed(2)}/255`);
  // and it is a real conversion: the reds differ from the stored P3 samples
  assert.ok(Math.abs(srgb.data[0] - raw[0] / 255) > 3 / 255);

  const kept = await decodeImage(tagged, { colour: "keep" });
  assert.deepEqual(
    [...kept.data],
    [...raw].map((v) => Math.fround(v / 255)),
    "keep: samples as stored",
  );
  assert.ok(kept.icc, "keep: the profile rides on the image");
  const again = await encodeImage(kept, { format: "png" });
  const reread = await sharp(again).metadata();
  assert.deepEqual(
    new Uint8Array(reread.icc!),
    new Uint8Array(Buffer.from(kept.icc!, "base64")),
    "kept profile re-embedded",
  );
  assert.deepEqual((await decodeImage(again)).data, srgb.data, "re-read converts the same way");
});

Deno.test("a 16-bit Display-P3 TIFF is converted to sRGB (not left in P3)", async () => {
  const p3profile = new Uint8Array(
    (await sharp(Buffer.from([0, 0, 0]), { raw: { width: 1, height: 1, channels: 3 } })
      .withIccProfile("p3").png().toBuffer().then((b) => sharp(b).metadata())).icc!,
  );
  const red = synthImage(2, 1, () => [0.8, 0.3, 0.2]);
  const tagged = await encodeImage(red, { format: "tiff", bits: 16, profile: p3profile });
  const srgb = await decodeImage(tagged);
  const lin = [0.8, 0.3, 0.2].map(toLinear);
  for (let c = 0; c < 3; c++) {
    const ref = fromLinear(clip(P3_TO_SRGB[c].reduce((s, m, k) => s + m * lin[k], 0)));
    assert.ok(
      Math.abs(ref - srgb.data[c]) * 255 <= 2,
      `channel ${c}: ${srgb.data[c] * 255} vs ${ref * 255}`,
    );
  }
});

Deno.test("a CMYK JPEG is read as RGB with the right colours", async () => {
  const image = synthImage(16, 8, (x) => x < 8 ? [0.9, 0.1, 0.1] : [0.1, 0.2, 0.8]);
  const raw = Buffer.from(image.data.map((v) => Math.round(v * 255)));
  const cmyk = await sharp(raw, { raw: { width: 16, height: 8, channels: 3 } }).toColourspace(
    "cmyk",
  ).jpeg({ quality: 95 }).toBuffer();
  const header = await readImageHeader(cmyk);
  assert.equal(header.space, "cmyk");
  const back = await decodeImage(cmyk);
  assert.equal(back.data.length, 16 * 8 * 3);
  const px = (x: number) =>
    [...back.data.subarray((4 * 16 + x) * 3, (4 * 16 + x) * 3 + 3)].map((v) => Math.round(v * 255));
  const [left, right] = [px(3), px(12)];
  assert.ok(left[0] > 170 && left[2] < 90, `left should be red: ${left}`);
  assert.ok(right[2] > 120 && right[0] < 60, `right should be blue: ${right}`);
});

/** lcms2, the colour engine ImageMagick uses, through FFI; undefined where it is not installed. */
function openLcms() {
  try {
    return Deno.dlopen("liblcms2.so.2", {
      cmsOpenProfileFromMem: { parameters: ["buffer", "u32"], result: "pointer" },
      cmsCreate_sRGBProfile: { parameters: [], result: "pointer" },
      cmsCreateTransform: {
        parameters: ["pointer", "u32", "pointer", "u32", "u32", "u32"],
        result: "pointer",
      },
      cmsDoTransform: { parameters: ["pointer", "buffer", "buffer", "u32"], result: "void" },
    });
  } catch {
    return undefined;
  }
}

Deno.test("a CMYK JPEG with an embedded profile decodes as lcms converts it (relative colorimetric)", async () => {
  const lcms = openLcms();
  if (!lcms) {
    console.log("skipped: liblcms2.so.2 is not installed (apt-get install liblcms2-2)");
    return;
  }
  try {
    const photo = await Deno.readFile(join(testImagesDir(), "tubingen.jpg")).catch(() => undefined);
    // Without the photo, a gradient inside the CMYK gamut (at its edges the engines clip apart).
    const rgb = photo
      ? await sharp(photo).resize(64).toBuffer()
      : await encodePng(synthImage(64, 48, (x, y) => [0.2 + x / 105, 0.2 + y / 80, 0.45]));
    // A print shop's file: CMYK samples carrying a CMYK profile (libvips' built-in one).
    const cmyk = await sharp(rgb).pipelineColourspace("cmyk").toColourspace("cmyk")
      .withIccProfile("cmyk").jpeg({ quality: 95 }).toBuffer();
    const meta = await sharp(cmyk).metadata();
    assert.equal(meta.space, "cmyk");
    const icc = new Uint8Array(meta.icc!);
    const samples = await sharp(cmyk).pipelineColourspace("cmyk").toColourspace("cmyk").raw()
      .toBuffer({ resolveWithObject: true });
    const n = samples.info.width * samples.info.height;
    const TYPE_CMYK_8 = (6 << 16) | (4 << 3) | 1, TYPE_RGB_8 = (4 << 16) | (3 << 3) | 1;
    const RELATIVE_COLORIMETRIC = 1;
    const transform = lcms.symbols.cmsCreateTransform(
      lcms.symbols.cmsOpenProfileFromMem(icc, icc.length),
      TYPE_CMYK_8,
      lcms.symbols.cmsCreate_sRGBProfile(),
      TYPE_RGB_8,
      RELATIVE_COLORIMETRIC,
      0,
    );
    const reference = new Uint8Array(n * 3);
    lcms.symbols.cmsDoTransform(transform, new Uint8Array(samples.data), reference, n);

    const decoded = await decodeImage(cmyk);
    assert.equal(decoded.width * decoded.height, n);
    let peak = 0, squares = 0;
    decoded.data.forEach((v, i) => {
      const d = Math.abs(Math.round(v * 255) - reference[i]);
      peak = Math.max(peak, d);
      squares += d * d;
    });
    const rmse = Math.sqrt(squares / reference.length);
    assert.ok(peak <= 3 && rmse < 1, `peak ${peak}/255, RMSE ${rmse.toFixed(2)} against lcms`);
  } finally {
    lcms.close();
  }
});

Deno.test("EXIF orientation 6 is applied (upright), and the header gives the upright size", async () => {
  // Stored 16×8: left 8×8 block red, right block blue. Upright: 8×16, red on top, blue below.
  const stored = synthImage(16, 8, (x) => (x < 8 ? [1, 0, 0] : [0, 0, 1]));
  const jpeg = withExifOrientation(
    await encodeImage(stored, {
      format: "jpeg",
      quality: 95,
      chromaSubsampling: "4:4:4",
      profile: "none",
    }),
    6,
  );
  assert.deepEqual(
    [(await readImageHeader(jpeg)).width, (await readImageHeader(jpeg)).height],
    [8, 16],
  );
  const upright = await decodeImage(jpeg, { keepExif: true });
  assert.equal(upright.width, 8);
  assert.equal(upright.height, 16);
  const at = (
    x: number,
    y: number,
  ) => [...upright.data.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3)];
  for (const [x, y] of [[0, 0], [7, 7], [3, 4]]) assert.ok(at(x, y)[0] > 0.9 && at(x, y)[2] < 0.1);
  for (const [x, y] of [[0, 8], [7, 15], [4, 12]]) {
    assert.ok(at(x, y)[0] < 0.1 && at(x, y)[2] > 0.9);
  }
  // kept EXIF says "upright" so a viewer does not turn the saved file again
  const saved = await encodeImage(upright, {
    format: "jpeg",
    exif: Buffer.from(upright.exif!, "base64"),
  });
  assert.equal((await sharp(saved).metadata()).orientation, 1);
  assert.deepEqual([(await readImageHeader(saved)).width, (await readImageHeader(saved)).height], [
    8,
    16,
  ]);
});

Deno.test("an sRGB profile is embedded by default (none on request)", async () => {
  assert.equal((await readImageHeader(await encodePng(card8))).hasProfile, true);
  const bare = await encodeImage(card8, { format: "png", profile: "none" });
  assert.equal((await readImageHeader(bare)).hasProfile, false);
  assert.ok(bare.length < (await encodePng(card8)).length);
});

Deno.test("undecodable bytes throw CodecError", async () => {
  await assert.rejects(decodeImage(new TextEncoder().encode("hello")), CodecError);
  const png = await encodePng(synthImage(4, 4, () => [0, 0, 0]));
  await assert.rejects(decodeImage(png.subarray(0, 60)), CodecError);
});
