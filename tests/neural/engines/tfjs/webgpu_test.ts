/**
 * The webgpu engine against the cpu reference, for real: on a machine without a GPU, Debian's
 * mesa-vulkan-drivers give Deno's navigator.gpu a software (llvmpipe) adapter. Skipped only when
 * there is no adapter at all. Slow (shader compilation), so one small evaluation.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { tfjsCpuProvider } from "../../../../src/neural/engines/tfjs/cpu.ts";
import { tfjsWebgpuProvider } from "../../../../src/neural/engines/tfjs/webgpu.ts";
import { perturbed, relDiff, seededImage, smallWeights, specFromImages } from "../_fixtures.ts";

const hasAdapter = await tfjsWebgpuProvider.available();

Deno.test({
  name: "webgpu: same loss as cpu to 1e-4 relative, gradient close, no tensor leak",
  ignore: !hasAdapter,
  sanitizeResources: false, // the GPU device stays open for the process
  async fn() {
    const [cpu, gpu] = [await tfjsCpuProvider.create(), await tfjsWebgpuProvider.create()];
    assert.match(gpu.describe(), /webgpu backend \(.+\)/);
    const H = 12, W = 10;
    const content = seededImage(61, H, W);
    const spec = await specFromImages(
      cpu,
      smallWeights,
      "max",
      H,
      W,
      content,
      seededImage(62, H, W),
    );
    const x = perturbed(content, 63, 30);
    const results = [];
    for (const engine of [cpu, gpu]) {
      const objective = await engine.objective(spec);
      const xv = engine.vec.fromArray(x);
      const counts: number[] = [];
      let last;
      for (let k = 0; k < 2; k++) {
        last = await objective.evaluate(xv);
        const g = await engine.vec.toArray(last.grad);
        engine.vec.dispose(last.grad);
        counts.push(tf.memory().numTensors);
        last = { ...last, grad: g };
      }
      assert.equal(counts[0], counts[1]);
      objective.dispose();
      engine.vec.dispose(xv);
      results.push(last!);
    }
    const [a, b] = results;
    assert.ok(relDiff(a.loss, b.loss) < 1e-4, `cpu ${a.loss} webgpu ${b.loss}`);
    let err = 0, scale = 0;
    a.grad.forEach((v, i) => {
      err = Math.max(err, Math.abs(v - b.grad[i]));
      scale = Math.max(scale, Math.abs(v));
    });
    assert.ok(err / scale < 1e-3, `gradient error ${err / scale}`);
  },
});
