/**
 * `deno task dev gpu-smoke`: the cuda engine's first contact with a GPU, one call at a time, so that
 * one run diagnoses everything. Each call prints `STAGE n <call> …` before it runs and
 * `STAGE n <call> OK|FAIL <error name> <ms>` after (written straight to stdout: a crash leaves
 * every earlier line on screen); each stage ends with a synchronize and cudaGetLastError check.
 * Stages: 1 the libraries found (paths, versions); 2 each library loaded alone; 3 device and
 * context; 4 NVRTC, cuModuleLoadData, every kernel looked up, the engine's device; 5 every kernel
 * on odd-sized random data against the host oracle (the emulated device's JavaScript kernels);
 * 6 the engine's GEMM shapes (against the oracle at 33×25, run at 512²); 7 per VGG19 conv
 * shape at 512², cuDNN's fp32 and TF32 algorithm tables, the algorithm chosen and its workspace;
 * 8 the self-check's objectives (every term kind) against the onnx reference; 9 their sum tiled
 * 2×2 (statistics(), planObjective()) against the whole image; 10 dispose and re-create the
 * engine twice.
 * STYLEPIPE_CUDA_EMULATE=1 (or a fault name) runs it on the emulated device. The records also go
 * to $OUT/gpu-smoke.json when OUT is set. Exit code 1 when any call failed.
 */
import {
  ConvDescriptors,
  type ConvShape,
  type CudaPrecision,
  describePerf,
} from "../neural/engines/cuda/conv_algorithms.ts";
import { CudaDevice, type DeviceArray } from "../neural/engines/cuda/device.ts";
import { EMULATED_SONAMES, emulatedCuda } from "../neural/engines/cuda/emulated.ts";
import {
  createCudaEngine,
  type CudaEngine,
  emulationFromEnv,
} from "../neural/engines/cuda/engine.ts";
import {
  cStringBytes,
  type CudaApi,
  CudaError,
  LIBRARY_SYMBOLS,
  type LibraryRole,
  openCuda,
  openLibrary,
  outInt,
  outPointer,
  statusChecks,
} from "../neural/engines/cuda/ffi.ts";
import { KERNEL_NAMES, type KernelArgs } from "../neural/engines/cuda/kernels.ts";
import {
  discoverCudaLibraries,
  missingLibrariesMessage,
} from "../neural/engines/cuda/libraries.ts";
import { compileKernels } from "../neural/engines/cuda/nvrtc.ts";
import { type DisposableObjective, evaluateAt } from "../neural/engines/engine.ts";
import { tiledObjective } from "../neural/objective/tiled.ts";
import { tilingFor } from "../neural/objective/tiling.ts";
import { layersRead, lossPlan } from "../neural/objective/terms.ts";
import {
  compareSelfCheck,
  SELF_CHECK_TERMS,
  SELF_CHECK_TOLERANCE,
  selfCheckCombinedSpec,
  selfCheckImage,
  selfCheckReference,
  selfCheckSpec,
  type TermResult,
} from "../neural/engines/cuda/self_check.ts";
import { Prng } from "../util/prng.ts";
import { type BufferSpec, KERNEL_CASES, styleLayers, vggConvShapes } from "./gpu_smoke_cases.ts";

/** One call's outcome. */
export interface StageRecord {
  readonly stage: number;
  readonly call: string;
  readonly ok: boolean;
  /** The library's name for the failure (`cudaErrorIllegalAddress`, …) or the error class. */
  readonly error?: string;
  readonly message?: string;
  readonly ms: number;
  readonly detail?: string;
}

/** A result that differs from its reference (printed as FAIL MISMATCH). */
class MismatchError extends Error {
  override name = "MISMATCH";
}

/** Libraries not found (printed as FAIL NOT_FOUND). */
class NotFoundError extends Error {
  override name = "NOT_FOUND";
}

/** A library that failed to load (printed as FAIL DLOPEN). */
class DlopenError extends Error {
  override name = "DLOPEN";
}

const encoder = new TextEncoder();
/** Written synchronously: on screen before the next call runs, even if that call crashes the process. */
function say(line: string): void {
  const bytes = encoder.encode(`${line}\n`);
  for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
}

/** The records so far, printed and saved as they come. */
class Stages {
  readonly records: StageRecord[] = [];
  stage = 0;
  /** @param about what the JSON carries besides the records (device, cuDNN tables) */
  constructor(readonly jsonPath: string | undefined, readonly about: Record<string, unknown>) {}

