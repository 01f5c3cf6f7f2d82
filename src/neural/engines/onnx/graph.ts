/**
 * The ONNX graphs of the onnx engine. The loss graph takes the image x [H, W, 3] (RGB, 0–255,
 * HWC) and returns the loss of engine.ts, its three weighted terms and ∂loss/∂x in ONE run: caffe
 * preprocessing, VGG forward to the deepest layer used, content/style/TV terms, then the backward
 * pass of backward.ts. Weights are initializers; targets, masks and the per-term weights are inputs,
 * so one graph (and one session) serves every image and every target set of that shape.
 */
import { convFor, convLayers, layerNames } from "../../models/layers.ts";
import { layerSize } from "../../models/layer_mask.ts";
import type { VggWeights } from "../../models/weights_types.ts";
import { CAFFE_MEAN_BGR, type Pooling } from "../engine.ts";
import {
  avgPoolGrad,
  contentLossAndGrad,
  convInputGrad,
  flippedKernel,
  maxPoolReluGrad,
  reluGrad,
  reluMask,
  styleLossAndGrad,
  tvLossAndGrad,
} from "./backward.ts";
import { GraphBuilder, ints } from "./builder.ts";
import { onnxKernels } from "./kernels.ts";

/** The structure of a loss graph: everything that changes the graph (not the input values). */
export interface LossGraphSpec {
  readonly weights: VggWeights;
  readonly pooling: Pooling;
  readonly height: number;
  readonly width: number;
  /** Content target layers, in input order (`content_target_i`, `content_scale_i`). */
  readonly contentLayers: readonly string[];
  /** Style target layers, in input order (`style_gram_i`, `style_scale_i`, `style_mask_i`). */
  readonly styleLayers: readonly { readonly layer: string; readonly masked: boolean }[];
}

/** Graph input and output names of the loss graph. */
export const LOSS_IO = {
  image: "x",
  tvScale: "tv_scale",
  contentTarget: (i: number) => `content_target_${i}`,
  contentScale: (i: number) => `content_scale_${i}`,
  styleGram: (i: number) => `style_gram_${i}`,
  styleScale: (i: number) => `style_scale_${i}`,
  styleMask: (i: number) => `style_mask_${i}`,
  outputs: ["loss", "content", "style", "tv", "grad"] as const,
};

/** Shape [C, H, W] of a layer's activations for an input of height × width. */
export function layerShape(
  weights: VggWeights,
  layer: string,
  height: number,
  width: number,
): [number, number, number] {
  const conv = convFor(weights.arch, layer);
  if (!conv || !layerNames(weights.arch).includes(layer)) {
    throw new RangeError(`unknown ${weights.arch} layer "${layer}"`);
  }
  if (!weights.convs.has(conv.name)) {
    throw new RangeError(`weights ${weights.id} stop before ${conv.name}, needed for ${layer}`);
  }
  const block = layer.startsWith("pool") ? conv.block + 1 : conv.block;
  const [h, w] = layerSize(block, height, width);
  return [conv.outChannels, h, w];
}

/** One forward step, kept for the backward pass. */
type Step =
  | { kind: "conv"; conv: string; relu: string; channels: number; flipped: string }
  | {
    kind: "pool";
    name: string;
    input: string;
    output: string;
    inShape: number[];
    outShape: number[];
  };

/** Forward network: layer name → NCHW tensor, and the steps in forward order. */
interface Forward {
  readonly tensors: Map<string, string>;
  readonly steps: Step[];
}

/** Index in forward order of the deepest of `layers`. */
function deepestIndex(weights: VggWeights, layers: readonly string[]): number {
  const order = layerNames(weights.arch);
  return Math.max(-1, ...layers.map((l) => order.indexOf(l)));
}

/**
 * Appends caffe preprocessing and the VGG forward pass up to the deepest of `layers`.
 * Preprocessing: x − mean (in RGB order) → NCHW; the RGB → BGR swap is folded into conv1_1's
 * kernel (see kernels.ts). With `forBackward`, flipped kernels and max-pool indices are added too.
 */
function forward(
  b: GraphBuilder,
  spec: { weights: VggWeights; pooling: Pooling; height: number; width: number },
  x: string,
  layers: readonly string[],
  forBackward: boolean,
): Forward {
  const { weights, height, width } = spec;
  const meanRgb = new Float32Array([CAFFE_MEAN_BGR[2], CAFFE_MEAN_BGR[1], CAFFE_MEAN_BGR[0]]);
  const centred = b.op("Sub", [x, b.floats("caffe_mean_rgb", [3], meanRgb)]);
  const chw = b.op("Transpose", [centred], { perm: ints([2, 0, 1]) });
  let current = b.op("Reshape", [chw, b.int64s([1, 3, height, width])]);
  const order = layerNames(weights.arch);
  const last = deepestIndex(weights, layers);
  const tensors = new Map<string, string>();
  const steps: Step[] = [];
  const convs = convLayers(weights.arch);
  for (let i = 0; i <= last; i++) {
    const name = order[i];
    if (name.startsWith("conv")) {
      const k = onnxKernels(weights, name, name === convs[0].name);
      const c = k.outChannels;
      const kernel = b.floats(`${name}_kernel`, [c, k.inChannels, 3, 3], k.forward);
      const bias = b.floats(`${name}_bias`, [c], k.bias);
      const pre = b.op("Conv", [current, kernel, bias], {
        kernel_shape: ints([3, 3]),
        pads: ints([1, 1, 1, 1]),
      });
      const relu = b.op("Relu", [pre]);
      tensors.set(name, pre).set(name.replace("conv", "relu"), relu);
      if (forBackward) {
        steps.push({
          kind: "conv",
          conv: name,
          relu,
          channels: c,
          flipped: flippedKernel(b, kernel),
        });
      }
      current = relu;
      i++; // the relu of this conv is handled together with it
    } else {
      const [c, h, w] = layerShape(weights, name, height, width);
      const [inH, inW] = layerSize(Number(name.slice(4)), height, width);
      const attrs = { kernel_shape: ints([2, 2]), strides: ints([2, 2]) };
      const output = b.op(spec.pooling === "max" ? "MaxPool" : "AveragePool", [current], attrs);
      tensors.set(name, output);
      steps.push({
        kind: "pool",
        name,
        input: current,
        output,
        inShape: [1, c, inH, inW],
        outShape: [1, c, h, w],
      });
      current = output;
    }
  }
  return { tensors, steps };
}

