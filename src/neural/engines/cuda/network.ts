/**
 * The plan's forward pass and its input gradient on the device: cuDNN 3×3 convolutions (forward
 * and backward-data, deterministic algorithms), bias, ReLU and 2×2 pooling by the engine's kernels.
 * A reflect/replicate-padded first conv (plan/network.ts Padding) reads the image padded by
 * pad_forward with cuDNN padding 0, and pad_backward folds its input gradient back onto the image.
 * Activations are NCHW and stay allocated for the network's life (they are the backward pass's
 * inputs); the gradient flows through two ping-pong buffers the size of the largest activation.
 */
import type { NetworkPlan, NetworkStep } from "../../plan/network.ts";
import { CAFFE_MEAN_BGR } from "../../models/weights_types.ts";
import type { VggWeights } from "../../models/weights_types.ts";
import { type CudaDevice, DeviceArray } from "./device.ts";
import { outPointer } from "./ffi.ts";
import { oihwKernel } from "../layout.ts";

/** `fp32`: IEEE float32 FMA everywhere; `tf32`: tensor cores with TF32 inputs (as PyTorch's default convs). */
export type CudaPrecision = "fp32" | "tf32";

/** One convolution's weights on the device, OIHW (cuDNN's KCRS). */
export interface DeviceConv {
  readonly kernel: DeviceArray;
  readonly bias: DeviceArray;
  readonly inChannels: number;
  readonly outChannels: number;
}

/** Uploads every conv of `weights` (HWIO → OIHW). */
export function uploadWeights(device: CudaDevice, weights: VggWeights): Map<string, DeviceConv> {
  const out = new Map<string, DeviceConv>();
  for (const [name, conv] of weights.convs) {
    const { kernel, inChannels, outChannels } = oihwKernel(conv);
    out.set(name, {
      kernel: device.upload(kernel),
      bias: device.upload(conv.bias),
      inChannels,
      outChannels,
    });
  }
  return out;
}

/** cuDNN enum values used here. */
const DNN = {
  nchw: 0,
  float: 0,
  crossCorrelation: 1,
  defaultMath: 0,
  fmaMath: 3,
  deterministic: 1,
  fwdAlgoCount: 8,
  bwdDataAlgoCount: 6,
} as const;
/** cudnnConvolution*AlgoPerf_t: 48 bytes; algo @0, status @4, memory @16, determinism @24, mathType @28. */
const PERF_BYTES = 48;
/** Largest cuDNN workspace an algorithm may ask for. */
const MAX_WORKSPACE = 1 << 30;

/** The cuDNN state of one conv step at this size. */
interface ConvStep {
  readonly step: Extract<NetworkStep, { kind: "conv" }>;
  readonly weights: DeviceConv;
  readonly xDesc: Deno.PointerValue;
  readonly yDesc: Deno.PointerValue;
  readonly wDesc: Deno.PointerValue;
  readonly fwdDesc: Deno.PointerValue;
  readonly bwdDesc: Deno.PointerValue;
  readonly fwdAlgo: number;
  readonly bwdAlgo: number;
}

