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
import { lossPlan, type LossTerm } from "../../objective/terms.ts";
import { networkPlan, type Padding, planShape, type Pooling } from "../../plan/network.ts";
import type { Activation, ObjectiveSpec } from "../../objective/spec.ts";
import {
  type DisposableObjective,
  type Engine,
  type EngineProvider,
  EngineUnavailableError,
  type Evaluation,
  type VectorOps,
} from "../engine.ts";
import { type CudaDevice, type DeviceArray, openDevice } from "./device.ts";
import { checkEngineImage } from "../engine_image.ts";
import { chwToHwc, hwcToChw } from "../layout.ts";
import {
  type CudaLibraries,
  type CudaSearch,
  discoverCudaLibraries,
  missingLibrariesMessage,
} from "./libraries.ts";
import { CudaNetwork, type CudaPrecision, type DeviceConv, uploadWeights } from "./network.ts";
import { cudaVectorOps, type CudaVectors } from "./vector_ops.ts";

export type { CudaPrecision };

/** cublasOperation_t / cublasMath_t values. */
const BLAS = { n: 0, t: 1, defaultMath: 0, tf32Math: 3 } as const;

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
    device.blasCheck("cublasSetMathMode")(
      device.api.cublas.cublasSetMathMode(
        device.cublas,
        precision === "tf32" ? BLAS.tf32Math : BLAS.defaultMath,
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

  objective(spec: ObjectiveSpec): Promise<DisposableObjective<DeviceArray>> {
    refuseUnsupported(spec);
    const plan = lossPlan(spec);
    const terms = plan.terms.map((term) => this.#deviceTerm(term, spec.height, spec.width));
    const read = new Set(plan.terms.flatMap((t) => ("layer" in t ? [t.layer] : [])));
    const network = new CudaNetwork(
      this.device,
      plan.network,
      this.#weightsOf(spec.weights),
      this.precision,
      read,
    );
    const device = this.device;
    const vectors = this.#vectors;
    // Each term writes its parts into its own run of double slots (a mean-covariance term: two).
    const firstSlot = terms.map((_, k) => terms.slice(0, k).reduce((a, t) => a + t.slots, 0));
    const slotCount = terms.reduce((a, t) => a + t.slots, 0);
    const slots = device.allocBytes(Math.max(1, slotCount) * 8);
    const { height, width } = spec;
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
        device.launch("image_grad", x.length, [
          { p: plan.network.steps.length === 0 ? null : network.inputGrad.ptr },
          { p: x.ptr },
          { p: grad.ptr },
          { i: height },
          { i: width },
          { f: tvWeight },
        ]);
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

  /** One loss term on the device: its targets uploaded, its loss into a slot, its gradient added. */
  #deviceTerm(term: LossTerm, height: number, width: number): DeviceTerm {
    const d = this.device;
    const owned: DeviceArray[] = [];
    const upload = (a: Float32Array) => {
      const out = d.upload(a);
      owned.push(out);
      return out;
    };
    const scratch = (n: number) => {
      const out = d.alloc(n);
      owned.push(out);
      return out;
    };
    const dispose = () => owned.forEach((a) => d.free(a));
    switch (term.kind) {
      case "content": {
        const { height: h, width: w, channels: c } = term.shape;
        const n = h * w * c;
        const target = upload(hwcToChw(term.target, c));
        return {
          layer: term.layer,
          group: "content",
          slots: 1,
          dispose,
          lossAndGrad(f, grad, slots, slot) {
            d.reduce("sqdiff", slots, slot, term.weight / n, f, target);
            d.launch("content_grad", n, [
              { p: grad!.ptr },
              { p: f.ptr },
              { p: target.ptr },
              { l: n },
              { f: 2 * term.weight / n },
            ]);
          },
        };
      }
      case "gram":
      case "masked-gram": {
        const { height: h, width: w, channels: c } = term.shape;
        const hw = h * w;
        const target = upload(term.gram);
        const gram = scratch(c * c);
        const factor = scratch(c * c);
        const mask = term.kind === "masked-gram" ? upload(term.mask) : undefined;
        const masked = mask ? scratch(c * hw) : undefined;
        const product = mask ? scratch(c * hw) : undefined;
        const norm = 1 / (hw * c);
        return {
          layer: term.layer,
          group: "style",
          slots: 1,
          dispose,
          lossAndGrad: (f, grad, slots, slot) => {
            let features = f;
            if (mask) {
              d.launch("mask_rows", c * hw, [{ p: f.ptr }, { p: mask.ptr }, { p: masked!.ptr }, {
                i: c,
              }, { i: hw }]);
              features = masked!;
            }
            // F as column-major hw × c (NCHW): G = norm · Fᵀ F, c × c.
            this.#gemm(BLAS.t, BLAS.n, c, c, hw, norm, features, hw, features, hw, 0, gram, c);
            d.reduce("sqdiff", slots, slot, term.weight / (c * c), gram, target);
            d.launch("gram_diff", c * c, [
              { p: gram.ptr },
              { p: target.ptr },
              { p: factor.ptr },
              { i: c },
              { f: 4 * term.weight * norm / (c * c) },
            ]);
            // dL/dF = F · D (D symmetric): straight into the layer's gradient, or through the mask.
            if (!mask) {
              this.#gemm(BLAS.n, BLAS.n, hw, c, c, 1, features, hw, factor, c, 1, grad!, hw);
              return;
            }
            this.#gemm(BLAS.n, BLAS.n, hw, c, c, 1, features, hw, factor, c, 0, product!, hw);
            d.launch("mask_rows_acc", c * hw, [
              { p: grad!.ptr },
              { p: product!.ptr },
              { p: mask.ptr },
              { i: c },
              { i: hw },
            ]);
          },
        };
      }
      case "mean-covariance": {
        const { height: h, width: w, channels: c } = term.shape;
        const hw = h * w;
        const covTarget = upload(term.covariance);
        const meanTarget = upload(term.mean);
        const ones = upload(new Float32Array(hw).fill(1));
        const mean = scratch(c);
        const meanDiff = scratch(c);
        const centred = scratch(c * hw);
        const covariance = scratch(c * c);
        const factor = scratch(c * c);
        const meanWeight = term.weight * term.meanWeight;
        return {
          layer: term.layer,
          group: "style",
          slots: 2,
          dispose,
          lossAndGrad: (f, grad, slots, slot) => {
            // F column-major hw × c (NCHW): μ = Fᵀ1/hw; R = F − 1μᵀ; Σ = RᵀR/(hw·c).
            this.#gemm(BLAS.t, BLAS.n, c, 1, hw, 1 / hw, f, hw, ones, hw, 0, mean, c);
            d.copy(centred, f);
            this.#gemm(BLAS.n, BLAS.t, hw, c, 1, -1, ones, hw, mean, c, 1, centred, hw);
            this.#gemm(
              BLAS.t,
              BLAS.n,
              c,
              c,
              hw,
              1 / (hw * c),
              centred,
              hw,
              centred,
              hw,
              0,
              covariance,
              c,
            );
            d.reduce("sqdiff", slots, slot, term.weight / (c * c), covariance, covTarget);
            d.reduce("sqdiff", slots, slot + 1, meanWeight / c, mean, meanTarget);
            // dL/dF = R · 4w(Σ − S)/(hw·c³) + 1 · 2wλ(μ − m)ᵀ/(hw·c) (R's zero column sums drop
            // the centring's own term, as in onnx/backward.ts).
            d.launch("gram_diff", c * c, [
              { p: covariance.ptr },
              { p: covTarget.ptr },
              { p: factor.ptr },
              { i: c },
              { f: 4 * term.weight / (hw * c * c * c) },
            ]);
            this.#gemm(BLAS.n, BLAS.n, hw, c, c, 1, centred, hw, factor, c, 1, grad!, hw);
            d.launch("v_sub", c, [{ l: c }, { p: mean.ptr }, { p: meanTarget.ptr }, {
              p: meanDiff.ptr,
            }]);
            const coef = 2 * meanWeight / (hw * c);
            this.#gemm(BLAS.n, BLAS.t, hw, c, 1, coef, ones, hw, meanDiff, c, 1, grad!, hw);
          },
        };
      }
      case "tv": {
        return {
          layer: undefined,
          group: "tv",
          slots: 1,
          dispose,
          // The gradient is added where the image gradient is assembled (image_grad).
          lossAndGrad(x, _grad, slots, slot) {
            d.reduce("tv", slots, slot, term.weight, x, undefined, [height, width]);
          },
        };
      }
      default: {
        const kind: never = term;
        throw new EngineUnavailableError(
          "cuda",
          `engine cuda does not implement the loss term ${
            (kind as { kind: string }).kind
          } yet; use engine onnx`,
        );
      }
    }
  }

  #gemm(
    ta: number,
    tb: number,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: DeviceArray,
    lda: number,
    b: DeviceArray,
    ldb: number,
    beta: number,
    c: DeviceArray,
    ldc: number,
  ): void {
    const d = this.device;
    d.blasCheck("cublasSgemm_v2")(
      d.api.cublas.cublasSgemm_v2(
        d.cublas,
        ta,
        tb,
        m,
        n,
        k,
        new Float32Array([alpha]),
        a.ptr,
        lda,
        b.ptr,
        ldb,
        new Float32Array([beta]),
        c.ptr,
        ldc,
      ),
    );
  }
}

