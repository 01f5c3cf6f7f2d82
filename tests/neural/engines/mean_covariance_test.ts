/**
 * The `mean-covariance` style term (objective/mean_covariance.ts) in the tfjs cpu and onnx engines: its value equals
 * a float64 host computation, onnx equals tfjs per term, and both gradients match central finite
 * differences of the loss.
 */
import assert from "node:assert/strict";
import type { Activation } from "../../../src/neural/objective/spec.ts";
import type { Engine } from "../../../src/neural/engines/engine.ts";
import type { Pooling } from "../../../src/neural/plan/network.ts";
import { onnxProvider } from "../../../src/neural/engines/onnx/engine.ts";
import { tfjsCpuProvider } from "../../../src/neural/engines/tfjs/cpu.ts";
import { Prng } from "../../../src/util/prng.ts";
import {
  evaluateAt,
  evaluateOnHost,
  meanCovarianceSpec,
  perturbed,
  relDiff,
  seededImage,
  smallWeights,
} from "./_fixtures.ts";

const H = 12, W = 14;
const LAYERS = ["relu1_1", "pool1", "relu2_1"];

/** A style-only spec: mean-covariance targets of `style` on `layers` (weights 1, 2, 3, …). */
function meanCovSpec(engine: Engine, pooling: Pooling, style: Float32Array, layers = LAYERS) {
  return meanCovarianceSpec(engine, pooling, H, W, style, layers);
}

/** objective/mean_covariance.ts's term of activations `a` against style activations `s`, float64. */
function hostTerm(a: Activation, s: Activation): number {
  const stats = (x: Activation) => {
    const { height, width, channels: c, data } = x;
    const n = height * width;
    const mu = new Float64Array(c);
    for (let p = 0; p < n; p++) for (let i = 0; i < c; i++) mu[i] += data[p * c + i] / n;
    const cov = new Float64Array(c * c);
    for (let p = 0; p < n; p++) {
      for (let i = 0; i < c; i++) {
        for (let j = 0; j < c; j++) {
          cov[i * c + j] += (data[p * c + i] - mu[i]) * (data[p * c + j] - mu[j]) / (n * c);
        }
      }
    }
    return { mu, cov };
  };
  const x = stats(a), t = stats(s), c = a.channels;
  let covPart = 0, meanPart = 0, m2 = 0;
  for (let k = 0; k < c * c; k++) covPart += (x.cov[k] - t.cov[k]) ** 2 / (c * c);
  for (let i = 0; i < c; i++) {
    meanPart += (x.mu[i] - t.mu[i]) ** 2 / c;
    m2 += t.mu[i] ** 2 / c;
  }
  return covPart + (2 * m2 / (c * c)) * meanPart;
}

for (const pooling of ["avg", "max"] as const) {
  Deno.test(`mean-covariance ${pooling}: tfjs = float64 host, onnx = tfjs per term and gradient`, async () => {
    const tfjs = await tfjsCpuProvider.create();
    const onnx = await onnxProvider.create();
    try {
      const style = seededImage(21, H, W);
      const x = perturbed(seededImage(22, H, W), 23, 30);
      const image = { height: H, width: W, data: x };
      const sActs = await tfjs.extract(smallWeights, pooling, { ...image, data: style }, LAYERS);
      const xActs = await tfjs.extract(smallWeights, pooling, image, LAYERS);
      const base = await meanCovSpec(tfjs, pooling, style);
      const want = LAYERS.map((l) => hostTerm(xActs.get(l)!, sActs.get(l)!));
      // One layer at a time: each term checked at its own scale, then all together.
      for (let k = 0; k <= LAYERS.length; k++) {
        const spec = { ...base, style: k < LAYERS.length ? [base.style[k]] : base.style };
        const host = 1e3 *
          (k < LAYERS.length ? (k + 1) * want[k] : want.reduce((s, v, i) => s + (i + 1) * v, 0));
        const label = `${pooling} ${k < LAYERS.length ? LAYERS[k] : "all"}`;
        const [r, e] = [await evaluateOnHost(tfjs, spec, x), await evaluateOnHost(onnx, spec, x)];
        assert.ok(host > 0);
        assert.ok(relDiff(r.terms.style, host) < 1e-5, `${label} tfjs ${r.terms.style} vs ${host}`);
        assert.ok(relDiff(e.terms.style, r.terms.style) < 1e-6, `${label} onnx ${e.terms.style}`);
        let d = 0, n = 0;
        e.grad.forEach((g, i) => {
          d += (g - r.grad[i]) ** 2;
          n += r.grad[i] ** 2;
        });
        assert.ok(
          n > 0 && Math.sqrt(d / n) < 1e-5,
          `${label} gradient rel diff ${Math.sqrt(d / n)}`,
        );
      }
    } finally {
      await onnx.dispose();
      await tfjs.dispose();
    }
  });
}

// conv1_1 is linear in x, so there the loss is a smooth quartic and central differences are
// exact to O(eps²) (measured: the error shrinks 6.2× from eps 0.5 to 0.2): a tight check of the
// term's own gradient. Through ReLUs and pools the loss
// has kinks a ±1 direction crosses, hence the looser bound for the deeper layers.
const FD_CASES = [
  { layers: ["conv1_1"], eps: 0.05, tol: 2e-4, near: 4 },
  { layers: LAYERS, eps: 0.01, tol: 1e-2, near: 40 },
];

for (const name of ["onnx", "cpu"] as const) {
  Deno.test(`mean-covariance ${name}: gradient matches central finite differences`, async () => {
    const engine = name === "onnx" ? await onnxProvider.create() : await tfjsCpuProvider.create();
    try {
      for (const { layers, eps, tol, near } of FD_CASES) {
        const x = seededImage(31, H, W);
        // Targets near x keep the float32 loss small, so its rounding stays below eps·|∇f|.
        const spec = await meanCovSpec(engine, "avg", perturbed(x, 32, near), layers);
        const objective = await engine.objective(spec);
        const at = (v: Float32Array) => evaluateAt(engine, objective, v);
        const { loss, grad } = await at(x);
        assert.ok(loss > 0, `loss ${loss}`);
        const prng = new Prng(33);
        const report: string[] = [];
        for (let k = 0; k < 3; k++) {
          const d = Float32Array.from({ length: x.length }, () => (prng.float() < 0.5 ? -1 : 1));
          const fd = ((await at(x.map((v, i) => v + eps * d[i]))).loss -
            (await at(x.map((v, i) => v - eps * d[i]))).loss) / (2 * eps);
          const exact = grad.reduce((s, g, i) => s + g * d[i], 0);
          report.push(`${layers} direction ${k}: finite difference ${fd}, gradient ${exact}`);
          // Plus the float32 loss's rounding (its sums of many terms): 32 ulp of it over 2·eps.
          const noise = 32 * loss * 2 ** -24 / (2 * eps);
          assert.ok(Math.abs(fd - exact) <= tol * Math.abs(exact) + noise, report.join("\n"));
        }
        objective.dispose();
      }
    } finally {
      await engine.dispose();
    }
  });
}
