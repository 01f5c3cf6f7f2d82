/**
 * The cuda engine's own logic on an emulated device (_emulated_api.ts): the same loss terms,
 * gradient and activations as the onnx engine, the vector ops equal to the host's, every
 * allocation returned. This checks the engine's orchestration, not the GPU or its libraries.
 */
import assert from "node:assert/strict";
import { CudaDevice } from "../../../../src/neural/engines/cuda/device.ts";
import { CudaEngine } from "../../../../src/neural/engines/cuda/engine.ts";
import type { Engine } from "../../../../src/neural/engines/engine.ts";
import type { ObjectiveSpec } from "../../../../src/neural/objective/spec.ts";
import { hostVectorOps } from "../../../../src/neural/engines/host_vector_ops.ts";
import { onnxProvider } from "../../../../src/neural/engines/onnx/engine.ts";
import { lbfgs } from "../../../../src/neural/optim/lbfgs.ts";
import {
  evaluateOnHost,
  meanCovarianceSpec,
  perturbed,
  relDiff,
  seededImage,
  smallWeights,
  specFromImages,
} from "../_fixtures.ts";
import { emulatedCuda } from "../../../../src/neural/engines/cuda/emulated.ts";

function emulatedEngine() {
  const emulated = emulatedCuda();
  return { engine: new CudaEngine(new CudaDevice(emulated.api), "fp32"), ...emulated };
}

const CASES = [
  ["max", "zero"],
  ["avg", "zero"],
  ["avg", "reflect"],
  ["max", "replicate"],
] as const;

for (const [pooling, padding] of CASES) {
  Deno.test(`emulated cuda ${pooling}, ${padding} padding: loss terms, gradient and activations equal onnx's (odd size)`, async () => {
    const onnx = await onnxProvider.create();
    const { engine, liveAllocations } = emulatedEngine();
    try {
      const H = 13, W = 10;
      const content = seededImage(71, H, W);
      const spec = await specFromImages(
        onnx,
        smallWeights,
        pooling,
        H,
        W,
        content,
        seededImage(72, H, W),
      );
      // A pre-ReLU content layer too: conv1_2 keeps its own buffer apart from relu1_2.
      const c12 = await onnx.extract(
        smallWeights,
        pooling,
        { height: H, width: W, data: content },
        [
          "conv1_2",
        ],
      );
      const full: ObjectiveSpec = {
        ...spec,
        padding,
        content: [...spec.content, {
          layer: "conv1_2",
          weight: 0.3,
          activations: c12.get("conv1_2")!.data,
        }],
      };
      const x = perturbed(content, 73, 40);
      const a = await evaluateOnHost(onnx, full, x);
      const b = await evaluateOnHost(engine as Engine, full, x);
      for (const term of ["content", "style", "tv"]) {
        assert.ok(
          relDiff(a.terms[term], b.terms[term]) < 1e-5,
          `${term}: ${a.terms[term]} vs ${b.terms[term]}`,
        );
      }
      assert.ok(relDiff(a.loss, b.loss) < 1e-5);
      let err = 0, scale = 0;
      a.grad.forEach((v, i) => {
        err = Math.max(err, Math.abs(v - b.grad[i]));
        scale = Math.max(scale, Math.abs(v));
      });
      assert.ok(err / scale < 1e-4, `gradient error ${err / scale}`);

      const img = { height: H, width: W, data: x };
      const layers = ["conv1_1", "relu1_2", "pool1", "relu2_1"];
      const ea = await onnx.extract(smallWeights, pooling, img, layers, padding);
      const eb = await engine.extract(smallWeights, pooling, img, layers, padding);
      for (const layer of layers) {
        const u = ea.get(layer)!, v = eb.get(layer)!;
        assert.deepEqual([v.height, v.width, v.channels], [u.height, u.width, u.channels]);
        const e = Math.max(...u.data.map((q, i) => Math.abs(q - v.data[i])));
        assert.ok(e / Math.max(...u.data.map(Math.abs)) < 1e-5, `${layer}: ${e}`);
      }
    } finally {
      await engine.dispose();
      await onnx.dispose();
    }
    assert.equal(liveAllocations(), 0);
  });
}

