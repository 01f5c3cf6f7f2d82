/** The wasm engine against the cpu reference, its flipped-kernel conv gradient, backend switching. */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { tfjsCpuProvider } from "../../../../src/neural/engines/tfjs/cpu.ts";
import { tfjsWasmProvider } from "../../../../src/neural/engines/tfjs/wasm.ts";
import { conv3x3, prepareKernel } from "../../../../src/neural/engines/tfjs/conv.ts";
import type { ObjectiveSpec } from "../../../../src/neural/objective/spec.ts";
import type { Pooling } from "../../../../src/neural/plan/network.ts";
import { Prng } from "../../../../src/util/prng.ts";
import {
  evaluateOnHost,
  hostGram,
  perturbed,
  realWeights,
  relDiff,
  seededImage,
  smallWeights,
  specFromImages,
} from "../_fixtures.ts";

/** max |a − b| / max |b|. */
function maxRelError(a: Float32Array, b: Float32Array): number {
  let err = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}

for (const padding of ["zero", "reflect", "replicate"] as const) {
  Deno.test(`wasm: the flipped-kernel conv input gradient equals the built-in one (${padding} padding)`, async () => {
    const wasm = await tfjsWasmProvider.create();
    wasm.activate();
    const prng = new Prng(21);
    const x = tf.tensor4d(prng.fillNormal(new Float32Array(9 * 7 * 16)), [1, 9, 7, 16]);
    const kernel = tf.tensor4d(
      prng.fillNormal(new Float32Array(9 * 16 * 8), 0, 0.1),
      [3, 3, 16, 8],
    );
    const weights = tf.tensor4d(prng.fillNormal(new Float32Array(9 * 7 * 8)), [1, 9, 7, 8]);
    const gradients = [];
    for (const mode of ["builtin", "flipped"] as const) {
      const k = prepareKernel(kernel, mode);
      const g = tf.grad((input: tf.Tensor) =>
        tf.sum(tf.mul(conv3x3(input as tf.Tensor4D, k, padding), weights))
      );
      const dx = g(x);
      gradients.push(await dx.data() as Float32Array);
      dx.dispose();
      k.gradKernel?.dispose();
    }
    const [builtin, flipped] = gradients;
    assert.ok(builtin.some((v) => v !== 0));
    assert.deepEqual(flipped, builtin);
    tf.dispose([x, kernel, weights]);
  });
}

for (const pooling of ["avg", "max"] as Pooling[]) {
  Deno.test(`wasm ${pooling}: same loss as cpu to 1e-4 relative, gradient close`, async () => {
    const [cpu, wasm] = [await tfjsCpuProvider.create(), await tfjsWasmProvider.create()];
    const H = 14, W = 12;
    const content = seededImage(31, H, W);
    const spec = await specFromImages(
      cpu,
      smallWeights,
      pooling,
      H,
      W,
      content,
      seededImage(32, H, W),
    );
    const x = perturbed(content, 33, 30);
    const a = await evaluateOnHost(cpu, spec, x);
    const b = await evaluateOnHost(wasm, spec, x);
    assert.ok(relDiff(a.loss, b.loss) < 1e-4, `cpu ${a.loss} wasm ${b.loss}`);
    for (const term of ["content", "style", "tv"]) {
      assert.ok(relDiff(a.terms[term], b.terms[term]) < 1e-4, term);
    }
    assert.ok(maxRelError(b.grad, a.grad) < 1e-4, `gradient error ${maxRelError(b.grad, a.grad)}`);
  });
}

Deno.test("wasm and cpu engines alternate in one process without mixing up tensors", async () => {
  const [cpu, wasm] = [await tfjsCpuProvider.create(), await tfjsWasmProvider.create()];
  const H = 10, W = 8;
  const content = seededImage(41, H, W);
  const spec = await specFromImages(
    wasm,
    smallWeights,
    "avg",
    H,
    W,
    content,
    seededImage(42, H, W),
  );
  const [oc, ow] = [await cpu.objective(spec), await wasm.objective(spec)];
  const [xc, xw] = [cpu.vec.fromArray(content), wasm.vec.fromArray(content)];
  const losses: number[] = [];
  const tensors: number[] = [];
  for (let k = 0; k < 3; k++) {
    for (const [engine, objective, x] of [[cpu, oc, xc], [wasm, ow, xw]] as const) {
      const { loss, grad } = await objective.evaluate(x);
      assert.ok(await engine.vec.dot(grad, grad) > 0);
      engine.vec.dispose(grad);
      losses.push(loss);
    }
    tensors.push(tf.memory().numTensors);
  }
  assert.equal(tf.getBackend(), "wasm");
  assert.deepEqual(tensors, [tensors[0], tensors[0], tensors[0]]);
  assert.deepEqual(losses.filter((_, i) => i % 2 === 0), Array(3).fill(losses[0]));
  assert.deepEqual(losses.filter((_, i) => i % 2 === 1), Array(3).fill(losses[1]));
  assert.ok(relDiff(losses[0], losses[1]) < 1e-4);
  oc.dispose();
  ow.dispose();
  cpu.vec.dispose(xc);
  wasm.vec.dispose(xw);
});

Deno.test("real VGG19 weights at 32 px: wasm matches cpu", async () => {
  const weights = await realWeights();
  const [cpu, wasm] = [await tfjsCpuProvider.create(), await tfjsWasmProvider.create()];
  const H = 32, W = 32;
  const content = seededImage(51, H, W);
  const style = seededImage(52, H, W);
  const image = (data: Float32Array) => ({ height: H, width: W, data });
  const styleLayers = ["relu1_1", "relu2_1", "relu3_1"];
  const c = await wasm.extract(weights, "avg", image(content), ["relu3_2"]);
  const s = await wasm.extract(weights, "avg", image(style), styleLayers);
  const spec: ObjectiveSpec = {
    weights,
    pooling: "avg",
    height: H,
    width: W,
    content: [{ layer: "relu3_2", weight: 1, activations: c.get("relu3_2")!.data }],
    style: styleLayers.map((layer) => ({
      layer,
      weight: 1 / 3,
      gram: Float32Array.from(hostGram(s.get(layer)!)),
    })),
    contentWeight: 5,
    styleWeight: 100,
    tvWeight: 1e-3,
  };
  const x = perturbed(content, 53, 40);
  const a = await evaluateOnHost(cpu, spec, x);
  const b = await evaluateOnHost(wasm, spec, x);
  assert.ok(a.terms.content > 0 && a.terms.style > 0);
  assert.ok(relDiff(a.loss, b.loss) < 1e-4, `cpu ${a.loss} wasm ${b.loss}`);
  assert.ok(maxRelError(b.grad, a.grad) < 1e-3, `gradient error ${maxRelError(b.grad, a.grad)}`);
});
