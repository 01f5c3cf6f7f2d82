/** The generic tfjs engine on the cpu backend: loss terms, gradient, leaks, vector ops, errors. */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { tfjsCpuProvider } from "../../../../src/neural/engines/tfjs/cpu.ts";
import { LayerUnavailableError, type Pooling } from "../../../../src/neural/plan/network.ts";
import { Prng } from "../../../../src/util/prng.ts";
import {
  evaluateAt,
  halfMask,
  hostGram,
  hostMeanSquaredDiff,
  perturbed,
  relDiff,
  seededImage,
  smallWeights,
  specFromImages,
} from "../_fixtures.ts";
import { totalVariation } from "../../../../src/neural/objective/tv.ts";

const H = 12, W = 10;
const content = seededImage(1, H, W);
const style = seededImage(2, H, W);

for (const pooling of ["avg", "max"] as Pooling[]) {
  Deno.test(`cpu ${pooling}: each loss term equals a direct host computation`, async () => {
    const engine = await tfjsCpuProvider.create();
    const spec = await specFromImages(engine, smallWeights, pooling, H, W, content, style);
    const x = perturbed(content, 3, 40);
    const objective = await engine.objective(spec);
    const xv = engine.vec.fromArray(x);
    const { loss, grad, terms } = await objective.evaluate(xv);
    engine.vec.dispose(grad);
    engine.vec.dispose(xv);
    objective.dispose();

    const f = await engine.extract(smallWeights, pooling, { height: H, width: W, data: x }, [
      "relu1_1",
      "pool1",
      "relu2_1",
    ]);
    const contentTerm = 5 *
      hostMeanSquaredDiff(f.get("relu2_1")!.data, spec.content[0].activations);
    const mask = halfMask(H, W);
    const styleTerm = 100 * (
      0.5 * hostMeanSquaredDiff(hostGram(f.get("relu1_1")!, mask), spec.style[0].gram) +
      1 * hostMeanSquaredDiff(hostGram(f.get("pool1")!), spec.style[1].gram) +
      2 * hostMeanSquaredDiff(hostGram(f.get("relu2_1")!), spec.style[2].gram)
    );
    const tvTerm = 1e-3 * totalVariation({ height: H, width: W, data: x });
    assert.ok(contentTerm > 0 && styleTerm > 0 && tvTerm > 0);
    assert.ok(relDiff(terms.content, contentTerm) < 1e-4, `${terms.content} vs ${contentTerm}`);
    assert.ok(relDiff(terms.style, styleTerm) < 1e-4, `${terms.style} vs ${styleTerm}`);
    assert.ok(relDiff(terms.tv, tvTerm) < 1e-5, `${terms.tv} vs ${tvTerm}`);
    assert.ok(relDiff(loss, contentTerm + styleTerm + tvTerm) < 1e-4);
  });

  Deno.test(`cpu ${pooling}: gradient matches central finite differences`, async () => {
    const engine = await tfjsCpuProvider.create();
    // Targets near x keep the float32 loss small (~2e4), so its rounding noise stays far below eps·|∇f|.
    const near = perturbed(content, 5, 30);
    const spec = await specFromImages(engine, smallWeights, pooling, H, W, content, near);
    const objective = await engine.objective(spec);
    const x = perturbed(content, 4, 20);
    const at = (v: Float32Array) => evaluateAt(engine, objective, v);
    const { grad } = await at(x);
    const eps = 1e-2; // on the 0–255 pixel scale
    const central = async (d: Float32Array) => {
      const plus = x.map((v, i) => v + eps * d[i]), minus = x.map((v, i) => v - eps * d[i]);
      return ((await at(plus)).loss - (await at(minus)).loss) / (2 * eps);
    };
    const prng = new Prng(99);
    const report: string[] = [];
    for (let k = 0; k < 5; k++) {
      const i = prng.nextUint32() % x.length;
      const d = new Float32Array(x.length);
      d[i] = 1;
      const fd = await central(d);
      report.push(`x[${i}]: finite difference ${fd}, gradient ${grad[i]}`);
      // Tolerance: 2% of the component plus 0.25 absolute — the float32 loss (~2e4) has rounding
      // noise of ~1e-3, i.e. ~0.1 after dividing by 2·eps.
      assert.ok(Math.abs(fd - grad[i]) <= 0.02 * Math.abs(grad[i]) + 0.25, report.join("\n"));
    }
    if (pooling === "avg") {
      // Along a random ±1 direction the derivative is large (~1e2–1e3), so the same noise allows
      // 0.5%. (Not for max pooling: moving every pixel at once flips the argmax of near-tied pool
      // windows, a kink the finite difference straddles.)
      const d = Float32Array.from({ length: x.length }, () => prng.float() < 0.5 ? -1 : 1);
      const fd = await central(d);
      const exact = grad.reduce((s, g, i) => s + g * d[i], 0);
      assert.ok(Math.abs(exact) > 10);
      assert.ok(
        relDiff(fd, exact) < 5e-3,
        `directional: finite difference ${fd}, gradient ${exact}`,
      );
    }
    objective.dispose();
  });
}

