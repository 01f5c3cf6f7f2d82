/**
 * The onnx engine against the tfjs `cpu` engine (the reference): activations, loss, each weighted
 * term and the gradient agree to 1e-4 relative, per loss term, for max and avg pooling, on the
 * real partial VGG19 and on synthetic full VGG19 (odd sizes, so pooling floors); plus an
 * independent directional finite-difference check of the onnx gradient.
 */
import assert from "node:assert/strict";
import type { Engine } from "../../../../src/neural/engines/engine.ts";
import type { ObjectiveSpec, StyleTarget } from "../../../../src/neural/objective/spec.ts";
import { layerSize, type Pooling } from "../../../../src/neural/plan/network.ts";
import { onnxProvider } from "../../../../src/neural/engines/onnx/engine.ts";
import { tfjsCpuProvider } from "../../../../src/neural/engines/tfjs/cpu.ts";
import { gramMatrix } from "../../../../src/neural/objective/gram.ts";
import { resizeMaskArea } from "../../../../src/neural/objective/layer_mask.ts";
import { syntheticVggWeights } from "../../../../src/neural/models/synthetic.ts";
import type { VggWeights } from "../../../../src/neural/models/weights_types.ts";
import { Prng } from "../../../../src/util/prng.ts";
import {
  evaluateOnHost,
  halfMask,
  realWeights,
  relDiff,
  seededImage,
  smallWeights,
} from "../_fixtures.ts";

const TOL = 1e-4;

/** ‖a − b‖ / ‖b‖. */
function normRelDiff(a: Float32Array, b: Float32Array): number {
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / Math.max(n, 1e-30));
}

interface Case {
  readonly weights: VggWeights;
  readonly height: number;
  readonly width: number;
  readonly content: readonly string[];
  /** Style layers; `*` marks a masked target (the half mask). */
  readonly style: readonly string[];
}

/** A spec whose targets are the reference engine's activations of two seeded images. */
async function specFor(ref: Engine, c: Case, pooling: Pooling): Promise<ObjectiveSpec> {
  const { weights, height, width } = c;
  const image = (seed: number) => ({ height, width, data: seededImage(seed, height, width) });
  const contentActs = await ref.extract(weights, pooling, image(1), c.content);
  const styleLayers = c.style.map((s) => s.replace("*", ""));
  const styleActs = await ref.extract(weights, pooling, image(2), styleLayers);
  const mask = halfMask(height, width);
  const style: StyleTarget[] = c.style.map((s, i) => {
    const layer = styleLayers[i], a = styleActs.get(layer)!;
    if (!s.endsWith("*")) return { layer, weight: 1 + i, gram: gramMatrix(a) };
    const m = resizeMaskArea(mask, height, width, a.height, a.width);
    return { layer, weight: 1 + i, gram: gramMatrix(a, m), mask };
  });
  return {
    weights,
    pooling,
    height,
    width,
    content: c.content.map((layer) => ({
      layer,
      weight: 1,
      activations: contentActs.get(layer)!.data,
    })),
    style,
    contentWeight: 1,
    styleWeight: 1,
    tvWeight: 1,
  };
}

const VARIANTS = {
  content: { contentWeight: 3, styleWeight: 0, tvWeight: 0 },
  style: { contentWeight: 0, styleWeight: 1e3, tvWeight: 0 },
  tv: { contentWeight: 0, styleWeight: 0, tvWeight: 1e-2 },
  all: { contentWeight: 3, styleWeight: 1e3, tvWeight: 1e-2 },
};

async function compareWithReference(c: Case): Promise<void> {
  const ref = await tfjsCpuProvider.create();
  const onnx = await onnxProvider.create();
  try {
    // Max pooling routes the gradient to the window's argmax; where two values are within float32
    // rounding of each other the engines may pick different ones (a legitimate, tiny difference in
    // f, a large one in ∇f at a 2-pixel-wide layer). This seeded image has no such near-tie.
    const x = seededImage(4, c.height, c.width);
    for (const pooling of ["max", "avg"] as const) {
      const layers = [...c.content, ...c.style.map((s) => s.replace("*", ""))];
      const image = { height: c.height, width: c.width, data: x };
      const want = await ref.extract(c.weights, pooling, image, layers);
      const got = await onnx.extract(c.weights, pooling, image, layers);
      for (const layer of layers) {
        const d = normRelDiff(got.get(layer)!.data, want.get(layer)!.data);
        assert.ok(d < TOL, `${pooling} extract ${layer}: rel diff ${d}`);
      }
      const base = await specFor(ref, c, pooling);
      for (const [variant, weights] of Object.entries(VARIANTS)) {
        const spec = { ...base, ...weights };
        const label = `${c.weights.id} ${pooling} ${variant}`;
        const [e, r] = await Promise.all([
          evaluateOnHost(onnx, spec, x),
          evaluateOnHost(ref, spec, x),
        ]);
        assert.ok(r.loss > 0, `${label}: reference loss is 0`);
        assert.ok(relDiff(e.loss, r.loss) < TOL, `${label} loss ${e.loss} vs ${r.loss}`);
        for (const term of ["content", "style", "tv"]) {
          const [a, b] = [e.terms[term], r.terms[term]];
          assert.ok(
            relDiff(a, b) < TOL || Math.abs(a - b) < 1e-30,
            `${label} ${term}: ${a} vs ${b}`,
          );
        }
        const g = normRelDiff(e.grad, r.grad);
        assert.ok(g < TOL, `${label} gradient rel diff ${g}`);
      }
    }
  } finally {
    await onnx.dispose();
    await ref.dispose();
  }
}