/** The plan's layers on the device at one input size. */
export class CudaNetwork {
  /** Each step's output by layer name (a ReLU that no one reads before it shares its conv's buffer). */
  readonly activations = new Map<string, DeviceArray>();
  /** The preprocessed image, NCHW BGR. */
  readonly input: DeviceArray;
  /** The network's input gradient, NCHW BGR (before the image's HWC RGB). */
  readonly inputGrad: DeviceArray;
  /** The first conv's padded input and its gradient, [3, H + 2, W + 2] (reflect/replicate only). */
  readonly #padded?: {
    readonly input: DeviceArray;
    readonly grad: DeviceArray;
    readonly reflect: number;
  };
  readonly #device: CudaDevice;
  readonly #plan: NetworkPlan;
  readonly #convs = new Map<string, ConvStep>();
  readonly #owned: DeviceArray[] = [];
  readonly #descriptors: { ptr: Deno.PointerValue; destroy: (p: Deno.PointerValue) => number }[] =
    [];
  readonly #workspace: { ptr: Deno.PointerValue; bytes: number };
  readonly #grads: [DeviceArray, DeviceArray];

  /**
   * @param read layers whose values a loss term or extract reads (a `conv*` read keeps its own
   * buffer apart from its ReLU's)
   */
  constructor(
    device: CudaDevice,
    plan: NetworkPlan,
    weights: ReadonlyMap<string, DeviceConv>,
    precision: CudaPrecision,
    read: ReadonlySet<string>,
  ) {
    this.#device = device;
    this.#plan = plan;
    const { height, width } = plan.input;
    this.input = this.#alloc(3 * height * width);
    this.inputGrad = this.#alloc(3 * height * width);
    const first = plan.steps[0];
    if (first?.kind === "conv" && first.padding !== "zero") {
      const size = 3 * (height + 2) * (width + 2);
      const reflect = first.padding === "reflect" ? 1 : 0;
      this.#padded = { input: this.#alloc(size), grad: this.#alloc(size), reflect };
    }
    let largest = 3 * height * width;
    let workspace = 0;
    for (const step of plan.steps) {
      const { height: h, width: w, channels: c } = step.output;
      largest = Math.max(largest, c * h * w);
      if (step.kind === "relu" && !read.has(step.conv)) {
        this.activations.set(step.name, this.activations.get(step.conv)!);
        continue;
      }
      this.activations.set(step.name, this.#alloc(c * h * w));
      if (step.kind !== "conv") continue;
      const conv = this.#convStep(step, weights.get(step.name)!, precision);
      this.#convs.set(step.name, conv.state);
      workspace = Math.max(workspace, conv.workspace);
    }
    this.#workspace = {
      ptr: device.allocBytes(Math.max(workspace, 8)),
      bytes: Math.max(workspace, 8),
    };
    this.#grads = [this.#alloc(largest), this.#alloc(largest)];
  }

  /** Runs the plan on the HWC RGB image `x` (device, 0–255). */
  forward(x: DeviceArray): void {
    const d = this.#device;
    const { height, width } = this.#plan.input;
    d.launch("preprocess", height * width, [
      { p: x.ptr },
      { p: this.input.ptr },
      { i: height * width },
      { f: CAFFE_MEAN_BGR[0] },
      { f: CAFFE_MEAN_BGR[1] },
      { f: CAFFE_MEAN_BGR[2] },
    ]);
    let current = this.input;
    const padded = this.#padded;
    if (padded) {
      d.launch("pad_forward", 3 * (height + 2) * (width + 2), [
        { p: this.input.ptr },
        { p: padded.input.ptr },
        { i: 3 },
        { i: height },
        { i: width },
        { i: padded.reflect },
      ]);
      current = padded.input;
    }
    for (const step of this.#plan.steps) {
      const out = this.activations.get(step.name)!;
      const { height: h, width: w, channels: c } = step.output;
      if (step.kind === "conv") {
        const conv = this.#convs.get(step.name)!;
        d.dnnCheck(`cudnnConvolutionForward(${step.name})`)(
          d.api.cudnn.cudnnConvolutionForward(
            d.cudnn,
            ONE,
            conv.xDesc,
            current.ptr,
            conv.wDesc,
            conv.weights.kernel.ptr,
            conv.fwdDesc,
            conv.fwdAlgo,
            this.#workspace.ptr,
            BigInt(this.#workspace.bytes),
            ZERO,
            conv.yDesc,
            out.ptr,
          ),
        );
        d.launch("add_bias", c * h * w, [{ p: out.ptr }, { p: conv.weights.bias.ptr }, { i: c }, {
          i: h * w,
        }]);
      } else if (step.kind === "relu") {
        d.launch("relu", c * h * w, [{ p: current.ptr }, { p: out.ptr }, { l: c * h * w }]);
      } else {
        d.launch("pool_forward", c * h * w, [
          { p: current.ptr },
          { p: out.ptr },
          { i: c },
          { i: step.input.height },
          { i: step.input.width },
          { i: this.#plan.pooling === "max" ? 1 : 0 },
        ]);
      }
      current = out;
    }
  }

  /**
   * The input gradient into {@link inputGrad}, after {@link forward}: walking the steps backward,
   * `inject(layer, grad)` adds the loss terms' gradients for `layer` into `grad` (the gradient of
   * the loss with respect to that layer's output, NCHW), which then flows on to the input.
   */
  backward(inject: (layer: string, grad: DeviceArray) => void): void {
    const d = this.#device;
    const steps = this.#plan.steps;
    if (steps.length === 0) {
      d.zero(this.inputGrad);
      return;
    }
    let [g, spare] = this.#grads;
    const view = (buffer: DeviceArray, n: number) => new DeviceArray(buffer.ptr, n);
    const last = steps.at(-1)!.output;
    let grad = view(g, last.channels * last.height * last.width);
    d.zero(grad);
    for (let k = steps.length - 1; k >= 0; k--) {
      const step = steps[k];
      inject(step.name, grad);
      const inputOf = k === 0 ? this.input : this.activations.get(steps[k - 1].name)!;
      if (step.kind === "relu") {
        d.launch("relu_grad", grad.length, [
          { p: grad.ptr },
          { p: this.activations.get(step.name)!.ptr },
          { l: grad.length },
        ]);
        continue;
      }
      const { height: H, width: W, channels: C } = step.input;
      const first = step.kind === "conv" && step.first;
      const target = first ? (this.#padded?.grad ?? this.inputGrad) : view(spare, C * H * W);
      if (step.kind === "conv") {
        const conv = this.#convs.get(step.name)!;
        d.dnnCheck(`cudnnConvolutionBackwardData(${step.name})`)(
          d.api.cudnn.cudnnConvolutionBackwardData(
            d.cudnn,
            ONE,
            conv.wDesc,
            conv.weights.kernel.ptr,
            conv.yDesc,
            grad.ptr,
            conv.bwdDesc,
            conv.bwdAlgo,
            this.#workspace.ptr,
            BigInt(this.#workspace.bytes),
            ZERO,
            conv.xDesc,
            target.ptr,
          ),
        );
      } else {
        d.launch("pool_backward", C * H * W, [
          { p: grad.ptr },
          { p: inputOf.ptr },
          { p: target.ptr },
          { i: C },
          { i: H },
          { i: W },
          { i: this.#plan.pooling === "max" ? 1 : 0 },
        ]);
      }
      if (first) {
        if (this.#padded) {
          d.launch("pad_backward", C * H * W, [
            { p: this.#padded.grad.ptr },
            { p: this.inputGrad.ptr },
            { i: C },
            { i: H },
            { i: W },
            { i: this.#padded.reflect },
          ]);
        }
        return;
      }
      [g, spare] = [spare, g];
      grad = target;
    }
    throw new Error("the plan does not start with its first conv");
  }

  /** Frees the network's buffers and descriptors (not the weights). */
  dispose(): void {
    for (const a of this.#owned) this.#device.free(a);
    this.#owned.length = 0;
    this.#device.freeBytes(this.#workspace.ptr, this.#workspace.bytes);
    for (const { ptr, destroy } of this.#descriptors) destroy(ptr);
    this.#descriptors.length = 0;
  }

  #alloc(length: number): DeviceArray {
    const a = this.#device.alloc(length);
    this.#owned.push(a);
    return a;
  }

  #convStep(
    step: Extract<NetworkStep, { kind: "conv" }>,
    weights: DeviceConv,
    precision: CudaPrecision,
  ): { state: ConvStep; workspace: number } {
    const d = this.#device;
    const dnn = d.api.cudnn;
    const tensor = (c: number, h: number, w: number) => {
      const ptr = outPointer(
        (cell) => dnn.cudnnCreateTensorDescriptor(cell),
        d.dnnCheck("cudnnCreateTensorDescriptor"),
      );
      this.#descriptors.push({ ptr, destroy: dnn.cudnnDestroyTensorDescriptor });
      d.dnnCheck("cudnnSetTensor4dDescriptor")(
        dnn.cudnnSetTensor4dDescriptor(ptr, DNN.nchw, DNN.float, 1, c, h, w),
      );
      return ptr;
    };
    // A padded conv reads its input with the border already in place (cuDNN padding 0).
    const pad = step.padding === "zero" ? 1 : 0;
    const xDesc = tensor(
      step.input.channels,
      step.input.height + 2 - 2 * pad,
      step.input.width + 2 - 2 * pad,
    );
    const yDesc = tensor(step.output.channels, step.output.height, step.output.width);
    const wDesc = outPointer(
      (cell) => dnn.cudnnCreateFilterDescriptor(cell),
      d.dnnCheck("cudnnCreateFilterDescriptor"),
    );
    this.#descriptors.push({ ptr: wDesc, destroy: dnn.cudnnDestroyFilterDescriptor });
    d.dnnCheck("cudnnSetFilter4dDescriptor")(
      dnn.cudnnSetFilter4dDescriptor(
        wDesc,
        DNN.float,
        DNN.nchw,
        weights.outChannels,
        weights.inChannels,
        3,
        3,
      ),
    );
    const convDesc = () => {
      const ptr = outPointer(
        (cell) => dnn.cudnnCreateConvolutionDescriptor(cell),
        d.dnnCheck("cudnnCreateConvolutionDescriptor"),
      );
      this.#descriptors.push({ ptr, destroy: dnn.cudnnDestroyConvolutionDescriptor });
      d.dnnCheck("cudnnSetConvolution2dDescriptor")(
        dnn.cudnnSetConvolution2dDescriptor(
          ptr,
          pad,
          pad,
          1,
          1,
          1,
          1,
          DNN.crossCorrelation,
          DNN.float,
        ),
      );
      d.dnnCheck("cudnnSetConvolutionMathType")(
        dnn.cudnnSetConvolutionMathType(
          ptr,
          precision === "fp32" ? DNN.fmaMath : DNN.defaultMath,
        ),
      );
      return ptr;
    };
    const fwdDesc = convDesc(), bwdDesc = convDesc();
    const perf = new Uint8Array(PERF_BYTES * DNN.fwdAlgoCount);
    const count = new Int32Array(1);
    d.dnnCheck("cudnnGetConvolutionForwardAlgorithm_v7")(
      dnn.cudnnGetConvolutionForwardAlgorithm_v7(
        d.cudnn,
        xDesc,
        wDesc,
        fwdDesc,
        yDesc,
        DNN.fwdAlgoCount,
        count,
        perf,
      ),
    );
    const fwd = pickAlgorithm(perf, count[0], precision, `${step.name} forward`);
    d.dnnCheck("cudnnSetConvolutionMathType")(dnn.cudnnSetConvolutionMathType(fwdDesc, fwd.math));
    d.dnnCheck("cudnnGetConvolutionBackwardDataAlgorithm_v7")(
      dnn.cudnnGetConvolutionBackwardDataAlgorithm_v7(
        d.cudnn,
        wDesc,
        yDesc,
        bwdDesc,
        xDesc,
        DNN.bwdDataAlgoCount,
        count,
        perf,
      ),
    );
    const bwd = pickAlgorithm(perf, count[0], precision, `${step.name} backward-data`);
    d.dnnCheck("cudnnSetConvolutionMathType")(dnn.cudnnSetConvolutionMathType(bwdDesc, bwd.math));
    return {
      state: {
        step,
        weights,
        xDesc,
        yDesc,
        wDesc,
        fwdDesc,
        bwdDesc,
        fwdAlgo: fwd.algo,
        bwdAlgo: bwd.algo,
      },
      workspace: Math.max(fwd.memory, bwd.memory),
    };
  }
}

/**
 * The first of cuDNN's heuristic ranking that succeeded, is deterministic, fits the workspace and,
 * for fp32, uses FMA math (no TF32). The heuristic (not a timed search) makes the choice the same
 * on every run with the same GPU and library, so that the same recipe gives the same bytes.
 */
export function pickAlgorithm(
  perf: Uint8Array,
  count: number,
  precision: CudaPrecision,
  what: string,
): { algo: number; math: number; memory: number } {
  const view = new DataView(perf.buffer, perf.byteOffset, perf.byteLength);
  const seen: string[] = [];
  for (let k = 0; k < count; k++) {
    const at = k * PERF_BYTES;
    const algo = view.getInt32(at, true);
    const status = view.getInt32(at + 4, true);
    const memory = Number(view.getBigUint64(at + 16, true));
    const determinism = view.getInt32(at + 24, true);
    const math = view.getInt32(at + 28, true);
    seen.push(`algo ${algo} status ${status} det ${determinism} math ${math} ws ${memory}`);
    if (status !== 0 || determinism !== DNN.deterministic || memory > MAX_WORKSPACE) continue;
    if (precision === "fp32" && math !== DNN.fmaMath) continue;
    return { algo, math, memory };
  }
  throw new Error(
    `cuDNN offers no deterministic ${precision} algorithm for ${what} (${seen.join("; ")})`,
  );
}

const ONE = new Float32Array([1]);
const ZERO = new Float32Array([0]);
