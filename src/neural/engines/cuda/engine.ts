/**
 * Engine `cuda`: the whole evaluation on an NVIDIA GPU through Deno FFI, cuDNN for the
 * convolutions, cuBLAS for the Gram matrices and their gradients, NVRTC-compiled kernels for the
 * rest (kernels.ts). The image, activations, targets, gradient and the optimizer's vectors live in
 * device memory; one evaluation reads back only its loss terms (one copy of a few doubles).
 *
 * Precision (engine `cuda-fp32` / `cuda-tf32`, or the option): `tf32` (`cuda`'s default on GPUs
 * of compute capability ≥ 8.0, as PyTorch's convolutions) or `fp32`. Same recipe, seed, GPU model and
 * library versions give the same bytes: deterministic cuDNN algorithms chosen by heuristic, no
 * atomics in the kernels, fixed-order reductions.
 */
import type { VggWeights } from "../../models/weights_types.ts";
import { layersRead, type LossPlan, lossPlan } from "../../objective/terms.ts";
import { networkPlan, type Padding, planShape, type Pooling } from "../../plan/network.ts";
import type { Activation, ObjectiveSpec } from "../../objective/spec.ts";
import {
  type DisposableObjective,
  type Engine,
  type EngineProvider,
  EngineUnavailableError,
  type Evaluation,
  type LayerStatistics,
  type StatisticsRequest,
  type VectorOps,
} from "../engine.ts";
import { checkEngineImage } from "../engine_image.ts";
import { chwToHwc } from "../layout.ts";
import { CudaDevice, type DeviceArray } from "./device.ts";
import { EMULATED_FAULTS, emulatedCuda, type EmulatedFault } from "./emulated.ts";
import { type CudaApi, LIBRARY_SYMBOLS, type LibraryRole, openCuda } from "./ffi.ts";
import {
  type CudaLibraries,
  type CudaSearch,
  discoverCudaLibraries,
  missingLibrariesMessage,
} from "./libraries.ts";
import { CudaNetwork, type CudaPrecision, type DeviceConv, uploadWeights } from "./network.ts";
import { CudaSelfCheckError, selfCheck } from "./self_check.ts";
import { type DeviceTerm, deviceTerm } from "./terms.ts";
import { cudaVectorOps, type CudaVectors } from "./vector_ops.ts";

export type { CudaPrecision };

/** cublasMath_t values. */
const BLAS_MATH = { defaultMath: 0, tf32Math: 3 } as const;

/** The ObjectiveSpec fields this engine implements; any other option is refused, not ignored. */
const SUPPORTED_SPEC_FIELDS = new Set([
  "weights",
  "pooling",
  "height",
  "width",
  "content",
  "style",
  "contentWeight",
  "styleWeight",
  "tvWeight",
  "padding",
]);

/** The cuda engine on one opened device. */
export class CudaEngine implements Engine<DeviceArray> {
  /** `cuda`, or `cuda-fp32` / `cuda-tf32` when the precision was asked for by name. */
  readonly name: string;
  readonly vec: VectorOps<DeviceArray>;
  readonly #vectors: CudaVectors;
  readonly #weights = new Map<string, Map<string, DeviceConv>>();

  /** @param device the opened GPU @param precision fp32 or tf32 @param name the engine's name */
  constructor(readonly device: CudaDevice, readonly precision: CudaPrecision, name = "cuda") {
    this.name = name;
    this.#vectors = cudaVectorOps(device);
    this.vec = this.#vectors.ops;
    device.check.blas("cublasSetMathMode")(
      device.api.cublas.cublasSetMathMode(
        device.cublas,
        precision === "tf32" ? BLAS_MATH.tf32Math : BLAS_MATH.defaultMath,
      ),
    );
  }

  describe(): string {
    const i = this.device.info;
    return `cuda ${this.precision} on ${i.name} (sm ${i.computeCapability}; driver CUDA ` +
      `${i.driverVersion}, runtime ${i.runtimeVersion}, cuBLAS ${i.cublasVersion}, cuDNN ` +
      `${i.cudnnVersion}, NVRTC ${i.nvrtcVersion})`;
  }

  /** Device memory held by the engine now and at its peak, in bytes (for the benchmark). */
  memory(): { live: number; peak: number } {
    return this.device.memory();
  }

