/**
 * `deno task dev gpu-check`: the cuda engine against reference values the onnx engine computed on the
 * CPU beforehand (`--prepare` here writes them to .device/gpu-check-reference.json, which travels
 * to the GPU machine with the device kit: no minutes of wasm there). Per case (precision fp32 |
 * tf32 × pooling max | avg × padding zero and replicate (max) or reflect (avg) × real partial
 * VGG19 | synthetic full VGG19, odd sizes included; targets seeded, so no engine computes them):
 * each loss term, and the gradient's norm (relative difference) and direction (cosine) within
 * 1e-4 (fp32) or 1e-2 (tf32), for Gram and mean-covariance styles; extracted activations
 * (vectors: the whole norm, and the direction of an evenly strided 509-value sample: the
 * references must fit the device kit); one case per network also tile by tile (objective/tiled.ts); the device vector ops against the host's; a short L-BFGS
 * render repeated gives the same bytes; then first figures (W at 512²: ms per evaluation and per
 * L-BFGS iteration, peak device memory). Prints one line per check and a summary. Exits 1 if any
 * check fails, or if the engine cannot start on a machine with an NVIDIA GPU (or the emulated
 * device); 0 with a "skipped" line only where there is no GPU at all. `--quick`: fp32, two
 * small cases, a 5-iteration repeat (the emulated device's end-to-end run).
 */
import {
  createCudaEngine,
  type CudaEngine,
  type CudaPrecision,
  emulationFromEnv,
  nvidiaGpuPresent,
} from "../neural/engines/cuda/engine.ts";
import { type Engine, evaluateAt, type VectorOps } from "../neural/engines/engine.ts";
import type { ObjectiveSpec } from "../neural/objective/spec.ts";
import type { Padding, Pooling } from "../neural/plan/network.ts";
import { hostVectorOps } from "../neural/engines/host_vector_ops.ts";
import { onnxProvider } from "../neural/engines/onnx/engine.ts";
import { featureMean } from "../neural/objective/mean_covariance.ts";
import { gramMatrix } from "../neural/objective/gram.ts";
import { syntheticVggWeights } from "../neural/models/synthetic.ts";
import { loadVggWeights } from "../neural/models/weights.ts";
import type { VggWeights } from "../neural/models/weights_types.ts";
import { lbfgs } from "../neural/optim/lbfgs.ts";
import { tiledObjective } from "../neural/objective/tiled.ts";
import { tilingFor } from "../neural/objective/tiling.ts";
import { layersRead, lossPlan } from "../neural/objective/terms.ts";
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

