/**
 * `deno task gpu-check`: the cuda engine against the onnx engine (wasm where onnxruntime's library
 * is absent) on the same images and weights,
 * on the GPU machine. Per case (precision fp32 | tf32 × pooling max | avg × padding zero and
 * replicate (max) or reflect (avg) × real partial VGG19 | synthetic full VGG19, odd sizes included): each loss term, the loss, and the gradient's norm
 * (relative difference) and direction (cosine) within 1e-4 (fp32) or 1e-2 (tf32); extracted
 * activations; the device vector ops against the host's; a short L-BFGS render repeated gives the
 * same bytes; then first figures (W at 512²: ms per evaluation and per L-BFGS iteration, peak device
 * memory). Prints one line per check and a summary; exits 1 if any check fails, 0 with a
 * "skipped" line where the cuda engine cannot start (no GPU or libraries).
 */
import {
  createCudaEngine,
  type CudaEngine,
  type CudaPrecision,
} from "../neural/engines/cuda/engine.ts";
import type { Engine, VectorOps } from "../neural/engines/engine.ts";
import type { ObjectiveSpec } from "../neural/objective/spec.ts";
import type { Padding, Pooling } from "../neural/plan/network.ts";
import { hostVectorOps } from "../neural/engines/host_vector_ops.ts";
import { onnxProvider } from "../neural/engines/onnx/engine.ts";
import { tfjsWasmProvider } from "../neural/engines/tfjs/wasm.ts";
import { featureMean } from "../neural/objective/mean_covariance.ts";
import { gramMatrix } from "../neural/objective/gram.ts";
import { syntheticVggWeights } from "../neural/models/synthetic.ts";
import { loadVggWeights } from "../neural/models/weights.ts";
import type { VggWeights } from "../neural/models/weights_types.ts";
import { lbfgs } from "../neural/optim/lbfgs.ts";
import { workloadImage, workloadSpec, workloadWeights } from "./workload.ts";
import { Prng } from "../util/prng.ts";

/** One comparison's outcome. */
interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

const TOLERANCE: Record<CudaPrecision, number> = { fp32: 1e-4, tf32: 1e-2 };

/** A network and the layers a case reads. */
interface Net {
  readonly label: string;
  readonly weights: VggWeights;
  readonly style: readonly string[];
  readonly content: string;
}

async function networks(): Promise<Net[]> {
  const nets: Net[] = [{
    label: "synthetic VGG19 to relu5_1",
    weights: syntheticVggWeights("vgg19", 2015, "relu5_1"),
    style: ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"],
    content: "relu4_2",
  }];
  const dirs = [Deno.env.get("STYLEPIPE_WEIGHTS"), "../shared/weights", "weights"]
    .filter((d): d is string => !!d);
  try {
    nets.unshift({
      label: "real VGG19 conv1_1…conv3_4",
      weights: await loadVggWeights(dirs, "vgg19"),
      style: ["relu1_1", "relu2_1", "relu3_1"],
      content: "conv3_2",
    });
  } catch (e) {
    console.log(
      `note: real weights not found (${(e as Error).message.split("\n")[0]}); synthetic only`,
    );
  }
  return nets;
}

function image(seed: number, height: number, width: number): Float32Array {
  return new Prng(seed).fillUniform(new Float32Array(height * width * 3), 0, 255);
}

/**
 * Targets from the onnx engine: a content layer, Gram styles (with their means, for the
 * mean-covariance variant), one masked (regional) style.
 */
async function spec(
  onnx: Engine,
  net: Net,
  pooling: Pooling,
  padding: Padding,
  height: number,
  width: number,
): Promise<ObjectiveSpec> {
  const img = (seed: number) => ({ height, width, data: image(seed, height, width) });
  const content = await onnx.extract(net.weights, pooling, img(1), [net.content], padding);
  const style = await onnx.extract(net.weights, pooling, img(2), net.style, padding);
  const mask = new Float32Array(height * width).map((_, i) => (i % width < width / 2 ? 1 : 0.25));
  const first = net.style[0];
  return {
    weights: net.weights,
    pooling,
    height,
    width,
    content: [{ layer: net.content, weight: 1, activations: content.get(net.content)!.data }],
    style: [
      ...net.style.map((layer) => ({
        layer,
        weight: 1 / net.style.length,
        gram: gramMatrix(style.get(layer)!),
        mean: featureMean(style.get(layer)!),
      })),
      { layer: first, weight: 0.5, gram: gramMatrix(style.get(first)!), mask },
    ],
    contentWeight: 5,
    styleWeight: 100,
    tvWeight: 1e-3,
    padding,
  };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);