  /** Runs `f` as call `call` of the current stage; returns its value, or undefined on failure. */
  async call<T>(
    call: string,
    f: () => T | Promise<T>,
    detail?: (value: T) => string,
  ): Promise<T | undefined> {
    say(`STAGE ${this.stage} ${call} …`);
    const t0 = performance.now();
    try {
      const value = await f();
      const ms = performance.now() - t0;
      const text = detail?.(value);
      say(`STAGE ${this.stage} ${call} OK - ${ms.toFixed(1)} ms${text ? `  ${text}` : ""}`);
      this.#record({ stage: this.stage, call, ok: true, ms, detail: text });
      return value;
    } catch (e) {
      const ms = performance.now() - t0;
      const err = e as Error;
      const name = e instanceof CudaError ? e.errorName : err.name;
      say(`STAGE ${this.stage} ${call} FAIL ${name} ${ms.toFixed(1)} ms`);
      say(`  ${err.message.split("\n").join("\n  ")}`);
      this.#record({ stage: this.stage, call, ok: false, error: name, message: err.message, ms });
      return undefined;
    }
  }

  /** Starts stage `n`. */
  begin(n: number, title: string): void {
    this.stage = n;
    say(`== stage ${n}: ${title}`);
  }

  get failed(): StageRecord[] {
    return this.records.filter((r) => !r.ok);
  }

  #record(r: StageRecord): void {
    this.records.push(r);
    if (this.jsonPath) {
      Deno.writeTextFileSync(
        this.jsonPath,
        JSON.stringify({ ...this.about, records: this.records }, null, 1),
      );
    }
  }
}

/** Where the libraries come from: the machine's, or the emulated device's. */
interface Source {
  readonly label: string;
  readonly paths: Record<LibraryRole, string>;
  readonly preload: readonly string[];
  load(role: LibraryRole): void;
  api(): CudaApi;
}

function source(): Source | string {
  const emulate = emulationFromEnv();
  if (emulate) {
    const emulated = emulatedCuda(emulate === true ? undefined : emulate);
    return {
      label: `emulated device${emulate === true ? "" : ` with fault ${emulate}`}`,
      paths: EMULATED_SONAMES,
      preload: [],
      load: (role) => emulated.load(role),
      api: () => emulated.api,
    };
  }
  const found = discoverCudaLibraries({ env: Deno.env.toObject() });
  if (!found.found) return missingLibrariesMessage(found.missing, found.searched);
  const libs = found.libraries;
  return {
    label: "this machine's GPU",
    paths: {
      cudart: libs.cudart,
      driver: libs.driver,
      nvrtc: libs.nvrtc,
      cublas: libs.cublas,
      cudnn: libs.cudnn,
    },
    preload: libs.preload,
    load: (role) => void openLibrary(libs[role], LIBRARY_SYMBOLS[role]),
    api: () => openCuda(libs),
  };
}

/** A path and the file it resolves to (the version is in the target's name). */
function resolved(path: string): string {
  try {
    const real = Deno.realPathSync(path);
    return real === path ? path : `${path} -> ${real}`;
  } catch {
    return `${path} (resolved by the dynamic linker)`;
  }
}

/** A device (or oracle) buffer with its host contents. */
interface Buffer {
  readonly ptr: Deno.PointerValue;
  readonly host: Float32Array | Float64Array;
}

function makeBuffer(device: CudaDevice, spec: BufferSpec, prng: Prng): Buffer {
  const host = "f32" in spec
    ? prng.fillUniform(new Float32Array(spec.f32), spec.lo ?? -1, spec.hi ?? 1)
    : Float64Array.from({ length: spec.f64 }, () => prng.float() - 0.5);
  const ptr = device.allocBytes(host.byteLength);
  const check = statusChecks(device.api);
  check.rt("cudaMemcpy")(
    device.api.rt.cudaMemcpyHtoD(ptr, new Uint8Array(host.buffer), BigInt(host.byteLength), 1),
  );
  return { ptr, host };
}

function readBuffer(device: CudaDevice, b: Buffer): Float32Array | Float64Array {
  const out = new (b.host.constructor as Float32ArrayConstructor)(b.host.length);
  statusChecks(device.api).rt("cudaMemcpy")(
    device.api.rt.cudaMemcpyDtoH(new Uint8Array(out.buffer), b.ptr, BigInt(out.byteLength), 2),
  );
  return out;
}

/** max |a − b| / max |b| (0 when both are zero). */
function relMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