Deno.test("onnx = tfjs cpu: real partial VGG19, odd size, conv/relu/pool targets, mask", async () => {
  await compareWithReference({
    weights: await realWeights(),
    height: 26,
    width: 22,
    content: ["conv3_2", "relu2_1"],
    style: ["relu1_1*", "relu1_1", "pool1", "relu2_1", "relu3_1"],
  });
});

Deno.test("onnx = tfjs cpu: synthetic full VGG19 to relu5_1", async () => {
  await compareWithReference({
    weights: syntheticVggWeights("vgg19", 7, "conv5_1"),
    height: 32,
    width: 20,
    content: ["relu4_2"],
    style: ["relu1_1*", "relu2_1", "relu3_1", "relu4_1", "relu5_1"],
  });
});

Deno.test("onnx gradient matches central finite differences along random directions", async () => {
  const [height, width] = [12, 14];
  const engine = await onnxProvider.create() as Engine<Float32Array>;
  try {
    for (const pooling of ["max", "avg"] as const) {
      const targets = await engine.extract(
        smallWeights,
        pooling,
        { height, width, data: seededImage(5, height, width) },
        ["relu1_1", "pool1", "relu2_1"],
      );
      const mask = halfMask(height, width);
      const base: ObjectiveSpec = {
        weights: smallWeights,
        pooling,
        height,
        width,
        content: [{ layer: "relu2_1", weight: 1, activations: targets.get("relu2_1")!.data }],
        style: [
          { layer: "relu1_1", weight: 1, gram: gramMatrix(targets.get("relu1_1")!, mask), mask },
          { layer: "pool1", weight: 1, gram: gramMatrix(targets.get("pool1")!) },
        ],
        contentWeight: 0,
        styleWeight: 0,
        tvWeight: 0,
      };
      // One term at a time, so each is checked at its own scale. The loss is float32 and ReLU /
      // max-pool kinks bend it, hence a small step and a percent-level tolerance; the 1e-4
      // agreement with the tfjs reference above is the precise check.
      for (const weights of [{ contentWeight: 1 }, { styleWeight: 100 }, { tvWeight: 1e-2 }]) {
        const objective = await engine.objective({ ...base, ...weights });
        const x = seededImage(6, height, width);
        const { grad } = await objective.evaluate(x);
        const prng = new Prng(9);
        const d = x.map(() => (prng.float() < 0.5 ? -1 : 1));
        const eps = 0.02;
        const f = async (t: number) =>
          (await objective.evaluate(x.map((v, i) => v + t * d[i]))).loss;
        const numeric = (await f(eps) - await f(-eps)) / (2 * eps);
        const analytic = grad.reduce((s, g, i) => s + g * d[i], 0);
        assert.ok(
          relDiff(numeric, analytic) < 2.5e-2,
          `${pooling} ${
            Object.keys(weights)
          }: finite difference ${numeric} vs gradient ${analytic}`,
        );
        objective.dispose();
      }
    }
  } finally {
    await engine.dispose();
  }
});

Deno.test("onnx engine rejects a layer beyond the weights and a wrong image size", async () => {
  const engine = await onnxProvider.create();
  try {
    const image = { height: 8, width: 8, data: seededImage(1, 8, 8) };
    await assert.rejects(
      engine.extract(smallWeights, "max", image, ["relu3_1"]),
      /stop before conv3_1/,
    );
    await assert.rejects(
      engine.extract(smallWeights, "max", { ...image, width: 9 }, ["relu1_1"]),
      /expected 8×9×3/,
    );
  } finally {
    await engine.dispose();
  }
});

Deno.test("onnx extract: layer sizes floor through the pools", async () => {
  const engine = await onnxProvider.create();
  try {
    const acts = await engine.extract(
      smallWeights,
      "avg",
      { height: 9, width: 7, data: seededImage(2, 9, 7) },
      ["relu2_1", "pool1"],
    );
    const [h, w] = layerSize(2, 9, 7);
    assert.deepEqual([acts.get("relu2_1")!.height, acts.get("relu2_1")!.width], [h, w]);
    assert.deepEqual([h, w, acts.get("pool1")!.channels], [4, 3, 64]);
  } finally {
    await engine.dispose();
  }
});
