/**
 * `deno task score OUTPUT --content C --style S [--size N] [--engine E]`: the content and style
 * distances of any image under the fixed definition of src/neural/losses/score.ts, so settings can
 * be compared by numbers (lower is closer). Image names resolve like recipe inputs.
 */
import { join } from "node:path";
import { decodeImage } from "../image/codecs.ts";
import type { RgbImage } from "../image/image.ts";
import { resizeLongerSide } from "../image/resample.ts";
import { createEngine } from "../neural/engines/providers.ts";
import { SCORE_CONTENT_LAYER, SCORE_STYLE_LAYERS, scoreImage } from "../neural/losses/score.ts";
import { loadVggWeights } from "../neural/models/weights.ts";
import { defaultImageDirs, defaultWeightsDirs } from "../pipeline/locations.ts";
import { pathExists } from "../util/path_exists.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError, UsageError } from "./errors.ts";

const HELP = `Usage: deno task score OUTPUT --content C --style S [--size N] [--engine E] [--json]

Content distance: mean squared ${SCORE_CONTENT_LAYER} difference between OUTPUT and C.
Style distance:   Σ over ${SCORE_STYLE_LAYERS.join(", ")} of the mean squared difference of the
                  Gram matrices FᵀF/(H·W·C) of OUTPUT and S (S resized to OUTPUT's longer side).
VGG19 with average pooling; --size N resizes OUTPUT to longer side N first (default: as it is).
Images are looked up as given, then in $STYLEPIPE_IMAGES and pipelines/images. Engine default onnx.`;

/** Runs the `score` command; returns the exit code. */
export async function scoreCommand(args: string[]): Promise<number> {
  let json = false;
  let debug = false;
  try {
    const { values, positionals } = parseCommandArgs("score", args, {
      content: { type: "string" },
      style: { type: "string" },
      size: { type: "string" },
      engine: { type: "string" },
    });
    json = !!values.json;
    debug = !!values.debug;
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    if (positionals.length !== 1 || !values.content || !values.style) {
      throw new UsageError("score: expected OUTPUT, --content and --style (see --help)");
    }
    const size = values.size === undefined ? undefined : Number(values.size);
    if (size !== undefined && !(Number.isInteger(size) && size >= 8)) {
      throw new UsageError(`score: --size must be an integer ≥ 8, got "${values.size}"`);
    }
    let output = await readImage(positionals[0]);
    if (size !== undefined) output = resizeLongerSide(output, size);
    const content = await readImage(values.content);
    const style = await readImage(values.style);
    const engine = await createEngine(values.engine ?? "onnx");
    try {
      const weights = await loadVggWeights(defaultWeightsDirs(), "vgg19");
      const score = await scoreImage(engine, weights, output, content, style);
      if (json) console.log(JSON.stringify({ type: "score", output: positionals[0], ...score }));
      else {
        console.log(`content distance ${score.content.toPrecision(5)}`);
        console.log(`style distance   ${score.style.toPrecision(5)}`);
      }
    } finally {
      await engine.dispose();
    }
    return EXIT.ok;
  } catch (e) {
    return reportError(e, { debug, json });
  }
}

/** Decodes an image found as given or in the image folders. */
async function readImage(path: string): Promise<RgbImage> {
  for (const candidate of [path, ...defaultImageDirs().map((d) => join(d, path))]) {
    if (await pathExists(candidate)) return await decodeImage(await Deno.readFile(candidate));
  }
  throw new UsageError(
    `score: image "${path}" not found (also looked in ${defaultImageDirs().join(", ")})`,
  );
}