function compareVectors(a: Float32Array, b: Float32Array): { norm: number; cosine: number } {
  let aa = 0, bb = 0, ab = 0;
  for (let i = 0; i < a.length; i++) {
    aa += a[i] * a[i];
    bb += b[i] * b[i];
    ab += a[i] * b[i];
  }
  return { norm: rel(Math.sqrt(aa), Math.sqrt(bb)), cosine: ab / Math.sqrt(aa * bb) };
}

async function evaluateOn<V>(engine: Engine<V>, s: ObjectiveSpec, x: Float32Array) {
  const objective = await engine.objective(s);
  const xv = engine.vec.fromArray(x);
  try {
    const e = await objective.evaluate(xv);
    const grad = await engine.vec.toArray(e.grad);
    engine.vec.dispose(e.grad);
    return { loss: e.loss, terms: e.terms, grad };
  } finally {
    engine.vec.dispose(xv);
    objective.dispose();
  }
}

async function compareCase(
  cuda: CudaEngine,
  onnx: Engine,
  net: Net,
  pooling: Pooling,
  padding: Padding,
  height: number,
  width: number,
): Promise<Check[]> {
  const tol = TOLERANCE[cuda.precision];
  const name = `${cuda.precision} ${pooling} ${padding} ${net.label} ${height}×${width}`;
  const s = await spec(onnx, net, pooling, padding, height, width);
  const x = image(3, height, width);
  const [a, b] = [await evaluateOn(onnx, s, x), await evaluateOn(cuda as Engine, s, x)];
  const checks: Check[] = [];
  for (const term of ["content", "style", "tv"]) {
    const d = rel(a.terms[term], b.terms[term]);
    checks.push({
      name: `${name}: ${term}`,
      ok: d <= tol,
      detail: `onnx ${a.terms[term].toExponential(6)} cuda ${b.terms[term].toExponential(6)} rel ${
        d.toExponential(2)
      }`,
    });
  }
  const g = compareVectors(a.grad, b.grad);
  checks.push({
    name: `${name}: gradient`,
    ok: g.norm <= tol && 1 - g.cosine <= tol,
    detail: `norm rel ${g.norm.toExponential(2)}, 1 − cosine ${(1 - g.cosine).toExponential(2)}`,
  });
  // The same unmasked style targets as mean-covariance terms.
  const mc: ObjectiveSpec = {
    ...s,
    style: s.style.filter((t) => !t.mask).map((t) => ({ ...t, statistic: "mean-covariance" })),
  };
  const [c, d] = [await evaluateOn(onnx, mc, x), await evaluateOn(cuda as Engine, mc, x)];
  const dm = rel(c.terms.style, d.terms.style);
  const gm = compareVectors(c.grad, d.grad);
  checks.push({
    name: `${name}: mean-covariance style`,
    ok: dm <= tol,
    detail: `onnx ${c.terms.style.toExponential(6)} cuda ${d.terms.style.toExponential(6)} rel ${
      dm.toExponential(2)
    }`,
  }, {
    name: `${name}: mean-covariance gradient`,
    ok: gm.norm <= tol && 1 - gm.cosine <= tol,
    detail: `norm rel ${gm.norm.toExponential(2)}, 1 − cosine ${(1 - gm.cosine).toExponential(2)}`,
  });
  const img = { height, width, data: x };
  const layers = [net.style[0], net.content, net.style.at(-1)!];
  const [ea, eb] = [
    await onnx.extract(net.weights, pooling, img, layers, padding),
    await cuda.extract(net.weights, pooling, img, layers, padding),
  ];
  for (const layer of layers) {
    const v = compareVectors(ea.get(layer)!.data, eb.get(layer)!.data);
    checks.push({
      name: `${name}: extract ${layer}`,
      ok: v.norm <= tol && 1 - v.cosine <= tol,
      detail: `norm rel ${v.norm.toExponential(2)}, 1 − cosine ${(1 - v.cosine).toExponential(2)}`,
    });
  }
  return checks;
}

