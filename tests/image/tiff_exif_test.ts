/** EXIF into TIFF (libvips writes none): the tags land in IFD0 and the Exif IFD, pixels untouched. */
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { decodeImage, encodeImage } from "../../src/image/codecs.ts";
import { addExifToTiff } from "../../src/image/tiff_exif.ts";
import { loadStage } from "../../src/stages/load.ts";
import { saveStage } from "../../src/stages/save.ts";
import { imageOf } from "../../src/stages/stage.ts";
import { makeTestContext, runStage } from "../stages/_context.ts";
import { synthImage } from "./_images.ts";

/** A TIFF's tags, read independently of the code under test: IFD0 and the Exif IFD, tag → value. */
function tiffTags(bytes: Uint8Array): Map<number, string | number[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = view.getUint16(0) === 0x4949;
  const tags = new Map<number, string | number[]>();
  const walk = (offset: number) => {
    const count = view.getUint16(offset, little);
    for (let i = 0; i < count; i++) {
      const at = offset + 2 + 12 * i;
      const [tag, type, n] = [
        view.getUint16(at, little),
        view.getUint16(at + 2, little),
        view.getUint32(at + 4, little),
      ];
      const size = ({ 2: 1, 3: 2, 4: 4, 5: 8 } as Record<number, number>)[type];
      if (!size) continue;
      const start = size * n <= 4 ? at + 8 : view.getUint32(at + 8, little);
      if (type === 2) tags.set(tag, new TextDecoder().decode(bytes.subarray(start, start + n - 1)));
      else if (type === 3) tags.set(tag, [view.getUint16(start, little)]);
      else if (type === 4) tags.set(tag, [view.getUint32(start, little)]);
      else tags.set(tag, [view.getUint32(start, little), view.getUint32(start + 4, little)]);
    }
  };
  walk(view.getUint32(4, little));
  const exif = tags.get(0x8769);
  if (Array.isArray(exif)) walk(exif[0]);
  return tags;
}

/** A big-endian EXIF block: IFD0 Artist and Orientation, an Exif IFD with ExposureTime 1/250. */
function bigEndianExif(): Uint8Array {
  const b = new Uint8Array(80);
  const v = new DataView(b.buffer);
  b.set([0x4d, 0x4d, 0, 42, 0, 0, 0, 8]);
  v.setUint16(8, 3); // IFD0 at 8: 3 entries
  const entry = (at: number, tag: number, type: number, count: number, value: number) => {
    v.setUint16(at, tag), v.setUint16(at + 2, type), v.setUint32(at + 4, count);
    if (type === 3) v.setUint16(at + 8, value);
    else v.setUint32(at + 8, value);
  };
  entry(10, 0x0112, 3, 1, 6); // Orientation (structural: never copied)
  entry(22, 0x013b, 2, 4, 0x41646100); // Artist "Ada\0", inline
  entry(34, 0x8769, 4, 1, 50); // Exif IFD at 50
  v.setUint32(46, 0);
  v.setUint16(50, 1);
  entry(52, 0x829a, 5, 1, 68); // ExposureTime at 68
  v.setUint32(64, 0);
  v.setUint32(68, 1), v.setUint32(72, 250);
  return b;
}

Deno.test("addExifToTiff: a big-endian block's tags, in the TIFF's order; libvips' entries win", async () => {
  const tiff = await encodeImage(synthImage(5, 4, (x, y) => [x / 4, y / 3, 0.5]), {
    format: "tiff",
  });
  const out = addExifToTiff(tiff, bigEndianExif());
  const tags = tiffTags(out);
  assert.equal(tags.get(0x013b), "Ada");
  assert.deepEqual(tags.get(0x829a), [1, 250]);
  assert.deepEqual(tags.get(0x0112) ?? [1], tiffTags(tiff).get(0x0112) ?? [1]);
  assert.deepEqual(tags.get(0x0100), tiffTags(tiff).get(0x0100)); // width, libvips'
  assert.deepEqual((await decodeImage(out)).data, (await decodeImage(tiff)).data);
  assert.equal(addExifToTiff(tiff, new Uint8Array([1, 2, 3])), tiff, "unreadable EXIF: unchanged");
});

Deno.test("save metadata: keep writes the source's EXIF into TIFF (Artist, Make, DateTimeOriginal)", async () => {
  const ctx = await makeTestContext();
  try {
    const jpeg = await sharp(
      await encodeImage(synthImage(16, 8, (x) => [x / 15, 0.3, 0.6]), {
        format: "png",
      }),
    ).withExif({
      IFD0: { Artist: "Ada", Make: "Canon" },
      IFD2: { DateTimeOriginal: "2026:12:01 10:00:00" },
    } as never).jpeg().toBuffer();
    await Deno.writeFile(join(ctx.dir, "photo.jpg"), jpeg);
    const photo = await runStage(loadStage, ctx, {}, { path: "photo.jpg" });
    await runStage(saveStage, ctx, { image: photo }, { path: "kept.tif", metadata: "keep" });
    await runStage(saveStage, ctx, { image: photo }, { path: "plain.tif" });
    const kept = tiffTags(await Deno.readFile(join(ctx.dir, "kept.tif")));
    assert.equal(kept.get(0x013b), "Ada");
    assert.equal(kept.get(0x010f), "Canon");
    assert.equal(kept.get(0x9003), "2026:12:01 10:00:00");
    const plain = tiffTags(await Deno.readFile(join(ctx.dir, "plain.tif")));
    assert.equal(plain.get(0x013b), undefined);
    const a = imageOf(await runStage(loadStage, ctx, {}, { path: "kept.tif" }), "a");
    const b = imageOf(await runStage(loadStage, ctx, {}, { path: "plain.tif" }), "b");
    assert.deepEqual(a.data, b.data);
  } finally {
    await ctx.dispose();
  }
});
