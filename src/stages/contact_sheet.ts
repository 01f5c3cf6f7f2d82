/**
 * `contact-sheet`: lays out several images (typically a `matrix:` batch, gathered with
 * `from: { images: "transfer[*]" }`) in a grid, each scaled to fit a square cell and captioned.
 * Captions default to the input steps' ids without their common prefix (the matrix values).
 */
import { z } from "npm:zod@4.6.7";
import { createImage, type RgbImage } from "../image/image.ts";
import { resizeLongerSide } from "../image/resample.ts";
import { drawText, TEXT_HEIGHT, textWidth, wrapText } from "../image/text.ts";
import { hexColorParam, parseHexColor } from "./hex_color.ts";
import { imageOf, type Stage, StageError } from "./stage.ts";

const params = z.object({
  columns: z.number().int().min(1).max(64).optional()
    .describe("images per row (default: the smallest square grid)"),
  cell: z.number().int().min(16).max(2048).default(256)
    .describe("longest side of each image in the sheet, in pixels"),
  gap: z.number().int().min(0).max(256).default(8).describe("space around and between cells"),
  captions: z.union([z.boolean(), z.array(z.string().max(200))]).default(true)
    .describe("true: the input steps' ids (common prefix removed); false: none; or the texts"),
  background: hexColorParam("background").default("#ffffff"),
  caption_color: hexColorParam("caption_color").default("#111111"),
}).strict();

/** Parsed parameters of `contact-sheet`. */
export type ContactSheetParams = z.infer<typeof params>;

/** Lines a caption may take (longer ones end in "..."). */
const CAPTION_LINES = 2;

/** Rows × columns of a sheet of `count` images. */
function grid(count: number, columns: number | undefined): { rows: number; columns: number } {
  const cols = Math.min(count, columns ?? Math.ceil(Math.sqrt(count)));
  return { rows: Math.ceil(count / cols), columns: cols };
}

/** The sheet's layout for `count` images: grid, caption band and size. */
function layout(count: number, p: ContactSheetParams) {
  const { rows, columns } = grid(count, p.columns);
  const captionHeight = p.captions === false
    ? 0
    : CAPTION_LINES * TEXT_HEIGHT + Math.ceil(p.gap / 2);
  const pitch = { x: p.cell + p.gap, y: p.cell + captionHeight + p.gap };
  return {
    columns,
    pitch,
    width: columns * pitch.x + p.gap,
    height: rows * pitch.y + p.gap,
  };
}

/** Step ids with their common prefix (up to a "-") removed; a single id stays whole. */
export function captionsFromIds(ids: readonly string[]): string[] {
  if (ids.length < 2) return [...ids];
  let prefix = ids[0];
  for (const id of ids) while (!id.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const cut = prefix.lastIndexOf("-") + 1;
  return ids.map((id) => id.slice(cut) || id);
}

/** The `contact-sheet` stage. */
export const contactSheetStage: Stage<ContactSheetParams> = {
  name: "contact-sheet",
  version: 1,
  description: "Lay out images (e.g. a matrix batch) in a captioned grid",
  params,
  inputs: {
    images: { kind: "image", many: true, description: "the images, in order" },
  },
  output: "image",
  run(ctx, inputs, p) {
    const list = Array.isArray(inputs.images) ? inputs.images : [inputs.images];
    const images = list.map((v, i) => imageOf(v, `images[${i}]`));
    const captions = p.captions === true
      ? captionsFromIds(ctx.inputSteps?.images ?? images.map((_, i) => String(i + 1)))
      : p.captions === false
      ? []
      : p.captions;
    if (Array.isArray(p.captions) && p.captions.length !== images.length) {
      throw new StageError(`${images.length} images but ${p.captions.length} captions`);
    }
    const { columns, pitch, width, height } = layout(images.length, p);
    const sheet = createImage(width, height);
    const background = parseHexColor(p.background);
    for (let i = 0; i < sheet.data.length; i++) sheet.data[i] = background[i % 3];
    images.forEach((image, k) => {
      const left = p.gap + (k % columns) * pitch.x;
      const top = p.gap + Math.floor(k / columns) * pitch.y;
      const fitted = resizeLongerSide(image, p.cell);
      paste(sheet, fitted, left + Math.floor((p.cell - fitted.width) / 2), top);
      const caption = captions[k];
      if (!caption) return;
      wrapText(caption, p.cell, CAPTION_LINES).forEach((line, n) => {
        const x = left + Math.floor((p.cell - textWidth(line)) / 2);
        const y = top + fitted.height + Math.floor(p.gap / 2) + n * TEXT_HEIGHT;
        drawText(sheet, line, x, y, parseHexColor(p.caption_color));
      });
    });
    return Promise.resolve({ kind: "image", image: sheet, info: { images: images.length } });
  },
};

/** Copies `image` into `sheet` at (x, y), clamping samples to [0, 1]. */
function paste(sheet: RgbImage, image: RgbImage, x: number, y: number): void {
  for (let row = 0; row < image.height; row++) {
    for (let col = 0; col < image.width; col++) {
      const to = ((y + row) * sheet.width + x + col) * 3;
      const from = (row * image.width + col) * 3;
      for (let c = 0; c < 3; c++) {
        sheet.data[to + c] = Math.min(1, Math.max(0, image.data[from + c]));
      }
    }
  }
}
