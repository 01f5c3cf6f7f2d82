/**
 * The VGG forward pass in tfjs, translated step by step from a {@link NetworkPlan}: caffe
 * preprocessing (RGB → BGR, minus {@link CAFFE_MEAN_BGR}), 3×3 "same" convolutions with bias (each
 * padded as its step says), ReLU, and 2×2 stride-2 "valid" pooling (max or avg).
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { CAFFE_MEAN_BGR, type VggWeights } from "../../models/weights_types.ts";
import type { NetworkPlan } from "../../plan/network.ts";
import { conv3x3, type ConvInputGrad, type ConvKernel, prepareKernel } from "./conv.ts";

/** The network's parameters as tensors, uploaded once, for the convs of one plan. */
export interface VggTensors {
  readonly plan: NetworkPlan;
  readonly convs: ReadonlyMap<string, { readonly kernel: ConvKernel; readonly bias: tf.Tensor1D }>;
}

/** Uploads the convolutions `plan` runs (RangeError for weights of the wrong size). Dispose with {@link disposeVgg}. */
export function uploadVgg(
  weights: VggWeights,
  plan: NetworkPlan,
  inputGrad: ConvInputGrad = "builtin",
): VggTensors {
  const convs = new Map<string, { kernel: ConvKernel; bias: tf.Tensor1D }>();
  for (const step of plan.steps) {
    if (step.kind !== "conv") continue;
    const { inChannels, outChannels } = step.conv;
    const w = weights.convs.get(step.name)!;
    const expected = 9 * inChannels * outChannels;
    if (w.kernel.length !== expected || w.bias.length !== outChannels) {
      throw new RangeError(
        `${step.name}: kernel has ${w.kernel.length} values (expected ${expected} = 3×3×` +
          `${inChannels}×${outChannels}), bias ${w.bias.length} (expected ${outChannels})`,
      );
    }
    const kernel = tf.tensor4d(w.kernel, [3, 3, inChannels, outChannels]);
    convs.set(step.name, { kernel: prepareKernel(kernel, inputGrad), bias: tf.tensor1d(w.bias) });
  }
  return { plan, convs };
}

/** Releases the tensors of {@link uploadVgg}. */
export function disposeVgg(net: VggTensors): void {
  for (const { kernel, bias } of net.convs.values()) {
    kernel.kernel.dispose();
    kernel.gradKernel?.dispose();
    bias.dispose();
  }
}

/**
 * Runs the network on an HWC RGB 0–255 image [H, W, 3] and returns the activations [H_l, W_l, C_l]
 * of `layers`. Call inside tf.tidy: intermediates are left to it; the input is not consumed.
 */
export function vggForward(
  net: VggTensors,
  image: tf.Tensor3D,
  layers: readonly string[],
): Map<string, tf.Tensor3D> {
  const wanted = new Set(layers);
  const out = new Map<string, tf.Tensor3D>();
  const mean = tf.tensor1d([...CAFFE_MEAN_BGR]);
  let x = tf.expandDims(tf.sub(tf.reverse(image, [2]), mean), 0) as tf.Tensor4D;
  for (const step of net.plan.steps) {
    if (step.kind === "conv") {
      const { kernel, bias } = net.convs.get(step.name)!;
      x = tf.add(conv3x3(x, kernel, step.padding), bias);
    } else if (step.kind === "relu") {
      x = tf.relu(x);
    } else if (net.plan.pooling === "max") {
      x = tf.maxPool(x, 2, 2, "valid");
    } else {
      x = tf.avgPool(x, 2, 2, "valid");
    }
    if (wanted.has(step.name)) out.set(step.name, tf.squeeze(x, [0]) as tf.Tensor3D);
  }
  return out;
}
