/**
 * Reflect / replicate padding of the image at the first convolution (plan/network.ts Padding), in
 * the onnx and tfjs cpu engines: conv1_1 against a direct host computation, the two engines
 * against each other per loss term, the gradient against central finite differences along
 * directions supported on the image's border, zero padding unchanged, and 1-pixel images.
 */
import assert from "node:assert/strict";
import type { Engine } from "../../../src/neural/engines/engine.ts";
import type { ObjectiveSpec } from "../../../src/neural/objective/spec.ts";
import type { Padding } from "../../../src/neural/plan/network.ts";
import { CAFFE_MEAN_BGR } from "../../../src/neural/models/weights_types.ts";
import { onnxProvider } from "../../../src/neural/engines/onnx/engine.ts";
import { tfjsCpuProvider } from "../../../src/neural/engines/tfjs/cpu.ts";
import { Prng } from "../../../src/util/prng.ts";
import {
  evaluateOnHost,
  perturbed,
  relDiff,
  seededImage,
  smallWeights,
  specFromImages,
} from "./_fixtures.ts";

const H = 9, W = 7;
const PADDED: readonly ("reflect" | "replicate")[] = ["reflect", "replicate"];

/** conv1_1 (before ReLU) of an HWC RGB 0–255 image on the host, in float64, padded by `padding`. */
function hostConv11(x: Float32Array, h: number, w: number, padding: Padding): Float64Array {
  const { kernel, bias } = smallWeights.convs.get("conv1_1")!;
  const out = bias.length;
  const source = (i: number, n: number) => {
    if (i >= 0 && i < n) return i;
    if (padding === "zero") return -1;
    // As plan/network.ts inputPadding: reflect on an image 1 pixel high or wide is replicate.
    const reflect = padding === "reflect" && Math.min(h, w) >= 2;
    return i < 0 ? (reflect ? 1 : 0) : (reflect ? n - 2 : n - 1);
  };
  const y = new Float64Array(h * w * out);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      for (let k = 0; k < out; k++) {
        let s = bias[k];
        for (let dy = 0; dy < 3; dy++) {
          for (let dx = 0; dx < 3; dx++) {
            const si = source(i + dy - 1, h), sj = source(j + dx - 1, w);
            if (si < 0 || sj < 0) continue;
            for (let c = 0; c < 3; c++) {
              // The kernel's input channels are BGR; c counts them, 2 − c is the RGB channel.
              const v = x[(si * w + sj) * 3 + (2 - c)] - CAFFE_MEAN_BGR[c];
              s += kernel[((dy * 3 + dx) * 3 + c) * out + k] * v;
            }
          }
        }
        y[(i * w + j) * out + k] = s;
      }
    }
  }
  return y;
}

async function withEngines(run: (onnx: Engine, cpu: Engine) => Promise<void>): Promise<void> {
  const onnx = await onnxProvider.create();
  const cpu = await tfjsCpuProvider.create();
  try {
    await run(onnx, cpu);
  } finally {
    await onnx.dispose();
    await cpu.dispose();
  }
}

/** The largest |a − b| over the largest |b|. */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / Math.max(scale, 1e-30);
}

/** A ±1 direction on the outer `frame` pixels of an h × w image (0 inside), seeded. */
function borderDirection(seed: number, h: number, w: number, frame: number): Float32Array {
  const prng = new Prng(seed);
  const d = new Float32Array(h * w * 3);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      if (i >= frame && i < h - frame && j >= frame && j < w - frame) continue;
      for (let c = 0; c < 3; c++) d[(i * w + j) * 3 + c] = prng.float() < 0.5 ? -1 : 1;
    }
  }
  return d;
}

Deno.test("padding: conv1_1 of onnx and tfjs cpu equals a host conv with that border, 9×7 and 1×5", async () => {
  await withEngines(async (onnx, cpu) => {
    for (const [h, w] of [[H, W], [1, 5]]) {
      const x = seededImage(21, h, w);
      const image = { height: h, width: w, data: x };
      for (const padding of ["zero", ...PADDED] as Padding[]) {
        const want = hostConv11(x, h, w, padding);
        for (const engine of [onnx, cpu]) {
          const got = (await engine.extract(smallWeights, "avg", image, ["conv1_1"], padding))
            .get("conv1_1")!.data;
          const e = maxRelDiff(got, want);
          assert.ok(e < 1e-6, `${engine.name} ${padding} ${h}×${w}: conv1_1 rel diff ${e}`);
        }
      }
      // The paddings differ only at the border; reflect on a 1-pixel axis is replicate there.
      const reflect = hostConv11(x, h, w, "reflect"), replicate = hostConv11(x, h, w, "replicate");
      assert.equal(maxRelDiff(reflect, replicate) === 0, h === 1);
    }
  });
});