Deno.test("cpu: the live tensor count is flat over 5 evaluations", async () => {
  const engine = await tfjsCpuProvider.create();
  const spec = await specFromImages(engine, smallWeights, "avg", H, W, content, style);
  const objective = await engine.objective(spec);
  const x = engine.vec.fromArray(perturbed(content, 6, 20));
  const counts: number[] = [];
  for (let k = 0; k < 5; k++) {
    const { grad } = await objective.evaluate(x);
    // the optimizer's typical vector work between evaluations
    const step = engine.vec.axpy(-1e-3, grad, x);
    await engine.vec.dot(grad, step);
    engine.vec.dispose(step);
    engine.vec.dispose(grad);
    counts.push(tf.memory().numTensors);
  }
  assert.deepEqual(counts, Array(5).fill(counts[0]));
  const before = tf.memory().numTensors;
  objective.dispose();
  engine.vec.dispose(x);
  // the network (3 kernels and biases), 1 content and 3 style targets, 1 mask, and x are released
  assert.equal(before - tf.memory().numTensors, 3 * 2 + 1 + 3 + 1 + 1);
});

Deno.test("cpu: vector ops compute on tensors and return new ones", async () => {
  const { vec } = await tfjsCpuProvider.create();
  const host = new Float32Array([1, -2, 4]);
  const a = vec.fromArray(host);
  const b = vec.fromArray(new Float32Array([3, 1, 2]));
  host[0] = 100; // fromArray copied
  assert.equal(await vec.dot(a, b), 9);
  const cases: [string, tf.Tensor, number[]][] = [
    ["axpy", vec.axpy(2, a, b), [5, -3, 10]],
    ["scale", vec.scale(-0.5, a), [-0.5, 1, -2]],
    ["sub", vec.sub(a, b), [-2, -3, 2]],
    ["mul", vec.mul(a, b), [3, -2, 8]],
    ["sqrt", vec.sqrt(b), [Math.fround(Math.sqrt(3)), 1, Math.fround(Math.SQRT2)]],
    ["div", vec.div(a, b, 1), [0.25, -1, Math.fround(4 / 3)]],
    ["clamp", vec.clamp(a, -1, 2), [1, -1, 2]],
    ["clone", vec.clone(a), [1, -2, 4]],
    ["zerosLike", vec.zerosLike(a), [0, 0, 0]],
  ];
  for (const [name, t, expected] of cases) {
    assert.deepEqual([...await vec.toArray(t)], expected, name);
    assert.notEqual(t, a);
    vec.dispose(t);
  }
  const copy = await vec.toArray(a);
  copy[0] = 7; // toArray copied
  assert.deepEqual([...await vec.toArray(a)], [1, -2, 4]);
  vec.dispose(a);
  vec.dispose(b);
});

Deno.test("cpu: extract returns HWC activations of the pooled sizes", async () => {
  const engine = await tfjsCpuProvider.create();
  const f = await engine.extract(smallWeights, "max", {
    height: 11,
    width: 9,
    data: content.slice(0, 297),
  }, [
    "conv1_1",
    "pool1",
    "relu2_1",
  ]);
  assert.deepEqual(
    [...f].map(([l, a]) => [l, a.height, a.width, a.channels, a.data.length]),
    [["conv1_1", 11, 9, 64, 11 * 9 * 64], ["pool1", 5, 4, 64, 5 * 4 * 64], [
      "relu2_1",
      5,
      4,
      128,
      5 * 4 * 128,
    ]],
  );
  // relu2_1 is non-negative; conv1_1 (before ReLU) has negative values
  assert.ok(f.get("relu2_1")!.data.every((v) => v >= 0));
  assert.ok(f.get("conv1_1")!.data.some((v) => v < 0));
});

Deno.test("cpu: a layer beyond the weights names it and the deepest available conv", async () => {
  const engine = await tfjsCpuProvider.create();
  const before = tf.memory().numTensors;
  await assert.rejects(
    engine.extract(smallWeights, "avg", { height: H, width: W, data: content }, ["relu3_1"]),
    (e: unknown) =>
      e instanceof LayerUnavailableError && /relu3_1 needs conv3_1/.test(e.message) &&
      /deepest available: conv2_1/.test(e.message),
  );
  await assert.rejects(
    engine.extract(smallWeights, "avg", { height: H, width: W, data: content }, ["fc6"]),
    /unknown layer "fc6"/,
  );
  assert.equal(tf.memory().numTensors, before);
});