Deno.test("emulated cuda vector ops: element-wise bit-equal to the host's; L-BFGS converges on them", async () => {
  const { engine, liveAllocations } = emulatedEngine();
  const vec = engine.vec;
  const a = seededImage(1, 7, 5), b = seededImage(2, 7, 5).map((v) => v - 100);
  const [da, db] = [vec.fromArray(a), vec.fromArray(b)];
  const H = hostVectorOps;
  const pairs: [string, unknown, Float32Array][] = [
    ["axpy", vec.axpy(0.37, da, db), H.axpy(0.37, a, b)],
    ["scale", vec.scale(-2.5, da), H.scale(-2.5, a)],
    ["sub", vec.sub(da, db), H.sub(a, b)],
    ["mul", vec.mul(da, db), H.mul(a, b)],
    ["sqrt", vec.sqrt(da), H.sqrt(a)],
    ["div", vec.div(da, db, 1e-3), H.div(a, b, 1e-3)],
    ["clamp", vec.clamp(db, -20, 30), H.clamp(b, -20, 30)],
    ["clone", vec.clone(da), a],
  ];
  for (const [name, d, h] of pairs) {
    assert.deepEqual(await vec.toArray(d as never), h, name);
    vec.dispose(d as never);
  }
  assert.deepEqual(await vec.dots!([[da, db], [da, da]]), [await H.dot(a, b), await H.dot(a, a)]);
  vec.dispose(da);
  vec.dispose(db);

  // The fused two-loop recursion against the host's (3 pairs with positive curvature).
  const g = seededImage(4, 7, 5);
  const sv = [5, 6, 7].map((seed) => seededImage(seed, 7, 5).map((v) => v / 255 - 0.5));
  const yv = sv.map((v, i) => v.map((e, j) => 2 * e + 0.1 * sv[(i + 1) % 3][j]));
  const rho = await Promise.all(sv.map(async (v, i) => 1 / (await H.dot(v, yv[i]))));
  let q = H.scale(-1, g);
  const alpha: number[] = [];
  for (let i = 2; i >= 0; i--) {
    alpha[i] = (await H.dot(sv[i], q)) * rho[i];
    q = H.axpy(-alpha[i], yv[i], q);
  }
  let r = H.scale(0.4, q);
  for (let i = 0; i < 3; i++) r = H.axpy(alpha[i] - (await H.dot(yv[i], r)) * rho[i], sv[i], r);
  const dg = vec.fromArray(g),
    ds = sv.map((v) => vec.fromArray(v)),
    dy = yv.map((v) => vec.fromArray(v));
  const dd = vec.lbfgsDirection!(dg, ds, dy, rho, 0.4);
  assert.deepEqual(await vec.toArray(dd), r);
  for (const v of [dg, dd, ...ds, ...dy]) vec.dispose(v);

  // A quadratic with its gradient computed by the vector ops themselves.
  const target = seededImage(3, 4, 4);
  const objective = {
    async evaluate(x: never) {
      const t = vec.fromArray(target);
      const diff = vec.sub(x, t);
      const loss = 0.5 * (await vec.dot(diff, diff));
      vec.dispose(t);
      return { loss, grad: diff, terms: {} };
    },
  };
  const x0 = vec.fromArray(new Float32Array(target.length));
  const { state } = await lbfgs(objective, vec, x0, { maxIterations: 5, historySize: 3 });
  const xs = await vec.toArray(state.x);
  assert.ok(
    Math.max(...xs.map((v, i) => Math.abs(v - target[i]))) < 1e-3,
    "converges to the target",
  );
  for (const v of [x0, state.x, state.g, ...state.s, ...state.y]) vec.dispose(v);
  await engine.dispose();
  assert.equal(liveAllocations(), 0);
});

Deno.test("emulated cuda: mean-covariance terms and their gradient equal onnx's (odd size)", async () => {
  const onnx = await onnxProvider.create();
  const { engine, liveAllocations } = emulatedEngine();
  try {
    const H = 13, W = 10;
    const layers = ["conv1_1", "relu1_1", "pool1", "relu2_1"];
    const spec = await meanCovarianceSpec(onnx, "avg", H, W, seededImage(81, H, W), layers);
    const x = perturbed(seededImage(82, H, W), 83, 40);
    const a = await evaluateOnHost(onnx, spec, x);
    const b = await evaluateOnHost(engine as Engine, spec, x);
    assert.ok(a.terms.style > 0);
    assert.ok(relDiff(a.terms.style, b.terms.style) < 1e-5, `${a.terms.style} vs ${b.terms.style}`);
    let err = 0, scale = 0;
    a.grad.forEach((v, i) => {
      err = Math.max(err, Math.abs(v - b.grad[i]));
      scale = Math.max(scale, Math.abs(v));
    });
    assert.ok(err / scale < 1e-4, `gradient error ${err / scale}`);
  } finally {
    await engine.dispose();
    await onnx.dispose();
  }
  assert.equal(liveAllocations(), 0);
});