/** The networks compared: real partial VGG19 where its weights are here, synthetic full VGG19. */
async function networks(quick: boolean): Promise<Net[]> {
  if (quick) {
    return [{
      label: "synthetic VGG19 to conv3_1",
      weights: syntheticVggWeights("vgg19", 2015, "conv3_1"),
      style: ["relu1_1", "relu2_1", "relu3_1"],
      content: "relu2_2",
    }];
  }
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

/** A layer's shape in `net` at `height × width` (pooling halves, odd edges dropped). */
function layerShape(layer: string, height: number, width: number): [number, number, number] {
  const block = Number(/^(?:relu|conv)(\d)_/.exec(layer)![1]);
  const channels = [64, 128, 256, 512, 512][block - 1];
  let [h, w] = [height, width];
  for (let b = 1; b < block; b++) [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
  return [h, w, channels];
}

/** Seeded features of a layer's shape, non-negative as after a ReLU. */
function seededFeatures(seed: number, layer: string, height: number, width: number) {
  const [h, w, channels] = layerShape(layer, height, width);
  const data = new Prng(seed).fillUniform(new Float32Array(h * w * channels), 0, 4);
  return { height: h, width: w, channels, data };
}

/**
 * A content layer, Gram styles (with their means, for the mean-covariance variant), one masked
 * (regional) style; the targets are seeded features, so that the same spec is built on any machine
 * without an engine.
 */
function spec(
  net: Net,
  pooling: Pooling,
  padding: Padding,
  height: number,
  width: number,
): ObjectiveSpec {
  const mask = new Float32Array(height * width).map((_, i) => (i % width < width / 2 ? 1 : 0.25));
  const first = net.style[0];
  const style = new Map(
    net.style.map((layer, k) => [layer, seededFeatures(20 + k, layer, height, width)]),
  );
  return {
    weights: net.weights,
    pooling,
    height,
    width,
    content: [{
      layer: net.content,
      weight: 1,
      activations: seededFeatures(1, net.content, height, width).data,
    }],
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
  try {
    return await evaluateAt(engine, objective, x);
  } finally {
    objective.dispose();
  }
}

/** One case: a network, pooling, padding and size. */
interface Case {
  readonly name: string;
  readonly net: Net;
  readonly pooling: Pooling;
  readonly padding: Padding;
  readonly height: number;
  readonly width: number;
}

function cases(nets: readonly Net[], quick: boolean): Case[] {
  const sizes: [number, number][] = quick ? [[13, 10]] : [[64, 64], [67, 45]];
  const all = nets.flatMap((net) =>
    (["max", "avg"] as const).flatMap((pooling) =>
      sizes.flatMap(([height, width]) =>
        (["zero", pooling === "max" ? "replicate" : "reflect"] as const).map((padding) => ({
          name: `${pooling} ${padding} ${net.label} ${height}×${width}`,
          net,
          pooling,
          padding,
          height,
          width,
        }))
      )
    )
  );
  // Quick: one case per pooling, zero and mirrored padding between them.
  return quick
    ? all.filter((c) => c.name.startsWith("max zero") || c.name.startsWith("avg reflect"))
    : all;
}

/**
 * A vector as the references keep it (the device kit has little room): its whole norm and an
 * evenly strided sample of {@link SAMPLE} values.
 */
interface Sampled {
  readonly norm: number;
  readonly sample: Float32Array;
}

/** What a case yields on an engine (the reference's, or the engine's under test). */
interface CaseResult {
  readonly terms: Record<string, number>;
  readonly grad: Sampled;
  readonly mcStyle: number;
  readonly mcGrad: Sampled;
  readonly extracts: Record<string, Sampled>;
}

const SAMPLE = 509;

function sampled(a: Float32Array): Sampled {
  const step = Math.max(1, Math.floor(a.length / SAMPLE));
  const sample = Float32Array.from({ length: Math.ceil(a.length / step) }, (_, i) => a[i * step]);
  return { norm: Math.sqrt(a.reduce((acc, v) => acc + v * v, 0)), sample };
}

async function caseResult<V>(engine: Engine<V>, c: Case): Promise<CaseResult> {
  const s = spec(c.net, c.pooling, c.padding, c.height, c.width);
  const x = image(3, c.height, c.width);
  const gram = await evaluateOn(engine, s, x);
  // The same unmasked style targets as mean-covariance terms.
  const mc = await evaluateOn(engine, {
    ...s,
    style: s.style.filter((t) => !t.mask).map((t) => ({ ...t, statistic: "mean-covariance" })),
  }, x);
  const layers = [c.net.style[0], c.net.content, c.net.style.at(-1)!];
  const img = { height: c.height, width: c.width, data: x };
  const acts = await engine.extract(c.net.weights, c.pooling, img, layers, c.padding);
  return {
    terms: gram.terms,
    grad: sampled(gram.grad),
    mcStyle: mc.terms.style,
    mcGrad: sampled(mc.grad),
    extracts: Object.fromEntries(layers.map((l) => [l, sampled(acts.get(l)!.data)])),
  };
}

function compareCase(precision: CudaPrecision, c: Case, a: CaseResult, b: CaseResult): Check[] {
  const tol = TOLERANCE[precision];
  const name = `${precision} ${c.name}`;
  const checks: Check[] = [];
  const scalar = (what: string, x: number, y: number) => {
    const d = rel(x, y);
    checks.push({
      name: `${name}: ${what}`,
      ok: d <= tol,
      detail: `reference ${x.toExponential(6)} cuda ${y.toExponential(6)} rel ${
        d.toExponential(2)
      }`,
    });
  };
  const vector = (what: string, x: Sampled, y: Sampled) => {
    const norm = rel(x.norm, y.norm);
    const { cosine } = compareVectors(x.sample, y.sample);
    checks.push({
      name: `${name}: ${what}`,
      ok: x.sample.length === y.sample.length && norm <= tol && 1 - cosine <= tol,
      detail: `norm rel ${norm.toExponential(2)}, 1 − cosine of a ${x.sample.length}-value ` +
        `sample ${(1 - cosine).toExponential(2)}`,
    });
  };
  for (const term of ["content", "style", "tv"]) scalar(term, a.terms[term], b.terms[term]);
  vector("gradient", a.grad, b.grad);
  scalar("mean-covariance style", a.mcStyle, b.mcStyle);
  vector("mean-covariance gradient", a.mcGrad, b.mcGrad);
  for (const layer of Object.keys(a.extracts)) {
    vector(`extract ${layer}`, a.extracts[layer], b.extracts[layer]);
  }
  return checks;
}

/**
 * The case's objective evaluated tile by tile (objective/tiled.ts: the engine's statistics() and
 * planObjective()) against the whole-image reference: each term and the gradient.
 */
async function tiledCase(
  cuda: CudaEngine,
  precision: CudaPrecision,
  c: Case,
  reference: CaseResult,
  tile: number,
): Promise<Check[]> {
  const s = spec(c.net, c.pooling, c.padding, c.height, c.width);
  const tiling = tilingFor(s.weights.arch, layersRead(lossPlan(s).terms), c.height, c.width, tile);
  const objective = await tiledObjective(cuda, s, tiling);
  const x = cuda.vec.fromArray(image(3, c.height, c.width));
  try {
    const e = await objective.evaluate(x);
    const grad = await cuda.vec.toArray(e.grad);
    cuda.vec.dispose(e.grad);
    const got = { ...reference, terms: e.terms, grad: sampled(grad) };
    const label = `tiled ${tiling.rows}×${tiling.cols} (tile ${tiling.tile}, halo ${tiling.halo})`;
    return compareCase(precision, { ...c, name: `${c.name} ${label}` }, reference, got)
      .filter((check) => !/mean-covariance|extract/.test(check.name));
  } finally {
    cuda.vec.dispose(x);
    objective.dispose();
  }
}

/** The reference file: per case name, the onnx engine's result on the CPU. */
interface ReferenceFile {
  readonly about: string;
  readonly cases: Record<string, EncodedResult>;
}

type EncodedSampled = { norm: number; sample: string };
type EncodedResult = Omit<CaseResult, "grad" | "mcGrad" | "extracts"> & {
  grad: EncodedSampled;
  mcGrad: EncodedSampled;
  extracts: Record<string, EncodedSampled>;
};

const encode = (v: Sampled): EncodedSampled => ({
  norm: v.norm,
  sample: new Uint8Array(v.sample.buffer, v.sample.byteOffset, v.sample.byteLength).toBase64(),
});
const decode = (v: EncodedSampled): Sampled => ({
  norm: v.norm,
  sample: new Float32Array(Uint8Array.fromBase64(v.sample).buffer),
});

function encodeResult(r: CaseResult): EncodedResult {
  return {
    ...r,
    grad: encode(r.grad),
    mcGrad: encode(r.mcGrad),
    extracts: Object.fromEntries(Object.entries(r.extracts).map(([k, v]) => [k, encode(v)])),
  };
}

function decodeResult(r: EncodedResult): CaseResult {
  return {
    ...r,
    grad: decode(r.grad),
    mcGrad: decode(r.mcGrad),
    extracts: Object.fromEntries(Object.entries(r.extracts).map(([k, v]) => [k, decode(v)])),
  };
}

/** Where `--prepare` writes the references and the check reads them (the device kit's folder). */
export const DEFAULT_REFERENCE = ".device/gpu-check-reference.json";

/**
 * Computes every case's reference (full and quick, or only the quick ones) with the onnx engine;
 * writes them to `path`.
 */
export async function prepareReferences(
  path = DEFAULT_REFERENCE,
  quickOnly = false,
): Promise<number> {
  const onnx = await onnxProvider.create();
  const out: Record<string, EncodedResult> = {};
  try {
    for (const quick of quickOnly ? [true] : [false, true]) {
      for (const c of cases(await networks(quick), quick)) {
        const t0 = performance.now();
        out[c.name] = encodeResult(await caseResult(onnx, c));
        console.log(`reference ${c.name} (${(performance.now() - t0).toFixed(0)} ms)`);
      }
    }
  } finally {
    await onnx.dispose();
  }
  const file: ReferenceFile = {
    about: `onnx engine (${onnx.describe()}) on the CPU, ${new Date().toISOString()}`,
    cases: out,
  };
  await Deno.mkdir(path.slice(0, Math.max(0, path.lastIndexOf("/"))) || ".", { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(file));
  console.log(`wrote ${Object.keys(out).length} references to ${path}`);
  return 0;
}

/** The device vector ops against hostVectorOps (element-wise: bit-equal; dots: 1e-12). */
async function checkVectorOps(cuda: CudaEngine, n: number): Promise<Check[]> {
  const rng = new Prng(7);
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
async function checkRepeatable(
  cuda: CudaEngine,
  net: Net,
  size: number,
  iterations: number,
): Promise<Check> {
  const s = spec(net, "avg", "zero", size, size);
  const hashes: string[] = [];
  for (let run = 0; run < 2; run++) {
    const objective = await cuda.objective(s);
    const x0 = cuda.vec.fromArray(image(3, size, size));
    const { state } = await lbfgs(objective, cuda.vec, x0, { maxIterations: iterations });
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
    name: `${cuda.precision} repeated ${iterations}-iteration render`,
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

/** What gpuCheck runs (the defaults are the real check; tests narrow them). */
export interface GpuCheckOptions {
  /** Creates the engine under test (default: createCudaEngine, emulated where asked). */
  readonly create?: (precision: CudaPrecision) => Promise<CudaEngine>;
  readonly precisions?: readonly CudaPrecision[];
  /** fp32 only, two small cases (13×10, a synthetic network to conv3_1), no figures. */
  readonly quick?: boolean;
  /** Whether to print the W512 figures (default: unless quick). */
  readonly figures?: boolean;
  /** The references `--prepare` wrote. */
  readonly reference?: string;
  /** Whether this machine has an NVIDIA GPU (default: /dev/nvidiactl exists). */
  readonly gpuPresent?: boolean;
}

/** Runs every check; returns the process exit code. */
export async function gpuCheck(options: GpuCheckOptions = {}): Promise<number> {
  const quick = options.quick ?? false;
  // Without the self-check's refusal: here every difference is to be seen in detail.
  const create = options.create ??
    ((precision) => Promise.resolve(createCudaEngine({ precision })));
  const expected = options.gpuPresent ?? (nvidiaGpuPresent() || emulationFromEnv() !== false);
  let probe: CudaEngine;
  try {
    probe = await create("fp32");
  } catch (e) {
    if (!expected) {
      console.log(`gpu-check: skipped, no NVIDIA GPU here: ${(e as Error).message}`);
      return 0;
    }
    console.log(`FAIL  engine start: ${(e as Error).message}`);
    console.log("gpu-check: the cuda engine cannot start on this machine, which has a GPU");
    return 1;
  }
  await probe.dispose();
  const path = options.reference ?? DEFAULT_REFERENCE;
  let references: ReferenceFile;
  try {
    references = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    console.log(
      `FAIL  references: ${(e as Error).message}; run \`deno task dev gpu-check --prepare\` first`,
    );
    return 1;
  }
  console.log(`references: ${references.about}`);
  const nets = await networks(quick);
  const checks: Check[] = [];
  const report = (c: Check) => {
    checks.push(c);
    console.log(`${c.ok ? "PASS" : "FAIL"}  ${c.name}  (${c.detail})`);
  };
  for (const precision of options.precisions ?? (quick ? ["fp32"] : ["fp32", "tf32"])) {
    let cuda: CudaEngine;
    try {
      cuda = await create(precision);
    } catch (e) {
      report({ name: `${precision} engine`, ok: false, detail: (e as Error).message });
      continue;
    }
    console.log(`engine: ${cuda.describe()}`);
    try {
      if (precision === "fp32") {
        (await checkVectorOps(cuda, quick ? 1003 : 100_003)).forEach(report);
      }
      for (const c of cases(nets, quick)) {
        const ref = references.cases[c.name];
        if (!ref) {
          report({ name: `${precision} ${c.name}`, ok: false, detail: `no reference in ${path}` });
          continue;
        }
        try {
          compareCase(precision, c, decodeResult(ref), await caseResult(cuda as Engine, c))
            .forEach(report);
        } catch (e) {
          report({ name: `${precision} ${c.name}`, ok: false, detail: String(e) });
        }
      }
      // One case per network tile by tile as well (the prints issue: every engine runs tiled).
      for (const c of cases(nets, quick).filter((c) => c.name.startsWith("avg reflect"))) {
        const ref = references.cases[c.name];
        if (!ref) continue;
        try {
          (await tiledCase(cuda, precision, c, decodeResult(ref), quick ? 8 : 32)).forEach(report);
        } catch (e) {
          report({ name: `${precision} ${c.name} tiled`, ok: false, detail: String(e) });
        }
      }
      report(await checkRepeatable(cuda, nets.at(-1)!, quick ? 12 : 64, quick ? 5 : 20));
      if (options.figures ?? !quick) await quickFigures(cuda);
    } finally {
      await cuda.dispose();
    }
  }
  const failed = checks.filter((c) => !c.ok);
  console.log(`gpu-check: ${checks.length - failed.length} passed, ${failed.length} failed`);
  return failed.length === 0 ? 0 : 1;
}

if (import.meta.main) {
  const args = Deno.args;
  const at = (flag: string) => {
    const k = args.indexOf(flag);
    return k >= 0 ? args[k + 1] : undefined;
  };
  Deno.exit(
    args.includes("--prepare")
      ? await prepareReferences(at("--reference"), args.includes("--quick"))
      : await gpuCheck({ quick: args.includes("--quick"), reference: at("--reference") }),
  );
}
