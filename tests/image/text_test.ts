import assert from "node:assert/strict";
import { glyph, GLYPH_HEIGHT, GLYPH_WIDTH } from "../../src/image/glyphs.ts";
import { createImage } from "../../src/image/image.ts";
import { drawText, fitText, textWidth, wrapText } from "../../src/image/text.ts";

Deno.test("glyphs: printable ASCII cells with ink; a blank space; others draw as '?'", () => {
  const ink = (c: string) => glyph(c).reduce((a, b) => a + b, 0);
  assert.equal(ink(" "), 0);
  for (const c of "AZaz09?#") assert.ok(ink(c) > 1000, c);
  assert.deepEqual(glyph("é"), glyph("?"));
  assert.equal(glyph("A").length, GLYPH_WIDTH * GLYPH_HEIGHT);
});

Deno.test("drawText blends the colour by coverage, exactly, and clips at the edges", () => {
  const image = createImage(12, 20, 0.5);
  drawText(image, "A", 1, 2, [1, 0, 0]);
  const a = glyph("A");
  for (let y = 0; y < GLYPH_HEIGHT; y++) {
    for (let x = 0; x < GLYPH_WIDTH; x++) {
      const i = ((y + 2) * 12 + x + 1) * 3;
      const cover = a[y * GLYPH_WIDTH + x] / 255;
      assert.equal(image.data[i], Math.fround(0.5 + 0.5 * cover));
      assert.equal(image.data[i + 1], Math.fround(0.5 - 0.5 * cover));
    }
  }
  assert.equal(image.data[0], 0.5, "outside the glyph: untouched");
  drawText(image, "WW", 8, 15, [0, 0, 0]); // partly outside: no throw
});

Deno.test("fitText and wrapText keep lines within the width", () => {
  assert.equal(textWidth("abc"), 3 * GLYPH_WIDTH);
  assert.equal(fitText("tubingen", 9 * 10), "tubingen");
  assert.equal(fitText("tubingen-starry_night", 9 * 10), "tubinge...");
  assert.deepEqual(wrapText("tubingen-starry_night", 9 * 13, 2), ["tubingen-", "starry_night"]);
  assert.deepEqual(wrapText("a b c d e f g h", 9 * 5, 2), ["a b c", "d ..."]);
  for (const line of wrapText("one-two-three-four-five", 9 * 8, 2)) {
    assert.ok(textWidth(line) <= 9 * 8, line);
  }
});