/** Builds the loss-and-gradient graph of `spec`. */
export function buildLossGraph(spec: LossGraphSpec): Uint8Array {
  const { weights, height, width } = spec;
  const b = new GraphBuilder();
  const x = b.input(LOSS_IO.image, [height, width, 3]);
  const layers = [...spec.contentLayers, ...spec.styleLayers.map((s) => s.layer)];
  const fwd = forward(b, spec, x, layers, true);

  // Loss terms and their gradients with respect to each layer's activations.
  const gradsAt = new Map<string, string[]>();
  const addGrad = (layer: string, g: string) =>
    gradsAt.set(layer, [...gradsAt.get(layer) ?? [], g]);
  const contentLosses: string[] = [];
  spec.contentLayers.forEach((layer, i) => {
    const shape = [1, ...layerShape(weights, layer, height, width)];
    const target = b.input(LOSS_IO.contentTarget(i), shape);
    const scale = b.input(LOSS_IO.contentScale(i), []);
    const count = shape[1] * shape[2] * shape[3];
    const t = contentLossAndGrad(b, fwd.tensors.get(layer)!, target, scale, count);
    contentLosses.push(t.loss);
    addGrad(layer, t.grad);
  });
  const styleLosses: string[] = [];
  spec.styleLayers.forEach(({ layer, masked }, i) => {
    const shape = [1, ...layerShape(weights, layer, height, width)];
    const gram = b.input(LOSS_IO.styleGram(i), [shape[1], shape[1]]);
    const scale = b.input(LOSS_IO.styleScale(i), []);
    const mask = masked ? b.input(LOSS_IO.styleMask(i), [1, 1, shape[2], shape[3]]) : undefined;
    const t = styleLossAndGrad(b, fwd.tensors.get(layer)!, shape, gram, scale, mask);
    styleLosses.push(t.loss);
    addGrad(layer, t.grad);
  });
  const tv = tvLossAndGrad(b, x, height, width, b.input(LOSS_IO.tvScale, []));

  // Backward, deepest step first.
  const total = (layer: string, upstream: string | undefined): string | undefined => {
    const gs = [...(upstream ? [upstream] : []), ...gradsAt.get(layer) ?? []];
    return gs.length === 0 ? undefined : gs.length === 1 ? gs[0] : b.op("Sum", gs);
  };
  let g: string | undefined;
  // Whether `g` came through a max pool, which already applied the ReLU below it.
  let reluApplied = false;
  for (const step of [...fwd.steps].reverse()) {
    if (step.kind === "pool") {
      g = total(step.name, g);
      reluApplied = false;
      if (!g) continue;
      if (spec.pooling === "max") {
        g = maxPoolReluGrad(b, g, step.input, step.output, step.outShape, step.inShape);
        reluApplied = true;
      } else {
        g = avgPoolGrad(b, g, step.outShape, step.inShape);
      }
    } else {
      const relu = step.conv.replace("conv", "relu");
      const mask = () => reluMask(b, step.relu, step.channels);
      if (reluApplied) {
        // Only the loss gradients at the ReLU itself still need its mask.
        const own = total(relu, undefined);
        const masked = own && reluGrad(b, own, mask());
        if (masked) g = g ? b.op("Sum", [g, masked]) : masked;
      } else {
        g = total(relu, g);
        if (g) g = reluGrad(b, g, mask());
      }
      g = total(step.conv, g);
      if (g) g = convInputGrad(b, g, step.flipped);
      reluApplied = false;
    }
  }
  let grad = tv.grad;
  if (g) {
    const chw = b.op("Reshape", [g, b.int64s([3, height, width])]);
    grad = b.op("Add", [b.op("Transpose", [chw], { perm: ints([1, 2, 0]) }), tv.grad]);
  }
  const sum = (names: string[]) =>
    names.length === 0 ? b.scalar(0) : names.length === 1 ? names[0] : b.op("Sum", names);
  const content = sum(contentLosses), style = sum(styleLosses);
  b.output("loss", b.op("Sum", [content, style, tv.loss]), []);
  b.output("content", content, []);
  b.output("style", style, []);
  b.output("tv", tv.loss, []);
  b.output("grad", grad, [height, width, 3]);
  return b.encode("stylepipe_vgg_loss");
}

/** Builds a forward-only graph whose outputs (named after the layers) are HWC activations. */
export function buildExtractGraph(
  weights: VggWeights,
  pooling: Pooling,
  height: number,
  width: number,
  layers: readonly string[],
): Uint8Array {
  const b = new GraphBuilder();
  const x = b.input(LOSS_IO.image, [height, width, 3]);
  const fwd = forward(b, { weights, pooling, height, width }, x, layers, false);
  for (const layer of new Set(layers)) {
    const [c, h, w] = layerShape(weights, layer, height, width);
    const hwc = b.op("Transpose", [fwd.tensors.get(layer)!], { perm: ints([0, 2, 3, 1]) });
    b.output(layer, b.op("Reshape", [hwc, b.int64s([h, w, c])]), [h, w, c]);
  }
  return b.encode("stylepipe_vgg_extract");
}
