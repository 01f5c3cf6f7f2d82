/**
 * The plan's forward pass and its input gradient on the device: cuDNN 3×3 convolutions (forward
 * and backward-data, deterministic algorithms), bias, ReLU and 2×2 pooling by the engine's kernels.
 * A reflect/replicate-padded first conv (plan/network.ts Padding) reads the image padded by
 * pad_forward with cuDNN padding 0, and pad_backward folds its input gradient back onto the image.
 * Activations are NCHW and stay allocated for the network's life (they are the backward pass's
 * inputs); the gradient flows through two ping-pong buffers the size of the largest activation.
 */
import type { NetworkPlan } from "../../plan/network.ts";
import { CAFFE_MEAN_BGR } from "../../models/weights_types.ts";
import type { VggWeights } from "../../models/weights_types.ts";
import { ConvDescriptors, type CudaPrecision } from "./conv_algorithms.ts";
import { type CudaDevice, DeviceArray } from "./device.ts";
import { oihwKernel } from "../layout.ts";

export type { CudaPrecision };

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

/** The cuDNN state of one conv step at this size. */
interface ConvStep {
  readonly weights: DeviceConv;
  readonly descriptors: ConvDescriptors;
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
  #workspace = { ptr: null as Deno.PointerValue, bytes: 0 };
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
    try {
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
        const conv = weights.get(step.name)!;
        // A padded conv reads its input with the border already in place (cuDNN padding 0).
        const pad = step.padding === "zero" ? 1 : 0;
        const descriptors = new ConvDescriptors(
          device,
          {
            inChannels: conv.inChannels,
            outChannels: conv.outChannels,
            height: step.input.height + 2 - 2 * pad,
            width: step.input.width + 2 - 2 * pad,
            pad,
          },
          precision,
          step.name,
        );
        this.#convs.set(step.name, { weights: conv, descriptors });
        workspace = Math.max(workspace, descriptors.workspace);
      }
      const bytes = Math.max(workspace, 8);
      this.#workspace = { ptr: device.allocBytes(bytes), bytes };
      this.#grads = [this.#alloc(largest), this.#alloc(largest)];
    } catch (e) {
      this.dispose(); // a constructor that throws leaves no device memory behind
      throw e;
    }
  }

  /** Runs the plan on the HWC RGB image `x` (device, 0–255). */
  forward(x: DeviceArray): void {
    const d = this.#device;
    const { height, width } = this.#plan.input;
    d.launch("preprocess", height * width, {
      x,
      out: this.input,
      hw: height * width,
      mean_b: CAFFE_MEAN_BGR[0],
      mean_g: CAFFE_MEAN_BGR[1],
      mean_r: CAFFE_MEAN_BGR[2],
    });
    let current = this.input;
    const padded = this.#padded;
    if (padded) {
      d.launch("pad_forward", 3 * (height + 2) * (width + 2), {
        in: this.input,
        out: padded.input,
        c: 3,
        H: height,
        W: width,
        reflect: padded.reflect,
      });
      current = padded.input;
    }
    for (const step of this.#plan.steps) {
      const out = this.activations.get(step.name)!;
      const { height: h, width: w, channels: c } = step.output;
      if (step.kind === "conv") {
        const { weights, descriptors: desc } = this.#convs.get(step.name)!;
        const call = `cudnnConvolutionForward(${step.name})`;
        d.check.dnn(call)(
          d.api.cudnn.cudnnConvolutionForward(
            d.cudnn,
            ONE,
            desc.x,
            current.ptr,
            desc.w,
            weights.kernel.ptr,
            desc.forwardConv,
            desc.forward.algo,
            this.#workspace.ptr,
            BigInt(this.#workspace.bytes),
            ZERO,
            desc.y,
            out.ptr,
          ),
        );
        d.afterCall(call);
        d.launch("add_bias", c * h * w, { y: out, bias: weights.bias, c, hw: h * w });
      } else if (step.kind === "relu") {
        d.launch("relu", c * h * w, { in: current, out, n: c * h * w });
      } else {
        d.launch("pool_forward", c * h * w, {
          in: current,
          out,
          c,
          H: step.input.height,
          W: step.input.width,
          is_max: this.#plan.pooling === "max" ? 1 : 0,
        });
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
        d.launch("relu_grad", grad.length, {
          g: grad,
          y: this.activations.get(step.name)!,
          n: grad.length,
        });
        continue;
      }
      const { height: H, width: W, channels: C } = step.input;
      const first = step.kind === "conv" && step.first;
      const target = first ? (this.#padded?.grad ?? this.inputGrad) : view(spare, C * H * W);
      if (step.kind === "conv") {
        const { weights, descriptors: desc } = this.#convs.get(step.name)!;
        const call = `cudnnConvolutionBackwardData(${step.name})`;
        d.check.dnn(call)(
          d.api.cudnn.cudnnConvolutionBackwardData(
            d.cudnn,
            ONE,
            desc.w,
            weights.kernel.ptr,
            desc.y,
            grad.ptr,
            desc.backwardConv,
            desc.backwardData.algo,
            this.#workspace.ptr,
            BigInt(this.#workspace.bytes),
            ZERO,
            desc.x,
            target.ptr,
          ),
        );
        d.afterCall(call);
      } else {
        d.launch("pool_backward", C * H * W, {
          gout: grad,
          in: inputOf,
          gin: target,
          c: C,
          H,
          W,
          is_max: this.#plan.pooling === "max" ? 1 : 0,
        });
      }
      if (first) {
        if (this.#padded) {
          d.launch("pad_backward", C * H * W, {
            gout: this.#padded.grad,
            gin: this.inputGrad,
            c: C,
            H,
            W,
            reflect: this.#padded.reflect,
          });
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
    if (this.#workspace.bytes > 0) {
      this.#device.freeBytes(this.#workspace.ptr, this.#workspace.bytes);
    }
    this.#workspace = { ptr: null, bytes: 0 };
    for (const { descriptors } of this.#convs.values()) descriptors.dispose();
    this.#convs.clear();
  }

  #alloc(length: number): DeviceArray {
    const a = this.#device.alloc(length);
    this.#owned.push(a);
    return a;
  }
}

const ONE = new Float32Array([1]);
const ZERO = new Float32Array([0]);