/** The device vector ops against hostVectorOps (element-wise: bit-equal; dots: 1e-12). */
async function checkVectorOps(cuda: CudaEngine): Promise<Check[]> {
  const rng = new Prng(7);
  const n = 100_003;
  const hs = Array.from({ length: 5 }, () => rng.fillUniform(new Float32Array(n), -1, 1));
  const vec = cuda.vec as VectorOps<unknown>;
  const ds = hs.map((h) => vec.fromArray(h));
  const checks: Check[] = [];
  const same = async (what: string, dv: unknown, hv: Float32Array) => {
    const got = await vec.toArray(dv);
    let diff = 0;
    for (let i = 0; i < n; i++) if (got[i] !== hv[i]) diff++;
    checks.push({ name: `vector ops: ${what}`, ok: diff === 0, detail: `${diff} of ${n} differ` });
    vec.dispose(dv);
  };
  const H = hostVectorOps;
  await same("axpy", vec.axpy(0.37, ds[0], ds[1]), H.axpy(0.37, hs[0], hs[1]));
  await same("scale", vec.scale(-2.5, ds[0]), H.scale(-2.5, hs[0]));
  await same("sub", vec.sub(ds[0], ds[1]), H.sub(hs[0], hs[1]));
  await same("mul", vec.mul(ds[0], ds[1]), H.mul(hs[0], hs[1]));
  await same("sqrt", vec.sqrt(vec.mul(ds[0], ds[0])), H.sqrt(H.mul(hs[0], hs[0])));
  await same("div", vec.div(ds[0], ds[1], 1e-8), H.div(hs[0], hs[1], 1e-8));
  await same("clamp", vec.clamp(ds[0], -0.5, 0.25), H.clamp(hs[0], -0.5, 0.25));
  await same("clone", vec.clone(ds[2]), hs[2]);
  const dots = await vec.dots!([[ds[0], ds[1]], [ds[2], ds[2]]]);
  const hostDots = [await H.dot(hs[0], hs[1]), await H.dot(hs[2], hs[2])];
  const dotErr = Math.max(...dots.map((d, i) => rel(d, hostDots[i])));
  checks.push({
    name: "vector ops: dots",
    ok: dotErr <= 1e-12,
    detail: `rel ${dotErr.toExponential(2)}`,
  });
  const rho = [1 / (await H.dot(hs[1], hs[3])), 1 / (await H.dot(hs[2], hs[4]))];
  const dd = vec.lbfgsDirection!(ds[0], [ds[1], ds[2]], [ds[3], ds[4]], rho, 0.5);
  const hostDir = (() => {
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((acc, v, i) => acc + v * b[i], 0);
    const s = [hs[1], hs[2]], y = [hs[3], hs[4]];
    let q = H.scale(-1, hs[0]);
    const alpha: number[] = [];
    for (let i = 1; i >= 0; i--) {
      alpha[i] = dot(s[i], q) * rho[i];
      q = H.axpy(-alpha[i], y[i], q);
    }
    let r = H.scale(0.5, q);
    for (let i = 0; i < 2; i++) r = H.axpy(alpha[i] - dot(y[i], r) * rho[i], s[i], r);
    return r;
  })();
  const dir = compareVectors(await vec.toArray(dd), hostDir);
  checks.push({
    name: "vector ops: lbfgsDirection",
    ok: dir.norm <= 1e-6 && 1 - dir.cosine <= 1e-6,
    detail: `norm rel ${dir.norm.toExponential(2)}, 1 − cosine ${
      (1 - dir.cosine).toExponential(2)
    }`,
  });
  vec.dispose(dd);
  ds.forEach((d) => vec.dispose(d));
  return checks;
}

/** Two 20-iteration L-BFGS renders from the same start give the same bytes. */
async function checkRepeatable(cuda: CudaEngine, onnx: Engine, net: Net): Promise<Check> {
  const s = await spec(onnx, net, "avg", "zero", 64, 64);
  const hashes: string[] = [];
  for (let run = 0; run < 2; run++) {
    const objective = await cuda.objective(s);
    const x0 = cuda.vec.fromArray(image(3, 64, 64));
    const { state } = await lbfgs(objective, cuda.vec, x0, { maxIterations: 20 });
    const bytes = await cuda.vec.toArray(state.x);
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new Uint8Array(bytes.buffer as ArrayBuffer)),
    );
    hashes.push([...digest.subarray(0, 8)].map((v) => v.toString(16).padStart(2, "0")).join(""));
    cuda.vec.dispose(x0);
    for (const v of [state.x, state.g, ...state.s, ...state.y]) cuda.vec.dispose(v);
    objective.dispose();
  }
  return {
    name: `${cuda.precision} repeated 20-iteration render`,
    ok: hashes[0] === hashes[1],
    detail: `sha256 ${hashes.join(" vs ")}`,
  };
}

