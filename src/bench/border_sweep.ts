/**
 * `deno task dev border [--content F] [--style F] [--size N] [--iterations N] [--paddings LIST]
 * [--band N] [--out DIR]`: renders one pair (default tubingen × starry_night, the conv3 layers, the current
 * defaults, onnx) once per padding of the first conv (plan/network.ts Padding) and prints a
 * markdown table of the border darkening ({@link borderContrast} of the render minus that of the
 * photo at the same size; negative = a darker frame than the photo has), the score
 * (src/neural/losses/score.ts), the loss and the time. --band sets the frame's width in pixels
 * (default 4); --out writes each render as PNG.
 */
import { join } from "node:path";
import { encodePng } from "../image/codecs.ts";
import type { RgbImage } from "../image/image.ts";
import { REC709_LUMA } from "../image/luma.ts";
import { resizeLongerSide } from "../image/resample.ts";
import { type Padding, PADDINGS } from "../neural/plan/network.ts";
import { createEngine } from "../neural/engines/providers.ts";
import { loadVggWeights } from "../neural/models/weights.ts";
import { defaultWeightsDirs } from "../pipeline/locations.ts";
import { parseScriptArgs } from "../cli/args.ts";
import { readExample, renderAndScore } from "./quality_sweep.ts";

/** Frame minus inner band, per edge and for the whole frame, in luma on the 0–255 scale. */
export interface BorderContrast {
  readonly frame: number;
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

/**
 * Mean Rec. 709 luma (0–255) of the outer `band` pixels minus that of the next `band` pixels
 * inward: for the whole frame (pixels closer than `band` to any edge against those `band`…
 * 2·`band` − 1 from the nearest edge) and per edge (its `band` rows or columns against the next
 * `band`). The image needs at least 4·`band` pixels on each side.
 */
export function borderContrast(image: RgbImage, band = 4): BorderContrast {
  const { width: w, height: h, data } = image;
  if (Math.min(w, h) < 4 * band) {
    throw new RangeError(`a ${w}×${h} image is too small for ${band}-pixel bands`);
  }
  const [kr, kg, kb] = REC709_LUMA;
  const luma = (i: number, j: number) => {
    const k = (i * w + j) * 3;
    return 255 * (kr * data[k] + kg * data[k + 1] + kb * data[k + 2]);
  };
  const sums = { outer: [0, 0], inner: [0, 0] };
  const edge = (rows: [number, number], cols: [number, number]) => {
    let s = 0;
    for (let i = rows[0]; i < rows[1]; i++) for (let j = cols[0]; j < cols[1]; j++) s += luma(i, j);
    return s / ((rows[1] - rows[0]) * (cols[1] - cols[0]));
  };
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const d = Math.min(i, j, h - 1 - i, w - 1 - j);
      const at = d < band ? sums.outer : d < 2 * band ? sums.inner : undefined;
      if (!at) continue;
      at[0] += luma(i, j);
      at[1]++;
    }
  }
  const b = band;
  return {
    frame: sums.outer[0] / sums.outer[1] - sums.inner[0] / sums.inner[1],
    top: edge([0, b], [0, w]) - edge([b, 2 * b], [0, w]),
    bottom: edge([h - b, h], [0, w]) - edge([h - 2 * b, h - b], [0, w]),
    left: edge([0, h], [0, b]) - edge([0, h], [b, 2 * b]),
    right: edge([0, h], [w - b, w]) - edge([0, h], [w - 2 * b, w - b]),
  };
}

const USAGE = "Usage: deno task dev border [--content F] [--style F] [--size N] [--iterations N] " +
  "[--paddings zero,reflect,replicate] [--band N] [--out DIR]";

async function main() {
  const { values } = parseScriptArgs("border", USAGE, Deno.args, {
    content: { type: "string", default: "tubingen.jpg" },
    style: { type: "string", default: "starry_night.jpg" },
    size: { type: "string", default: "256" },
    iterations: { type: "string", default: "200" },
    paddings: { type: "string", default: PADDINGS.join(",") },
    band: { type: "string", default: "4" },
    out: { type: "string" },
  });
  const paddings = values.paddings.split(",") as Padding[];
  const unknown = paddings.filter((p) => !(PADDINGS as readonly string[]).includes(p));
  if (unknown.length) {
    console.error(
      `error: unknown padding ${unknown.join(", ")} (${PADDINGS.join(", ")})\n${USAGE}`,
    );
    Deno.exit(2);
  }
  const engine = await createEngine("onnx");
  const weights = await loadVggWeights(defaultWeightsDirs(), "vgg19");
  const photo = resizeLongerSide(await readExample(values.content), Number(values.size));
  const style = await readExample(values.style);
  const band = Number(values.band);
  const own = borderContrast(photo, band);
  const f = (v: number) => (v >= 0 ? "+" : "") + v.toFixed(2);
  console.log(
    `photo ${values.content} at ${photo.width}×${photo.height}: frame − band ${f(own.frame)} ` +
      `(top ${f(own.top)}, bottom ${f(own.bottom)}, left ${f(own.left)}, right ${f(own.right)})`,
  );
  console.log(
    "| padding | darkening: frame | top | bottom | left | right | content | style | " +
      "loss start → end | s |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const padding of paddings) {
    const config = {
      name: padding,
      pooling: "avg" as const,
      padding,
      styleLayerWeights: [1, 1, 1],
      transfer: {},
    };
    const r = await renderAndScore(
      engine,
      weights,
      photo,
      style,
      config,
      Number(values.iterations),
    );
    const c = borderContrast(r.image, band);
    console.log(
      `| ${padding} | ${f(c.frame - own.frame)} | ${f(c.top - own.top)} | ` +
        `${f(c.bottom - own.bottom)} | ${f(c.left - own.left)} | ${f(c.right - own.right)} | ` +
        `${Math.round(r.score.content).toLocaleString("en")} | ${r.score.style.toPrecision(3)} | ` +
        `${r.initialLoss.toPrecision(4)} → ${r.finalLoss.toPrecision(4)} | ${
          r.seconds.toFixed(1)
        } |`,
    );
    for (const w of r.warnings) console.error(`  warning: ${w}`);
    if (values.out) {
      await Deno.mkdir(values.out, { recursive: true });
      await Deno.writeFile(join(values.out, `${padding}.png`), await encodePng(r.image));
    }
  }
  await engine.dispose();
}

if (import.meta.main) await main();