const sum = (a: ArrayLike<number>) => Array.prototype.reduce.call(a, (s, v) => s + v, 0) as number;

/** Runs one kernel case on `device` and on the oracle with the same inputs; returns the worst difference. */
function kernelAgainstOracle(device: CudaDevice, oracle: CudaDevice, k: number): string {
  const c = KERNEL_CASES[k];
  const runOn = (d: CudaDevice) => {
    const prng = new Prng(1000 + k);
    const buffers = new Map<string, Buffer>();
    const args: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(c.args)) {
      if (typeof value === "number") args[name] = value;
      else buffers.set(name, makeBuffer(d, value, prng)), args[name] = buffers.get(name)!.ptr;
    }
    d.launch(c.kernel, c.n, args as KernelArgs<typeof c.kernel>, c.blocks);
    const out = new Map([...buffers].map(([name, b]) => [name, readBuffer(d, b)]));
    for (const b of buffers.values()) d.freeBytes(b.ptr, b.host.byteLength);
    return out;
  };
  const got = runOn(device), want = runOn(oracle);
  const tolerance = 1e-5;
  const diffs = [...want].map(([name, w]) => {
    const g = got.get(name)!;
    const diff = c.sums?.includes(name) ? relMax([sum(g)], [sum(w)]) : relMax(g, w);
    return [name, diff] as const;
  });
  const bad = diffs.filter(([, diff]) => !(diff <= tolerance));
  const worst = diffs.reduce((a, [, diff]) => Math.max(a, diff), 0);
  if (bad.length > 0) {
    throw new MismatchError(
      `differs from the host oracle: ${
        bad.map(([n, diff]) => `${n} ${diff.toExponential(2)}`).join(", ")
      } (tolerance ${tolerance})`,
    );
  }
  return `max rel diff ${worst.toExponential(2)}`;
}

/** One GEMM of the engine's four forms for a layer, on `device`; returns C. */
function gemmForm(
  device: CudaDevice,
  form: "gram" | "grad" | "mean" | "rank1",
  c: number,
  hw: number,
  seed: number,
): Float32Array {
  const prng = new Prng(seed);
  const up = (n: number) => device.upload(prng.fillUniform(new Float32Array(n), -1, 1));
  const shapes = {
    gram: { transA: true, transB: false, m: c, n: c, k: hw, a: hw * c, b: hw * c, out: c * c },
    grad: { transA: false, transB: false, m: hw, n: c, k: c, a: hw * c, b: c * c, out: hw * c },
    mean: { transA: true, transB: false, m: c, n: 1, k: hw, a: hw * c, b: hw, out: c },
    rank1: { transA: false, transB: true, m: hw, n: c, k: 1, a: hw, b: c, out: hw * c },
  }[form];
  const [a, b, out] = [up(shapes.a), up(shapes.b), up(shapes.out)];
  const { transA, transB, m, n, k } = shapes;
  device.gemm({
    transA,
    transB,
    m,
    n,
    k,
    alpha: 0.5,
    a,
    lda: transA ? k : m,
    b,
    ldb: transB ? n : k,
    beta: 1,
    c: out,
    ldc: m,
  });
  const result = device.read(out);
  for (const x of [a, b, out] as DeviceArray[]) device.free(x);
  return result;
}

function setMath(device: CudaDevice, precision: CudaPrecision): void {
  device.check.blas("cublasSetMathMode")(
    device.api.cublas.cublasSetMathMode(device.cublas, precision === "tf32" ? 3 : 0),
  );
}

/** Evaluates one self-check term on `engine`. */
async function evaluateTerm(
  engine: CudaEngine,
  term: typeof SELF_CHECK_TERMS[number],
): Promise<TermResult> {
  const objective = await engine.objective(selfCheckSpec(term));
  const x = engine.vec.fromArray(selfCheckImage());
  try {
    const e = await objective.evaluate(x);
    const grad = await engine.vec.toArray(e.grad);
    engine.vec.dispose(e.grad);
    return { loss: e.loss, grad };
  } finally {
    engine.vec.dispose(x);
    objective.dispose();
  }
}

