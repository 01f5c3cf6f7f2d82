/**
 * `deno task dev ema-sweep [--size 128] [--iterations 200] [--decays 0,0.9,0.99] [--paintings a,b]`:
 * renders tubingen in the style of each painting with L-BFGS and with Adam (style-transfer's
 * defaults otherwise) and each `ema` decay, scores every result with src/neural/losses/score.ts
 * and prints a markdown table — the measurement behind style-transfer's per-optimizer `ema`
 * defaults (docs/quality.md "EMA"). --sheet writes the renders as a contact sheet (a row per
 * optimizer and painting, a column per decay; .jpg → JPEG quality 88, else PNG). Engine onnx.
 */
import { resolve } from "node:path";
import { encodeImage } from "../image/codecs.ts";
import { createImage, type RgbImage } from "../image/image.ts";
import { resizeLongerSide } from "../image/resample.ts";
import { createEngine } from "../neural/engines/providers.ts";
import { loadVggWeights } from "../neural/models/weights.ts";
import { defaultWeightsDirs } from "../pipeline/locations.ts";
import { parseScriptArgs } from "../cli/args.ts";
import { paste, readExample, renderAndScore } from "./quality_sweep.ts";

const USAGE = "Usage: deno task dev ema-sweep [--size 128] [--iterations 200] " +
  "[--decays 0,0.9,0.99] [--paintings starry_night.jpg,the_scream.jpg,...] [--sheet FILE]";

const fmt = (v: number) => v >= 100 ? Math.round(v).toLocaleString("en") : v.toPrecision(4);

async function main() {
  const { values } = parseScriptArgs("ema-sweep", USAGE, Deno.args, {
    size: { type: "string", default: "128" },
    iterations: { type: "string", default: "200" },
    decays: { type: "string", default: "0,0.9,0.99" },
    paintings: {
      type: "string",
      default: "starry_night.jpg,the_scream.jpg,woman-with-hat-matisse.jpg",
    },
    optimizers: { type: "string", default: "lbfgs,adam" },
    sheet: { type: "string" },
  });
  const size = Number(values.size);
  const iterations = Number(values.iterations);
  const decays = values.decays.split(",").map(Number);
  const engine = await createEngine("onnx");
  const weights = await loadVggWeights(defaultWeightsDirs(), "vgg19");
  const content = resizeLongerSide(await readExample("tubingen.jpg"), size);
  console.log(
    `| optimizer | painting | ema | content | style | loss of the result | last iterate | s |`,
  );
  console.log(`|---|---|---|---|---|---|---|---|`);
  const rows: RgbImage[][] = [];
  for (const optimizer of values.optimizers.split(",")) {
    for (const painting of values.paintings.split(",")) {
      const style = await readExample(painting);
      rows.push([]);
      for (const ema of decays) {
        const config = {
          name: `${optimizer} ema ${ema}`,
          pooling: "avg" as const,
          styleLayerWeights: [1, 1, 1],
          transfer: { optimizer, ema },
        };
        const r = await renderAndScore(engine, weights, content, style, config, iterations);
        console.log(
          `| ${optimizer} | ${painting.replace(/\.jpg$/, "")} | ${ema} | ${
            fmt(r.score.content)
          } | ` +
            `${fmt(r.score.style)} | ${fmt(r.finalLoss)} | ${fmt(r.lastIterateLoss)} | ` +
            `${r.seconds.toFixed(1)} |`,
        );
        rows.at(-1)!.push(r.image);
      }
    }
  }
  if (values.sheet) {
    const gap = 4;
    const { width, height } = rows[0][0];
    const sheet = createImage(
      decays.length * (width + gap) - gap,
      rows.length * (height + gap) - gap,
      1,
    );
    rows.forEach((row, r) =>
      row.forEach((tile, c) => paste(sheet, tile, c * (width + gap), r * (height + gap)))
    );
    const format = /\.jpe?g$/i.test(values.sheet) ? "jpeg" : "png";
    await Deno.writeFile(resolve(values.sheet), await encodeImage(sheet, { format, quality: 88 }));
    console.log(`contact sheet (a column per ema: ${decays.join(", ")}): ${values.sheet}`);
  }
  await engine.dispose();
}

if (import.meta.main) await main();
