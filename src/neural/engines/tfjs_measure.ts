/**
 * Measures milliseconds per objective evaluation (loss + gradient) of the tfjs engines with the real
 * partial VGG19 (style relu1_1, relu2_1, relu3_1; content relu3_2):
 *   deno run -A src/neural/engines/tfjs_measure.ts [engines=cpu,wasm,webgpu] [sizes=64,128] [runs=3]
 * Weights come from $STYLEPIPE_WEIGHTS or ./weights. One warm-up evaluation precedes the timed ones.
 */
import { loadVggWeights, weightsSearchDirs } from "../models/weights.ts";
import { Prng } from "../../util/prng.ts";
import type { ObjectiveSpec } from "./engine.ts";
import { createEngine } from "./providers.ts";

/** Median ms per evaluation of `engineName` at size × size. */
export async function measureEvaluation(engineName: string, size: number, runs: number) {
  const weights = await loadVggWeights(weightsSearchDirs(), "vgg19");
  const engine = await createEngine(engineName);
  const image = new Prng(size).fillUniform(new Float32Array(size * size * 3), 0, 255);
  const styleLayers = ["relu1_1", "relu2_1", "relu3_1"];
  const input = { height: size, width: size, data: image };
  const f = await engine.extract(weights, "avg", input, ["relu3_2", ...styleLayers]);
  const spec: ObjectiveSpec = {
    weights,
    pooling: "avg",
    height: size,
    width: size,
    content: [{ layer: "relu3_2", weight: 1, activations: f.get("relu3_2")!.data }],
    style: styleLayers.map((layer) => {
      const c = f.get(layer)!.channels;
      return { layer, weight: 1, gram: new Float32Array(c * c) };
    }),
    contentWeight: 5,
    styleWeight: 100,
    tvWeight: 1e-3,
  };
  const objective = await engine.objective(spec);
  const x = engine.vec.fromArray(image.map((v) => 255 - v));
  const times: number[] = [];
  for (let k = 0; k <= runs; k++) {
    const t0 = performance.now();
    const { grad } = await objective.evaluate(x);
    await engine.vec.dot(grad, grad); // the gradient is complete on the device
    if (k > 0) times.push(performance.now() - t0);
    engine.vec.dispose(grad);
  }
  objective.dispose();
  engine.vec.dispose(x);
  await engine.dispose();
  times.sort((a, b) => a - b);
  return { engine: engine.describe(), size, ms: times[Math.floor(times.length / 2)] };
}

if (import.meta.main) {
  const [engines = "cpu,wasm,webgpu", sizes = "64,128", runs = "3"] = Deno.args;
  for (const name of engines.split(",")) {
    for (const size of sizes.split(",").map(Number)) {
      const r = await measureEvaluation(name, size, Number(runs));
      console.log(`${name}\t${size} px\t${r.ms.toFixed(0)} ms/evaluation\t${r.engine}`);
    }
  }
}