  extract(
    weights: VggWeights,
    pooling: Pooling,
    image: { height: number; width: number; data: Float32Array },
    layers: readonly string[],
    padding: Padding = "zero",
  ): Promise<Map<string, Activation>> {
    const { height, width, data } = image;
    checkEngineImage(data.length, height, width);
    const unique = [...new Set(layers)];
    const plan = networkPlan(weights, pooling, height, width, unique, padding);
    const network = new CudaNetwork(
      this.device,
      plan,
      this.#weightsOf(weights),
      this.precision,
      new Set(unique),
    );
    const x = this.device.upload(data);
    try {
      network.forward(x);
      const result = new Map<string, Activation>();
      for (const layer of unique) {
        const shape = planShape(plan, layer);
        const nchw = this.device.read(network.activations.get(layer)!);
        result.set(layer, { ...shape, data: chwToHwc(nchw, shape.channels) });
      }
      return Promise.resolve(result);
    } finally {
      this.device.free(x);
      network.dispose();
    }
  }

  /** Masked Gram and feature sums of the requested layers (forward only; tiled.ts's first pass). */
  statistics(
    weights: VggWeights,
    pooling: Pooling,
    image: { height: number; width: number; data: Float32Array },
    requests: readonly StatisticsRequest[],
    padding: Padding = "zero",
  ): Promise<LayerStatistics[]> {
    const { height, width, data } = image;
    checkEngineImage(data.length, height, width);
    const layers = new Set(requests.map((r) => r.layer));
    const plan = networkPlan(weights, pooling, height, width, [...layers], padding);
    const d = this.device;
    const network = new CudaNetwork(d, plan, this.#weightsOf(weights), this.precision, layers);
    const x = d.upload(data);
    const scratch: DeviceArray[] = [];
    const keep = (a: DeviceArray) => (scratch.push(a), a);
    try {
      network.forward(x);
      return Promise.resolve(requests.map((r) => {
        const { height: h, width: w, channels: c } = planShape(plan, r.layer);
        const hw = h * w;
        const m = keep(d.upload(r.mask));
        const rows = keep(d.alloc(c * hw));
        d.launch("mask_rows", c * hw, {
          f: network.activations.get(r.layer)!,
          m,
          out: rows,
          c,
          hw,
        });
        const gram = keep(d.alloc(c * c));
        const sum = keep(d.alloc(c));
        const ones = keep(d.upload(new Float32Array(hw).fill(1)));
        // Rows as the column-major hw × c matrix R: S = RᵀR, s = Rᵀ1.
        const gemm = (n: number, b: DeviceArray, out: DeviceArray) =>
          d.gemm({
            transA: true,
            transB: false,
            m: c,
            n,
            k: hw,
            alpha: 1,
            a: rows,
            lda: hw,
            b,
            ldb: hw,
            beta: 0,
            c: out,
            ldc: c,
          });
        gemm(c, rows, gram);
        gemm(1, ones, sum);
        return { gram: d.read(gram), sum: d.read(sum) };
      }));
    } finally {
      for (const a of scratch) d.free(a);
      d.free(x);
      network.dispose();
    }
  }

  objective(spec: ObjectiveSpec): Promise<DisposableObjective<DeviceArray>> {
    refuseUnsupported(spec);
    return this.planObjective(spec.weights, lossPlan(spec));
  }

  /** f and ∇f of a loss table (see {@link objective}). */
  planObjective(weights: VggWeights, plan: LossPlan): Promise<DisposableObjective<DeviceArray>> {
    const { height, width } = plan.network.input;
    // Whatever is built before a failure (a term, the network) is freed again.
    const terms: DeviceTerm[] = [];
    let network: CudaNetwork;
    try {
      for (const term of plan.terms) terms.push(deviceTerm(this.device, term, height, width));
      network = new CudaNetwork(
        this.device,
        plan.network,
        this.#weightsOf(weights),
        this.precision,
        new Set(layersRead(plan.terms)),
      );
    } catch (e) {
      for (const t of terms) t.dispose();
      throw e;
    }
    const device = this.device;
    const vectors = this.#vectors;
    // Each term writes its parts into its own run of double slots (a mean-covariance term: two).
    const firstSlot = terms.map((_, k) => terms.slice(0, k).reduce((a, t) => a + t.slots, 0));
    const slotCount = terms.reduce((a, t) => a + t.slots, 0);
    const slots = device.allocBytes(Math.max(1, slotCount) * 8);
    const tvWeight = plan.terms.reduce((acc, t) => acc + (t.kind === "tv" ? t.weight : 0), 0);
    let disposed = false;
    return Promise.resolve({
      evaluate(x: DeviceArray): Promise<Evaluation<DeviceArray>> {
        if (disposed) throw new Error("cuda objective used after dispose");
        if (!vectors.owns(x)) throw new RangeError("cuda objective: x is not a live cuda vector");
        checkEngineImage(x.length, height, width);
        network.forward(x);
        network.backward((layer, grad) => {
          terms.forEach((t, k) => {
            if (t.layer === layer) {
              t.lossAndGrad(network.activations.get(layer)!, grad, slots, firstSlot[k]);
            }
          });
        });
        terms.forEach((t, k) => {
          if (t.layer === undefined) t.lossAndGrad(x, undefined, slots, firstSlot[k]);
        });
        const grad = device.alloc(x.length);
        device.launch("image_grad", x.length, {
          g: plan.network.steps.length === 0 ? null : network.inputGrad,
          x,
          out: grad,
          h: height,
          w: width,
          tv_weight: tvWeight,
        });
        const values = device.readDoubles(slots, slotCount); // the one read-back
        const groups = { content: 0, style: 0, tv: 0 };
        terms.forEach((t, k) => {
          for (let i = 0; i < t.slots; i++) groups[t.group] += values[firstSlot[k] + i];
        });
        return Promise.resolve({
          loss: groups.content + groups.style + groups.tv,
          grad: vectors.adopt(grad),
          terms: groups,
        });
      },
      dispose() {
        if (disposed) return;
        disposed = true;
        for (const t of terms) t.dispose();
        network.dispose();
        device.freeBytes(slots, Math.max(1, slotCount) * 8);
      },
    });
  }

  dispose(): Promise<void> {
    for (const convs of this.#weights.values()) {
      for (const c of convs.values()) {
        this.device.free(c.kernel);
        this.device.free(c.bias);
      }
    }
    this.#weights.clear();
    this.#vectors.release();
    this.device.close();
    return Promise.resolve();
  }

  #weightsOf(weights: VggWeights): Map<string, DeviceConv> {
    let convs = this.#weights.get(weights.id);
    if (!convs) {
      convs = uploadWeights(this.device, weights);
      this.#weights.set(weights.id, convs);
    }
    return convs;
  }
}