/** The self-check's combined objective tiled 2×2 against the whole image: the worst relative difference. */
async function tiledAgainstWhole(engine: CudaEngine): Promise<number> {
  const spec = selfCheckCombinedSpec();
  const layers = layersRead(lossPlan(spec).terms);
  const tiling = tilingFor(spec.weights.arch, layers, spec.height, spec.width, 12);
  const run = async (objective: DisposableObjective<DeviceArray>) => {
    try {
      return await evaluateAt(engine, objective, selfCheckImage());
    } finally {
      objective.dispose();
    }
  };
  const whole = await run(await engine.objective(spec));
  const tiled = await run(await tiledObjective(engine, spec, tiling));
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
  return Math.max(
    rel(tiled.loss, whole.loss),
    ...Object.keys(whole.terms).map((k) => rel(tiled.terms[k], whole.terms[k])),
    relMax(tiled.grad, whole.grad),
  );
}

/** Runs every stage; returns the exit code. */
export async function gpuSmoke(outDir = Deno.env.get("OUT")): Promise<number> {
  const src = source();
  const stages = new Stages(outDir ? `${outDir}/gpu-smoke.json` : undefined, {
    started: new Date().toISOString(),
    device: typeof src === "string" ? "none" : src.label,
  });
  stages.begin(1, "libraries found");
  if (typeof src === "string") {
    await stages.call("discover the CUDA libraries", () => {
      throw new NotFoundError(src);
    });
    return 1;
  }
  say(`device: ${src.label}`);
  for (const [role, path] of Object.entries(src.paths)) say(`  ${role}: ${resolved(path)}`);
  for (const path of src.preload) say(`  preload: ${resolved(path)}`);

  stages.begin(2, "each library loaded alone");
  for (const path of src.preload) await stages.call(`dlopen ${path}`, () => openLibrary(path, {}));
  const roles = Object.keys(LIBRARY_SYMBOLS) as LibraryRole[];
  // A preload that fails is reported but not fatal (its parent library may do without it).
  let loaded = true;
  for (const role of roles) {
    const ok = await stages.call(`dlopen ${src.paths[role]}`, () => {
      try {
        src.load(role);
      } catch (e) {
        throw new DlopenError((e as Error).message);
      }
      return true;
    });
    loaded &&= ok === true;
  }
  if (!loaded) return finish(stages);
  const api = (await stages.call("the engine's bindings (all libraries)", () => src.api()))!;
  if (!api) return finish(stages);
  const check = statusChecks(api);
  const version = (v: number) => `${Math.floor(v / 1000)}.${(v % 1000) / 10}`;
  await stages.call(
    "cudaRuntimeGetVersion",
    () => outInt((c) => api.rt.cudaRuntimeGetVersion(c), check.rt("cudaRuntimeGetVersion")),
    (v) => version(v),
  );
  await stages.call(
    "cudaDriverGetVersion",
    () => outInt((c) => api.rt.cudaDriverGetVersion(c), check.rt("cudaDriverGetVersion")),
    (v) => version(v),
  );
  await stages.call("nvrtcVersion", () => {
    const [a, b] = [new Int32Array(1), new Int32Array(1)];
    check.nvrtc("nvrtcVersion")(api.nvrtc.nvrtcVersion(a, b));
    return `${a[0]}.${b[0]}`;
  }, (v) => v);
  await stages.call("cudnnGetVersion", () => Number(api.cudnn.cudnnGetVersion()), String);

  stages.begin(3, "device and context");
  const count = await stages.call(
    "cudaGetDeviceCount",
    () => outInt((c) => api.rt.cudaGetDeviceCount(c), check.rt("cudaGetDeviceCount")),
    (n) => `${n} device(s)`,
  );
  if (!count) return finish(stages);
  await stages.call("cudaSetDevice(0)", () => check.rt("cudaSetDevice")(api.rt.cudaSetDevice(0)));
  await stages.call(
    "cudaFree(NULL) (primary context)",
    () => check.rt("cudaFree")(api.rt.cudaFree(null)),
  );
  await stages.call("cuInit", () => check.cu("cuInit")(api.cu.cuInit(0)));
  const cc = await stages.call(
    "cudaDeviceGetAttribute (compute capability)",
    () =>
      [75, 76].map((attr) =>
        outInt((c) => api.rt.cudaDeviceGetAttribute(c, attr, 0), check.rt("cudaDeviceGetAttribute"))
      ),
    (v) => `sm_${v.join("")}`,
  );
  await stages.call("cuDeviceGetName", () => {
    const name = new Uint8Array(256);
    check.cu("cuDeviceGetName")(api.cu.cuDeviceGetName(name, 256, 0));
    return new TextDecoder().decode(name.subarray(0, name.indexOf(0)));
  }, (v) => v);
  if (!cc || !(await syncCheck(stages, api))) return finish(stages);

  stages.begin(4, "NVRTC, module, kernels");
  const arch = `sm_${cc.join("")}`;
  const cubin = await stages.call(
    `nvrtcCompileProgram (${arch})`,
    () => compileKernels(api.nvrtc, arch),
    (b) => `${b.length} bytes of CUBIN`,
  );
  if (!cubin) return finish(stages);
  const module = await stages.call(
    "cuModuleLoadData",
    () => outPointer((c) => api.cu.cuModuleLoadData(c, cubin), check.cu("cuModuleLoadData")),
  );
  if (!module) return finish(stages);
  for (const name of KERNEL_NAMES) {
    await stages.call(`cuModuleGetFunction ${name}`, () =>
      outPointer(
        (c) => api.cu.cuModuleGetFunction(c, module, cStringBytes(name)),
        check.cu("cuModuleGetFunction"),
      ));
  }
  await stages.call(
    "cuModuleUnload",
    () => check.cu("cuModuleUnload")(api.cu.cuModuleUnload(module)),
  );
  const device = await stages.call(
    "the engine's device (cuBLAS and cuDNN handles, module)",
    () => new CudaDevice(api, { sync: true }),
    (d) => `${d.info.name}, cuBLAS ${d.info.cublasVersion}, cuDNN ${d.info.cudnnVersion}`,
  );
  if (!device || !(await syncCheck(stages, api))) return finish(stages);

  stages.begin(5, "every kernel against the host oracle (odd sizes)");
  const oracle = new CudaDevice(emulatedCuda().api);
  for (let k = 0; k < KERNEL_CASES.length; k++) {
    const c = KERNEL_CASES[k];
    const ok = await stages.call(
      `kernel ${c.kernel}${c.label ? ` (${c.label})` : ""}`,
      () => kernelAgainstOracle(device, oracle, k),
      (v) => v,
    );
    if (ok === undefined && !(await syncCheck(stages, api))) return finish(stages);
  }
  // A fault left pending makes the context unusable: every later call would report it again.
  if (!(await syncCheck(stages, api))) return finish(stages);

  stages.begin(6, "the engine's GEMM shapes");
  const ampere = cc[0] >= 8;
  const precisions: CudaPrecision[] = ampere ? ["fp32", "tf32"] : ["fp32"];
  for (const precision of precisions) {
    // cuBLAS sums in float (up to 825 products here), the oracle in double.
    const tolerance = precision === "fp32" ? 1e-4 : 1e-2;
    for (const { layer, c, hw } of styleLayers(33, 25)) {
      for (const form of ["gram", "grad", "mean", "rank1"] as const) {
        await stages.call(`cublasSgemm ${precision} ${form} ${layer} c=${c} hw=${hw}`, () => {
          setMath(device, precision);
          const diff = relMax(gemmForm(device, form, c, hw, 7), gemmForm(oracle, form, c, hw, 7));
          if (!(diff <= tolerance)) {
            throw new Error(
              `differs from the host oracle: ${diff.toExponential(2)} > ${tolerance}`,
            );
          }
          return diff;
        }, (d) => `max rel diff ${d.toExponential(2)}`);
      }
    }
    if (!src.label.startsWith("emulated")) {
      for (const { layer, c, hw } of styleLayers(512, 512)) {
        await stages.call(
          `cublasSgemm ${precision} gram+grad ${layer} at 512² (runs; the ms include making the data)`,
          () => {
            setMath(device, precision);
            gemmForm(device, "gram", c, hw, 8);
            gemmForm(device, "grad", c, hw, 9);
          },
        );
      }
    }
  }
  setMath(device, "fp32");
  // A fault left pending makes the context unusable: every later call would report it again.
  if (!(await syncCheck(stages, api))) return finish(stages);

  stages.begin(7, "cuDNN algorithm tables per VGG19 conv shape at 512²");
  const tables: Record<string, unknown> = {};
  stages.about.cudnnTables = tables; // saved with the records
  for (const precision of precisions) {
    for (const { name, shape } of vggConvShapes(512)) {
      await stages.call(`cuDNN ${precision} ${name} ${describeShape(shape)}`, () => {
        const desc = new ConvDescriptors(device, shape, precision, name);
        try {
          tables[`${precision} ${name}`] = {
            forward: desc.forward,
            backwardData: desc.backwardData,
          };
          for (
            const [what, choice] of [["fwd", desc.forward], [
              "bwd-data",
              desc.backwardData,
            ]] as const
          ) {
            for (const row of choice.table) say(`    ${what} ${describePerf(row)}`);
          }
          return `forward algo ${desc.forward.algo} (ws ${desc.forward.workspace}), backward-data ` +
            `algo ${desc.backwardData.algo} (ws ${desc.backwardData.workspace})`;
        } finally {
          desc.dispose();
        }
      }, (v) => v);
    }
  }
  // A fault left pending makes the context unusable: every later call would report it again.
  if (!(await syncCheck(stages, api))) return finish(stages);

  stages.begin(8, "the self-check's objectives against the onnx reference");
  const want = selfCheckReference();
  const emulate = emulationFromEnv();
  for (const precision of precisions) {
    const engine = await stages.call(
      `create engine cuda-${precision}`,
      () => createCudaEngine({ precision, emulate, sync: true }),
    );
    if (!engine) continue;
    for (const term of SELF_CHECK_TERMS) {
      await stages.call(`objective ${precision} ${term}`, async () => {
        const got = await evaluateTerm(engine, term);
        const diff = compareSelfCheck({ ...want, [term]: got }, want)[term];
        const tol = SELF_CHECK_TOLERANCE[precision];
        const text = `loss rel ${diff.loss.toExponential(2)}, gradient rel ${
          diff.grad.toExponential(2)
        }`;
        if (!(diff.loss <= tol && diff.grad <= tol)) throw new MismatchError(`${text} > ${tol}`);
        return text;
      }, (v) => v);
    }
    await stages.call(`dispose engine cuda-${precision}`, () => engine.dispose());
  }
  // A fault left pending makes the context unusable: every later call would report it again.
  if (!(await syncCheck(stages, api))) return finish(stages);

  stages.begin(9, "a tiled evaluation (2×2 tiles, every term kind) against the whole image");
  // (the emulated device's TF32 is its fp32: one is enough there)
  for (const precision of src.label.startsWith("emulated") ? ["fp32" as const] : precisions) {
    const engine = await stages.call(
      `create engine cuda-${precision}`,
      () => createCudaEngine({ precision, emulate, sync: true }),
    );
    if (!engine) continue;
    await stages.call(`tiled ${precision} (statistics, planObjective)`, async () => {
      const error = await tiledAgainstWhole(engine);
      const tol = SELF_CHECK_TOLERANCE[precision];
      if (!(error <= tol)) throw new MismatchError(`relative difference ${error} > ${tol}`);
      return error;
    }, (e) => `max rel diff ${e.toExponential(2)}`);
    await stages.call(`dispose engine cuda-${precision}`, () => engine.dispose());
  }
  if (!(await syncCheck(stages, api))) return finish(stages);

  stages.begin(10, "dispose and re-create the engine twice");
  for (let round = 1; round <= 2; round++) {
    const engine = await stages.call(
      `re-create engine (round ${round})`,
      () => createCudaEngine({ precision: "fp32", emulate, sync: true }),
    );
    if (!engine) continue;
    await stages.call(`objective fp32 content (round ${round})`, async () => {
      const got = await evaluateTerm(engine, "content");
      return compareSelfCheck({ ...want, content: got }, want).content;
    }, (d) => `loss rel ${d.loss.toExponential(2)}, gradient rel ${d.grad.toExponential(2)}`);
    await stages.call(`dispose (round ${round})`, () => engine.dispose());
  }
  await syncCheck(stages, api);
  device.close();
  oracle.close();
  return finish(stages);
}

function describeShape(s: ConvShape): string {
  return `${s.inChannels}→${s.outChannels} ${s.height}×${s.width}`;
}

/** Synchronizes and checks for a pending fault, as a call of the current stage. */
async function syncCheck(stages: Stages, api: CudaApi): Promise<boolean> {
  const check = statusChecks(api);
  const ok = await stages.call("cudaDeviceSynchronize + cudaGetLastError", () => {
    check.rt("cudaDeviceSynchronize")(api.rt.cudaDeviceSynchronize());
    check.rt("cudaGetLastError")(api.rt.cudaGetLastError());
    return true;
  });
  return ok === true;
}

function finish(stages: Stages): number {
  const failed = stages.failed;
  say(
    `gpu-smoke: ${stages.records.length - failed.length} calls OK, ${failed.length} failed` +
      (failed.length
        ? ` (first: stage ${failed[0].stage} ${failed[0].call}: ${failed[0].error})`
        : ""),
  );
  return failed.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await gpuSmoke());
