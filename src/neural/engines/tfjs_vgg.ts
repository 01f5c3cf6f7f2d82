/**
 * The VGG forward pass in tfjs: caffe preprocessing (RGB → BGR, minus {@link CAFFE_MEAN_BGR}),
 * 3×3 "same" convolutions with bias, ReLU, and 2×2 stride-2 "valid" pooling (max or avg) after each
 * block, truncated after the deepest layer asked for. Layers are addressed by Gatys' names
 * (conv1_1, relu1_1, pool1, …; see models/layers.ts).
 */
import * as tf from "@tensorflow/tfjs-core";
import { convFor, convLayers, layerNames, type VggArch } from "../models/layers.ts";
import { layerSize } from "../models/layer_mask.ts";
import { CAFFE_MEAN_BGR, type VggWeights } from "../models/weights_types.ts";
import type { Pooling } from "./engine.ts";
import { conv3x3Same, type ConvInputGrad, type ConvKernel, prepareKernel } from "./tfjs_conv.ts";

/** A layer that the network or its weights cannot provide. */
export class LayerUnavailableError extends Error {
  /** @param layer the layer asked for @param message why it is unavailable */
  constructor(readonly layer: string, message: string) {
    super(message);
    this.name = "LayerUnavailableError";
  }
}

/** The network's parameters as tensors, uploaded once, up to the deepest conv needed. */
export interface VggTensors {
  readonly arch: VggArch;
  readonly convs: ReadonlyMap<string, { readonly kernel: ConvKernel; readonly bias: tf.Tensor1D }>;
  /** Forward-order layer names, truncated after the deepest layer asked for. */
  readonly plan: readonly string[];
}

/** Index in forward order of the deepest of `layers`; throws {@link LayerUnavailableError}. */
function deepestIndex(weights: VggWeights, layers: readonly string[]): number {
  const names = layerNames(weights.arch);
  const present = [...weights.convs.keys()];
  let deepest = -1;
  for (const layer of layers) {
    const index = names.indexOf(layer);
    if (index < 0) {
      throw new LayerUnavailableError(
        layer,
        `unknown layer "${layer}" for ${weights.arch} (layers are named conv1_1, relu1_1, pool1, …)`,
      );
    }
    const conv = convFor(weights.arch, layer)!;
    if (!weights.convs.has(conv.name)) {
      throw new LayerUnavailableError(
        layer,
        `layer ${layer} needs ${conv.name}, which the weights (${weights.id}) do not have; ` +
          `deepest available: ${present.at(-1) ?? "none"}`,
      );
    }
    deepest = Math.max(deepest, index);
  }
  return deepest;
}

/** The shape [H, W, C] of `layer`'s activations for an input of height × width. */
export function layerShape(
  arch: VggArch,
  layer: string,
  height: number,
  width: number,
): [number, number, number] {
  const conv = convFor(arch, layer);
  if (!conv) throw new LayerUnavailableError(layer, `unknown layer "${layer}" for ${arch}`);
  const block = layer.startsWith("pool") ? conv.block + 1 : conv.block;
  const [h, w] = layerSize(block, height, width);
  return [h, w, conv.outChannels];
}

/** The VGG block (1-based) whose resolution `layer` has (a pool has the next block's). */
export function layerBlock(arch: VggArch, layer: string): number {
  const conv = convFor(arch, layer);
  if (!conv) throw new LayerUnavailableError(layer, `unknown layer "${layer}" for ${arch}`);
  return layer.startsWith("pool") ? conv.block + 1 : conv.block;
}

/**
 * Uploads the convolutions needed for `layers` (throws {@link LayerUnavailableError} naming the
 * missing layer and the deepest available one). Dispose with {@link disposeVgg}.
 */
export function uploadVgg(
  weights: VggWeights,
  layers: readonly string[],
  inputGrad: ConvInputGrad = "builtin",
): VggTensors {
  const plan = layerNames(weights.arch).slice(0, deepestIndex(weights, layers) + 1);
  const convs = new Map<string, { kernel: ConvKernel; bias: tf.Tensor1D }>();
  for (const layer of convLayers(weights.arch)) {
    if (!plan.includes(layer.name)) break;
    const w = weights.convs.get(layer.name)!;
    const expected = 9 * layer.inChannels * layer.outChannels;
    if (w.kernel.length !== expected || w.bias.length !== layer.outChannels) {
      throw new RangeError(
        `${layer.name}: kernel has ${w.kernel.length} values (expected ${expected} = 3×3×` +
          `${layer.inChannels}×${layer.outChannels}), bias ${w.bias.length} (expected ${layer.outChannels})`,
      );
    }
    const kernel = tf.tensor4d(w.kernel, [3, 3, layer.inChannels, layer.outChannels]);
    convs.set(layer.name, {
      kernel: prepareKernel(kernel, inputGrad),
      bias: tf.tensor1d(w.bias),
    });
  }
  return { arch: weights.arch, convs, plan };
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
  pooling: Pooling,
  image: tf.Tensor3D,
  layers: readonly string[],
): Map<string, tf.Tensor3D> {
  const wanted = new Set(layers);
  const out = new Map<string, tf.Tensor3D>();
  const mean = tf.tensor1d([...CAFFE_MEAN_BGR]);
  let x = tf.expandDims(tf.sub(tf.reverse(image, [2]), mean), 0) as tf.Tensor4D;
  for (const name of net.plan) {
    if (name.startsWith("conv")) {
      const { kernel, bias } = net.convs.get(name)!;
      x = tf.add(conv3x3Same(x, kernel), bias);
    } else if (name.startsWith("relu")) {
      x = tf.relu(x);
    } else {
      x = pooling === "max" ? tf.maxPool(x, 2, 2, "valid") : tf.avgPool(x, 2, 2, "valid");
    }
    if (wanted.has(name)) out.set(name, tf.squeeze(x, [0]) as tf.Tensor3D);
  }
  return out;
}