Deno.test("padding zero is VGG's: bit-equal to a spec and extract without the option", async () => {
  await withEngines(async (onnx, cpu) => {
    for (const engine of [onnx, cpu]) {
      const spec = await specFromImages(
        engine,
        smallWeights,
        "avg",
        H,
        W,
        seededImage(1, H, W),
        seededImage(2, H, W),
      );
      const x = perturbed(seededImage(1, H, W), 3, 40);
      const a = await evaluateOnHost(engine, spec, x);
      const b = await evaluateOnHost(engine, { ...spec, padding: "zero" }, x);
      assert.equal(a.loss, b.loss);
      assert.deepEqual(a.grad, b.grad);
      const c = await evaluateOnHost(engine, { ...spec, padding: "reflect" }, x);
      assert.ok(c.loss !== a.loss, `${engine.name}: reflect changes the loss`);
      const image = { height: H, width: W, data: x };
      const e1 = await engine.extract(smallWeights, "avg", image, ["relu2_1"]);
      const e2 = await engine.extract(smallWeights, "avg", image, ["relu2_1"], "zero");
      assert.deepEqual(e1.get("relu2_1")!.data, e2.get("relu2_1")!.data);
    }
  });
});

for (const padding of PADDED) {
  for (const pooling of ["avg", "max"] as const) {
    Deno.test(`padding ${padding} ${pooling}: onnx = tfjs cpu per term and gradient (9×7)`, async () => {
      await withEngines(async (onnx, cpu) => {
        const base = await specFromImages(
          cpu,
          smallWeights,
          pooling,
          H,
          W,
          seededImage(1, H, W),
          seededImage(2, H, W),
        );
        const spec: ObjectiveSpec = { ...base, padding };
        const x = perturbed(seededImage(1, H, W), 3, 40);
        const a = await evaluateOnHost(onnx, spec, x);
        const b = await evaluateOnHost(cpu, spec, x);
        for (const term of ["content", "style", "tv"]) {
          const d = relDiff(a.terms[term], b.terms[term]);
          assert.ok(d < 2e-6, `${term}: ${a.terms[term]} vs ${b.terms[term]} (${d})`);
        }
        const g = maxRelDiff(a.grad, b.grad);
        assert.ok(g < 2e-6, `gradient rel diff ${g}`);
        // On the border alone (where padding acts), to the same scale.
        const frame = borderDirection(0, H, W, 1);
        const ga = a.grad.filter((_, i) => frame[i] !== 0);
        const gb = b.grad.filter((_, i) => frame[i] !== 0);
        assert.ok(maxRelDiff(ga, gb) < 2e-6, `border gradient rel diff ${maxRelDiff(ga, gb)}`);
      });
    });
  }

  Deno.test(`padding ${padding}: onnx and tfjs cpu gradients match central finite differences on the border`, async () => {
    await withEngines(async (onnx, cpu) => {
      const content = seededImage(1, H, W);
      const base = await specFromImages(
        onnx,
        smallWeights,
        "avg",
        H,
        W,
        content,
        seededImage(2, H, W),
      );
      // Targets extracted with the same padding, as extract-features does.
      const image = { height: H, width: W, data: content };
      const targets = await onnx.extract(smallWeights, "avg", image, ["relu2_1"], padding);
      const spec: ObjectiveSpec = {
        ...base,
        padding,
        content: [{ layer: "relu2_1", weight: 1, activations: targets.get("relu2_1")!.data }],
        tvWeight: 0,
      };
      const x = perturbed(content, 5, 30);
      for (const engine of [onnx, cpu]) {
        // One term at a time, each at its own scale; the outer 1- and 2-pixel frames are where
        // the border values feed the conv (the corners through both folds).
        for (const weights of [{ styleWeight: 0 }, { contentWeight: 0 }]) {
          const objective = await engine.objective({ ...spec, ...weights });
          try {
            const f = async (v: Float32Array) => {
              const xv = engine.vec.fromArray(v);
              const e = await objective.evaluate(xv);
              engine.vec.dispose(xv);
              return e;
            };
            const e0 = await f(x);
            const grad = await engine.vec.toArray(e0.grad);
            engine.vec.dispose(e0.grad);
            for (const frame of [1, 2]) {
              const d = borderDirection(7 + frame, H, W, frame);
              const eps = 0.02;
              const at = async (t: number) => {
                const e = await f(x.map((v, i) => v + t * d[i]));
                engine.vec.dispose(e.grad);
                return e.loss;
              };
              const numeric = (await at(eps) - await at(-eps)) / (2 * eps);
              const analytic = grad.reduce((s, g, i) => s + g * d[i], 0);
              assert.ok(
                relDiff(numeric, analytic) < 1e-2,
                `${engine.name} ${Object.keys(weights)} frame ${frame}: finite difference ` +
                  `${numeric} vs gradient ${analytic}`,
              );
            }
          } finally {
            objective.dispose();
          }
        }
      }
    });
  });
}