/** Refuses spec options this engine does not implement (rather than computing something else). */
export function refuseUnsupported(spec: ObjectiveSpec): void {
  for (const [key, value] of Object.entries(spec)) {
    if (value === undefined || SUPPORTED_SPEC_FIELDS.has(key)) continue;
    throw new EngineUnavailableError(
      "cuda",
      `engine cuda does not support the loss option "${key}" yet; use engine onnx for it`,
    );
  }
}

/** How the engine is configured: where to look for libraries, the precision, the device. */
export interface CudaOptions {
  /** Default: this process's environment. */
  readonly search?: CudaSearch;
  /** Default: tf32 on compute capability ≥ 8.0 (as PyTorch's convolutions), else fp32. */
  readonly precision?: CudaPrecision;
  /**
   * The emulated device (emulated.ts) instead of a GPU, `true` or with a fault injected; default
   * from STYLEPIPE_CUDA_EMULATE (`1`, or a fault name).
   */
  readonly emulate?: boolean | EmulatedFault;
  /** Synchronize and check after every call; default STYLEPIPE_CUDA_SYNC=1. */
  readonly sync?: boolean;
}

/** STYLEPIPE_CUDA_EMULATE read: false, true, or a fault (an unknown value throws). */
export function emulationFromEnv(
  value = Deno.env.get("STYLEPIPE_CUDA_EMULATE"),
): boolean | EmulatedFault {
  if (value === undefined || value === "" || value === "0") return false;
  if (value === "1") return true;
  if ((EMULATED_FAULTS as readonly string[]).includes(value)) return value as EmulatedFault;
  throw new RangeError(
    `STYLEPIPE_CUDA_EMULATE=${value}: expected 1 or a fault (${EMULATED_FAULTS.join(", ")})`,
  );
}

/** The libraries here, or an EngineUnavailableError naming what is missing, where it looked and the install command. */
export function cudaLibrariesOrThrow(search: CudaSearch): CudaLibraries {
  const found = discoverCudaLibraries(search);
  if (!found.found) {
    throw new EngineUnavailableError(
      "cuda",
      missingLibrariesMessage(found.missing, found.searched),
    );
  }
  return found.libraries;
}

/** Opens the emulated device's libraries one role at a time (a fault may refuse one). */
function openEmulated(fault: EmulatedFault | undefined): CudaApi {
  const emulated = emulatedCuda(fault);
  for (const role of Object.keys(LIBRARY_SYMBOLS) as LibraryRole[]) emulated.load(role);
  return emulated.api;
}