/** A loss term as the objective runs it. */
interface DeviceTerm {
  /** The layer it reads (undefined: the image). */
  readonly layer: string | undefined;
  readonly group: "content" | "style" | "tv";
  /** How many double slots its parts take (their sum is the term). */
  readonly slots: number;
  /** Writes the weighted term's parts into the doubles `slots[slot…]`, adds its gradient into `grad`. */
  lossAndGrad(
    values: DeviceArray,
    grad: DeviceArray | undefined,
    slots: Deno.PointerValue,
    slot: number,
  ): void;
  dispose(): void;
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

/** How the engine is configured: where to look for libraries, and the precision. */
export interface CudaOptions {
  /** Default: this process's environment. */
  readonly search?: CudaSearch;
  /** Default: tf32 on compute capability ≥ 8.0 (as PyTorch's convolutions), else fp32. */
  readonly precision?: CudaPrecision;
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

/** Opens the GPU and builds the engine (throws EngineUnavailableError when it cannot). */
export function createCudaEngine(options: CudaOptions = {}): CudaEngine {
  const search = options.search ?? { env: Deno.env.toObject() };
  const precisionAsked = options.precision;
  const libs = cudaLibrariesOrThrow(search);
  let device: CudaDevice;
  try {
    device = openDevice(libs);
  } catch (e) {
    throw new EngineUnavailableError(
      "cuda",
      `engine cuda found its libraries (${libs.cudart}, ${libs.cudnn}, …) but could not start ` +
        `the GPU: ${(e as Error).message}`,
    );
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

/** Whether the engine could start here, cached for the process (opening a GPU is not free). */
let availability: Promise<boolean> | undefined;

function cudaAvailable(): Promise<boolean> {
  availability ??= (async () => {
    try {
      if (!discoverCudaLibraries({ env: Deno.env.toObject() }).found) return false;
      const engine = createCudaEngine();
      await engine.dispose();
      return true;
    } catch {
      return false;
    }
  })();
  return availability;
}

/**
 * How the registry finds and creates the cuda engine: `cuda` runs at the GPU's default precision;
 * `cuda-fp32` and `cuda-tf32` name it, so that it enters cache keys and the provenance.
 */
function cudaProviderFor(precision?: CudaPrecision): EngineProvider {
  return {
    name: precision ? `cuda-${precision}` : "cuda",
    available: cudaAvailable,
    create: () => Promise.resolve(createCudaEngine({ precision }) as Engine),
  };
}

/** `cuda`: the GPU's default precision (tf32 on compute capability ≥ 8.0, else fp32). */
export const cudaProvider: EngineProvider = cudaProviderFor();
/** `cuda-fp32`: FMA maths in cuDNN, cuBLAS's default maths. */
export const cudaFp32Provider: EngineProvider = cudaProviderFor("fp32");
/** `cuda-tf32`: TF32 tensor cores in cuDNN and cuBLAS (compute capability ≥ 8.0). */
export const cudaTf32Provider: EngineProvider = cudaProviderFor("tf32");
