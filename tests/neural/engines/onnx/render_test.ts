/** A short L-BFGS render from the same seed on onnx and on tfjs wasm ends at the same loss (1%). */
import assert from "node:assert/strict";
import type { Engine } from "../../../../src/neural/engines/engine.ts";
import type { ObjectiveSpec } from "../../../../src/neural/objective/spec.ts";
import { onnxProvider } from "../../../../src/neural/engines/onnx/engine.ts";
import { tfjsWasmProvider } from "../../../../src/neural/engines/tfjs/wasm.ts";
import { lbfgs } from "../../../../src/neural/optim/lbfgs.ts";
import { relDiff, seededImage, smallWeights, specFromImages } from "../_fixtures.ts";

async function render(engine: Engine, spec: ObjectiveSpec, x0: Float32Array): Promise<number> {
  const objective = await engine.objective(spec);
  try {
    const { state } = await lbfgs(objective, engine.vec, engine.vec.fromArray(x0), {
      maxIterations: 50,
      tolerance: 0,
    });
    return state.loss;
  } finally {
    objective.dispose();
  }
}

Deno.test("onnx and wasm renders (50 L-BFGS iterations, same seed) end within 1%", async () => {
  const [height, width] = [20, 18];
  const wasm = await tfjsWasmProvider.create();
  const onnx = await onnxProvider.create();
  try {
    const spec = await specFromImages(
      wasm,
      smallWeights,
      "avg",
      height,
      width,
      seededImage(21, height, width),
      seededImage(22, height, width),
    );
    const x0 = seededImage(23, height, width);
    const [a, b] = [await render(onnx, spec, x0), await render(wasm, spec, x0)];
    const first = await onnx.objective(spec);
    const start = (await first.evaluate(x0)).loss;
    first.dispose();
    assert.ok(a < 0.5 * start, `onnx render did not reduce the loss: ${start} → ${a}`);
    assert.ok(relDiff(a, b) < 0.01, `final losses onnx ${a} vs wasm ${b}`);
  } finally {
    await onnx.dispose();
    await wasm.dispose();
  }
});