/** Opens the GPU (or the emulated device) and builds the engine (throws EngineUnavailableError when it cannot). */
export function createCudaEngine(options: CudaOptions = {}): CudaEngine {
  const emulate = options.emulate ?? emulationFromEnv();
  const sync = options.sync ?? Deno.env.get("STYLEPIPE_CUDA_SYNC") === "1";
  const precisionAsked = options.precision;
  let device: CudaDevice;
  if (emulate) {
    try {
      device = new CudaDevice(openEmulated(emulate === true ? undefined : emulate), { sync });
    } catch (e) {
      throw new EngineUnavailableError(
        "cuda",
        `engine cuda could not start the emulated device: ${(e as Error).message}`,
      );
    }
  } else {
    const libs = cudaLibrariesOrThrow(options.search ?? { env: Deno.env.toObject() });
    try {
      device = new CudaDevice(openCuda(libs), { sync });
    } catch (e) {
      throw new EngineUnavailableError(
        "cuda",
        `engine cuda found its libraries (${libs.cudart}, ${libs.cudnn}, …) but could not start ` +
          `the GPU: ${(e as Error).message}`,
      );
    }
  }
  const ampere = Number(device.info.computeCapability.split(".")[0]) >= 8;
  if (precisionAsked === "tf32" && !ampere) {
    device.close();
    throw new EngineUnavailableError(
      "cuda",
      `precision tf32 needs compute capability ≥ 8.0; ${device.info.name} has ` +
        `${device.info.computeCapability} (use cuda-fp32)`,
    );
  }
  const name = precisionAsked ? `cuda-${precisionAsked}` : "cuda";
  return new CudaEngine(device, precisionAsked ?? (ampere ? "tf32" : "fp32"), name);
}

/** Self-checks run in this process, per device kind and precision. */
const selfChecks = new Map<string, Promise<void>>();

/**
 * {@link createCudaEngine}, then the self-check (self_check.ts) on the first engine of each
 * precision in this process: an engine that fails it is disposed and refused with
 * CudaSelfCheckError.
 */
export async function startCudaEngine(options: CudaOptions = {}): Promise<CudaEngine> {
  const engine = createCudaEngine(options);
  const key = `${options.emulate ?? emulationFromEnv()}/${engine.precision}`;
  let check = selfChecks.get(key);
  if (!check) {
    check = selfCheck(engine as Engine, engine.precision);
    selfChecks.set(key, check);
  }
  try {
    await check;
  } catch (e) {
    await engine.dispose();
    throw e;
  }
  return engine;
}

/** Whether this machine has an NVIDIA GPU (its driver's control device exists). */
export function nvidiaGpuPresent(): boolean {
  try {
    Deno.statSync("/dev/nvidiactl");
    return true;
  } catch {
    return false;
  }
}

/** Whether the engine could start here, cached for the process (opening a GPU is not free). */
let availability: Promise<boolean> | undefined;
/** Why the engine is not used although CUDA is installed here (set by the availability probe). */
let skipReason: string | undefined;

function cudaAvailable(): Promise<boolean> {
  availability ??= (async () => {
    const emulate = emulationFromEnv();
    if (!emulate && !discoverCudaLibraries({ env: Deno.env.toObject() }).found) return false;
    try {
      const engine = await startCudaEngine();
      await engine.dispose();
      return true;
    } catch (e) {
      // Libraries without a GPU (pip's torch on a laptop) are no news; a GPU that fails is.
      if (e instanceof CudaSelfCheckError || nvidiaGpuPresent()) skipReason = (e as Error).message;
      return false;
    }
  })();
  return availability;
}

/**
 * Why `auto` passes over cuda: it failed its self-check, or could not start on a machine with an
 * NVIDIA GPU; known once {@link cudaProvider}'s `available()` has answered, else undefined.
 */
export function cudaSkipReason(): string | undefined {
  return skipReason;
}

export { CudaSelfCheckError };

/**
 * How the registry finds and creates the cuda engine: `cuda` runs at the GPU's default precision;
 * `cuda-fp32` and `cuda-tf32` name it, so that it enters cache keys and the provenance.
 */
function cudaProviderFor(precision?: CudaPrecision): EngineProvider {
  return {
    name: precision ? `cuda-${precision}` : "cuda",
    available: cudaAvailable,
    create: async () => await startCudaEngine({ precision }) as Engine,
  };
}

/** `cuda`: the GPU's default precision (tf32 on compute capability ≥ 8.0, else fp32). */
export const cudaProvider: EngineProvider = cudaProviderFor();
/** `cuda-fp32`: FMA maths in cuDNN, cuBLAS's default maths. */
export const cudaFp32Provider: EngineProvider = cudaProviderFor("fp32");
/** `cuda-tf32`: TF32 tensor cores in cuDNN and cuBLAS (compute capability ≥ 8.0). */
export const cudaTf32Provider: EngineProvider = cudaProviderFor("tf32");