/** First figures (not checks): W at 512², ms per evaluation and per L-BFGS iteration. */
async function quickFigures(cuda: CudaEngine): Promise<void> {
  const spec = await workloadSpec(cuda as Engine, workloadWeights(), 512);
  const objective = await cuda.objective(spec);
  const x = cuda.vec.fromArray(workloadImage(512, 1));
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const e = await objective.evaluate(x);
    await cuda.vec.dot(e.grad, e.grad); // waits for the device
    times.push(performance.now() - t0);
    cuda.vec.dispose(e.grad);
  }
  const step = times.slice(2).sort((a, b) => a - b)[2];
  const t0 = performance.now();
  const { state } = await lbfgs(objective, cuda.vec, x, { maxIterations: 50 });
  const iteration = (performance.now() - t0) / 50;
  for (const v of [x, state.x, state.g, ...state.s, ...state.y]) cuda.vec.dispose(v);
  objective.dispose();
  console.log(
    `figures: W512 ${cuda.precision}: ${step.toFixed(2)} ms per evaluation (median of 5), ` +
      `${iteration.toFixed(2)} ms per L-BFGS iteration (50, history 100), peak device memory ` +
      `${(cuda.memory().peak / 1e6).toFixed(0)} MB`,
  );
}

/** What gpuCheck runs (the defaults are the real check; a dry run elsewhere narrows them). */
export interface GpuCheckOptions {
  /** Creates the engine under test. */
  readonly create?: (precision: CudaPrecision) => CudaEngine;
  readonly precisions?: readonly CudaPrecision[];
  /** Image sizes of the comparisons, [height, width]. */
  readonly sizes?: readonly (readonly [number, number])[];
  /** Whether to print the W512 figures. */
  readonly figures?: boolean;
}

/** Runs every check; returns the process exit code. */
export async function gpuCheck(options: GpuCheckOptions = {}): Promise<number> {
  const create = options.create ?? ((precision) => createCudaEngine({ precision }));
  let probe: CudaEngine;
  try {
    probe = create("fp32");
  } catch (e) {
    console.log(`gpu-check: skipped, the cuda engine cannot start here: ${(e as Error).message}`);
    return 0;
  }
  await probe.dispose();
  // The reference: onnx where its native library came along (the device kit may leave it out), else wasm.
  const onnx = await onnxProvider.available()
    ? await onnxProvider.create()
    : await tfjsWasmProvider.create();
  console.log(`reference engine: ${onnx.describe()}`);
  const nets = await networks();
  const checks: Check[] = [];
  const report = (c: Check) => {
    checks.push(c);
    console.log(`${c.ok ? "PASS" : "FAIL"}  ${c.name}  (${c.detail})`);
  };
  try {
    for (const precision of options.precisions ?? ["fp32", "tf32"]) {
      let cuda: CudaEngine;
      try {
        cuda = create(precision);
      } catch (e) {
        report({ name: `${precision} engine`, ok: false, detail: (e as Error).message });
        continue;
      }
      console.log(`engine: ${cuda.describe()}`);
      try {
        if (precision === "fp32") (await checkVectorOps(cuda)).forEach(report);
        for (const net of nets) {
          for (const pooling of ["max", "avg"] as const) {
            for (
              const [h, w, padding] of (options.sizes ?? [[64, 64], [67, 45]]).flatMap(
                ([h, w]) =>
                  [[h, w, "zero"], [h, w, pooling === "max" ? "replicate" : "reflect"]] as const,
              )
            ) {
              try {
                (await compareCase(cuda, onnx, net, pooling, padding, h, w)).forEach(report);
              } catch (e) {
                report({
                  name: `${precision} ${pooling} ${padding} ${net.label} ${h}×${w}`,
                  ok: false,
                  detail: String(e),
                });
              }
            }
          }
        }
        report(await checkRepeatable(cuda, onnx, nets.at(-1)!));
        if (options.figures ?? true) await quickFigures(cuda);
      } finally {
        await cuda.dispose();
      }
    }
  } finally {
    await onnx.dispose();
  }
  const failed = checks.filter((c) => !c.ok);
  console.log(`gpu-check: ${checks.length - failed.length} passed, ${failed.length} failed`);
  return failed.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await gpuCheck());
