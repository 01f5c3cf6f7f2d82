/** Captions on images: text drawn with the fixed bitmap font of `glyphs.ts`. */
import { glyph, GLYPH_HEIGHT, GLYPH_WIDTH } from "./glyphs.ts";
import type { RgbImage } from "./image.ts";

/** Width in pixels of `text` (one cell per character). */
export function textWidth(text: string): number {
  return text.length * GLYPH_WIDTH;
}

/** Height in pixels of one line of text. */
export const TEXT_HEIGHT = GLYPH_HEIGHT;

/** `text` cut to at most `width` pixels, ending in "..." when cut. */
export function fitText(text: string, width: number): string {
  const max = Math.floor(width / GLYPH_WIDTH);
  if (text.length <= max) return text;
  return max <= 3 ? text.slice(0, Math.max(0, max)) : text.slice(0, max - 3) + "...";
}

/**
 * `text` broken into at most `maxLines` lines of at most `width` pixels, between words (after a
 * space or "-"); the last line ends in "..." when text is left over.
 */
export function wrapText(text: string, width: number, maxLines: number): string[] {
  const words = text.match(/[^ -]+[ -]*|[ -]+/g) ?? [];
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line && textWidth((line + word).trimEnd()) > width) {
      lines.push(line.trimEnd());
      line = "";
    }
    line += word;
  }
  if (line) lines.push(line.trimEnd());
  if (lines.length <= maxLines) return lines.map((l) => fitText(l, width));
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = fitText(`${lines[maxLines - 1]}...`, width);
  return kept;
}

/**
 * Draws `text` with its top-left corner at (x, y), blending `color` (RGB 0–1) over the image by
 * each glyph pixel's coverage; pixels outside the image are skipped.
 */
export function drawText(
  image: RgbImage,
  text: string,
  x: number,
  y: number,
  color: readonly [number, number, number],
): void {
  const { width, height, data } = image;
  [...text].forEach((char, k) => {
    const cell = glyph(char);
    const left = x + k * GLYPH_WIDTH;
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      const py = y + gy;
      if (py < 0 || py >= height) continue;
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        const px = left + gx;
        const a = cell[gy * GLYPH_WIDTH + gx] / 255;
        if (a === 0 || px < 0 || px >= width) continue;
        const i = (py * width + px) * 3;
        for (let c = 0; c < 3; c++) data[i + c] += (color[c] - data[i + c]) * a;
      }
    }
  });
}
