/**
 * The cuda engine on a real GPU against the onnx engine (fp32, 1e-4), and its device memory
 * returned after use. Ignored with a message where the engine cannot start (no GPU or libraries):
 * then it is not a pass. The full check is `deno task dev gpu-check`.
 */
import assert from "node:assert/strict";
import { createCudaEngine, cudaProvider } from "../../../../src/neural/engines/cuda/engine.ts";
import type { Engine } from "../../../../src/neural/engines/engine.ts";
import { onnxProvider } from "../../../../src/neural/engines/onnx/engine.ts";
import { perturbed, relDiff, seededImage, smallWeights, specFromImages } from "../_fixtures.ts";

const hasGpu = await cudaProvider.available();
if (!hasGpu) console.log("cuda engine tests ignored: no GPU with the CUDA libraries here");

for (const pooling of ["max", "avg"] as const) {
  Deno.test({
    name:
      `cuda fp32 ${pooling}: loss terms and gradient equal onnx's to 1e-4; repeatable bit for bit`,
    ignore: !hasGpu,
    async fn() {
      const onnx = await onnxProvider.create();
      const cuda = createCudaEngine({ precision: "fp32" });
      try {
        const H = 21, W = 18;
        const content = seededImage(61, H, W);
        const spec = await specFromImages(
          onnx,
          smallWeights,
          pooling,
          H,
          W,
          content,
          seededImage(62, H, W),
        );
        const x = perturbed(content, 63, 30);
        const results = [];
        for (const engine of [onnx, cuda as Engine, cuda as Engine]) {
          const objective = await engine.objective(spec);
          const xv = engine.vec.fromArray(x);
          const e = await objective.evaluate(xv);
          results.push({ ...e, grad: await engine.vec.toArray(e.grad) });
          engine.vec.dispose(e.grad);
          engine.vec.dispose(xv);
          objective.dispose();
        }
        const [a, b, again] = results;
        assert.deepEqual(again.grad, b.grad);
        assert.equal(again.loss, b.loss);
        for (const term of ["content", "style", "tv"]) {
          assert.ok(
            relDiff(a.terms[term], b.terms[term]) < 1e-4,
            `${term}: ${a.terms[term]} vs ${b.terms[term]}`,
          );
        }
        let err = 0, scale = 0;
        a.grad.forEach((v, i) => {
          err = Math.max(err, Math.abs(v - b.grad[i]));
          scale = Math.max(scale, Math.abs(v));
        });
        assert.ok(err / scale < 1e-4, `gradient error ${err / scale}`);
      } finally {
        await cuda.dispose();
        await onnx.dispose();
      }
    },
  });
}
