/**
 * The ONNX graphs of the onnx engine, translated from the plan (plan/network.ts, objective/terms.ts).
 * The loss graph takes the image x [H, W, 3] (RGB, 0–255, HWC) and returns the loss of objective/terms.ts,
 * its three weighted groups and ∂loss/∂x in ONE run: caffe preprocessing, the plan's forward steps,
 * one node group per term of the loss table, then each step's gradient in reverse (backward.ts).
 * Weights are initializers; targets, masks and the per-term weights are inputs ({@link lossFeeds}),
 * so one graph (and one session) serves every image and every target set of that structure.
 * Tensors inside the graph are NCHW with N = 1.
 */
import { CAFFE_MEAN_BGR, type VggWeights } from "../../models/weights_types.ts";
import { groupTerms, type LossPlan, type LossTerm } from "../../objective/terms.ts";
import {
  type ConvStep,
  type LayerShape,
  type NetworkPlan,
  type NetworkStep,
  planShape,
  type PoolStep,
  type ReluStep,
} from "../../plan/network.ts";
import {
  avgPoolGrad,
  contentLossAndGrad,
  convInputGrad,
  flippedKernel,
  linearLossAndGrad,
  maskedRows,
  maxPoolReluGrad,
  meanCovarianceLossAndGrad,
  padGrad,
  padMode,
  reluGrad,
  reluMask,
  styleLossAndGrad,
  tvLossAndGrad,
} from "./backward.ts";
import { GraphBuilder, int, ints, str } from "./builder.ts";
import { hwcToChw } from "../layout.ts";
import { onnxKernels } from "./kernels.ts";

/** Input and output names of the graphs; term inputs are numbered per kind of input. */
export const GRAPH_IO = {
  image: "x",
  tvScale: "tv_scale",
  contentTarget: (i: number) => `content_target_${i}`,
  contentScale: (i: number) => `content_scale_${i}`,
  styleGram: (i: number) => `style_gram_${i}`,
  styleScale: (i: number) => `style_scale_${i}`,
  styleMask: (i: number) => `style_mask_${i}`,
  styleCovariance: (i: number) => `style_covariance_${i}`,
  styleMean: (i: number) => `style_mean_${i}`,
  styleMeanScale: (i: number) => `style_mean_scale_${i}`,
  contentMask: (i: number) => `content_mask_${i}`,
  linearSum: (i: number) => `linear_sum_${i}`,
  /** The statistics graph's mask input and outputs of request i. */
  statisticsMask: (i: number) => `statistics_mask_${i}`,
  statisticsGram: (i: number) => `statistics_gram_${i}`,
  statisticsSum: (i: number) => `statistics_sum_${i}`,
  outputs: ["loss", "content", "style", "tv", "grad"] as const,
  /** The extract graph's output of `layer` (HWC); the NCHW tensor inside is named `layer`. */
  activations: (layer: string) => `${layer}_hwc`,
};

/** An input value of the loss graph: float32 data and its dims. */
export interface Feed {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** [1, C, H, W] of a layer shape. */
function nchw(s: LayerShape): number[] {
  return [1, s.channels, s.height, s.width];
}

/** The graph inputs one term reads, by name, each with its value, in declaration order. */
function termInputs(term: LossTerm, index: number): [string, Feed][] {
  const scalar = (v: number): Feed => ({ data: new Float32Array([v]), dims: [] });
  switch (term.kind) {
    case "content": {
      const inputs: [string, Feed][] = [
        [GRAPH_IO.contentTarget(index), {
          data: hwcToChw(term.target, term.shape.channels),
          dims: nchw(term.shape),
        }],
        [GRAPH_IO.contentScale(index), scalar(term.weight)],
      ];
      if (term.mask) inputs.push([GRAPH_IO.contentMask(index), maskFeed(term.mask, term.shape)]);
      return inputs;
    }
    case "linear": {
      const c = term.shape.channels;
      return [
        [GRAPH_IO.styleGram(index), { data: term.gram, dims: [c, c] }],
        [GRAPH_IO.linearSum(index), { data: term.sum, dims: [c, 1] }],
        [GRAPH_IO.styleScale(index), scalar(term.weight)],
        [GRAPH_IO.styleMask(index), maskFeed(term.mask, term.shape)],
      ];
    }
    case "gram":
    case "masked-gram": {
      const c = term.shape.channels;
      const inputs: [string, Feed][] = [
        [GRAPH_IO.styleGram(index), { data: term.gram, dims: [c, c] }],
        [GRAPH_IO.styleScale(index), scalar(term.weight)],
      ];
      if (term.kind === "masked-gram") {
        inputs.push([GRAPH_IO.styleMask(index), maskFeed(term.mask, term.shape)]);
      }
      return inputs;
    }
    case "mean-covariance": {
      const c = term.shape.channels;
      return [
        [GRAPH_IO.styleCovariance(index), { data: term.covariance, dims: [c, c] }],
        [GRAPH_IO.styleMean(index), { data: term.mean, dims: [c, 1] }],
        [GRAPH_IO.styleScale(index), scalar(term.weight)],
        [GRAPH_IO.styleMeanScale(index), scalar(term.weight * term.meanWeight)],
      ];
    }
    case "tv":
      return [[GRAPH_IO.tvScale, scalar(term.weight)]];
  }
}

/** A mask of H × W values as the [1, 1, H, W] input that broadcasts over a layer's channels. */
function maskFeed(mask: Float32Array, shape: LayerShape): Feed {
  return { data: mask, dims: [1, 1, shape.height, shape.width] };
}

/** Each term with its index among the terms that share its input names (content or style). */
function numberedTerms(plan: LossPlan): { term: LossTerm; index: number }[] {
  const counts = new Map<string, number>();
  return plan.terms.map((term) => {
    const family = term.kind === "masked-gram" || term.kind === "mean-covariance" ||
        term.kind === "linear"
      ? "gram"
      : term.kind;
    const index = counts.get(family) ?? 0;
    counts.set(family, index + 1);
    return { term, index };
  });
}

/** The loss graph's term inputs (targets, masks, weights) for `plan`; the caller adds the image. */
export function lossFeeds(plan: LossPlan): Map<string, Feed> {
  return new Map(numberedTerms(plan).flatMap(({ term, index }) => termInputs(term, index)));
}

/** Caffe preprocessing of x [H, W, 3]: x − mean (in RGB order) → [1, 3, H, W]. The RGB → BGR
 * swap is folded into the first conv's kernel (kernels.ts). */
function preprocess(b: GraphBuilder, x: string, input: LayerShape): string {
  const meanRgb = new Float32Array([CAFFE_MEAN_BGR[2], CAFFE_MEAN_BGR[1], CAFFE_MEAN_BGR[0]]);
  const centred = b.op("Sub", [x, b.floats("caffe_mean_rgb", [3], meanRgb)]);
  const chw = b.op("Transpose", [centred], { perm: ints([2, 0, 1]) });
  return b.op("Reshape", [chw, b.int64s([1, 3, input.height, input.width])]);
}

/** One forward step as ONNX nodes; returns its output tensor, named after the step's layer. */
function forwardStep(
  b: GraphBuilder,
  weights: VggWeights,
  plan: NetworkPlan,
  step: NetworkStep,
  input: string,
): string {
  switch (step.kind) {
    case "conv": {
      const k = onnxKernels(weights, step.name, step.first);
      const c = step.output.channels;
      const kernel = b.floats(kernelName(step.name), [c, step.input.channels, 3, 3], k.forward);
      const bias = b.floats(`${step.name}_bias`, [c], k.bias);
      if (step.padding === "zero") {
        const attrs = { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) };
        return b.op("Conv", [input, kernel, bias], attrs, step.name);
      }
      const padded = b.op("Pad", [input, b.int64s([0, 0, 1, 1, 0, 0, 1, 1])], {
        mode: str(padMode(step.padding)),
      });
      const attrs = { kernel_shape: ints([3, 3]), pads: ints([0, 0, 0, 0]) };
      return b.op("Conv", [padded, kernel, bias], attrs, step.name);
    }
    case "relu":
      return b.op("Relu", [input], {}, step.name);
    case "pool": {
      const attrs = { kernel_shape: ints([2, 2]), strides: ints([2, 2]) };
      const type = plan.pooling === "max" ? "MaxPool" : "AveragePool";
      return b.op(type, [input], attrs, step.name);
    }
  }
}

/** The initializer name of a conv's kernel. */
function kernelName(conv: string): string {
  return `${conv}_kernel`;
}

/** Appends preprocessing and the plan's forward steps; returns layer name → NCHW tensor. */
function forward(
  b: GraphBuilder,
  weights: VggWeights,
  plan: NetworkPlan,
  x: string,
): Map<string, string> {
  const tensors = new Map<string, string>();
  let current = preprocess(b, x, plan.input);
  for (const step of plan.steps) {
    current = forwardStep(b, weights, plan, step, current);
    tensors.set(step.name, current);
  }
  return tensors;
}

/**
 * The steps of the backward pass, deepest first. A max pool is taken together with the ReLU before
 * it (`max-pool-relu`): the pool's gradient needs the window maxima, and where a maximum is
 * positive the ReLU passes, so the ReLU's mask is taken at the pooled resolution instead of a
 * full-resolution mask and product per pool (a saving not measured on its own).
 */
type BackwardStep =
  | { readonly kind: "conv"; readonly conv: ConvStep }
  | { readonly kind: "relu"; readonly relu: ReluStep }
  | { readonly kind: "avg-pool"; readonly pool: PoolStep }
  | { readonly kind: "max-pool-relu"; readonly pool: PoolStep; readonly relu: ReluStep };

/** {@link BackwardStep}s of `plan`, deepest first. */
function backwardSteps(plan: NetworkPlan): BackwardStep[] {
  const out: BackwardStep[] = [];
  const steps = [...plan.steps].reverse();
  const taken = new Set<NetworkStep>();
  steps.forEach((step, i) => {
    if (taken.has(step)) return;
    if (step.kind === "conv") return out.push({ kind: "conv", conv: step });
    if (step.kind === "relu") return out.push({ kind: "relu", relu: step });
    if (plan.pooling === "avg") return out.push({ kind: "avg-pool", pool: step });
    const below = steps[i + 1];
    if (below?.kind !== "relu") throw new Error(`${step.name}: a max pool must follow a ReLU`);
    taken.add(below);
    out.push({ kind: "max-pool-relu", pool: step, relu: below });
  });
  return out;
}

/**
 * Appends the gradient of one backward step: from ∂loss/∂(its output), `upstream` (undefined while
 * it is 0) plus the loss gradients at its layers (`total`), to ∂loss/∂(its input).
 */
function backwardStep(
  b: GraphBuilder,
  back: BackwardStep,
  upstream: string | undefined,
  tensors: ReadonlyMap<string, string>,
  total: (layer: string, upstream: string | undefined) => string | undefined,
): string | undefined {
  const mask = (relu: ReluStep) => reluMask(b, tensors.get(relu.name)!, relu.output.channels);
  switch (back.kind) {
    case "conv": {
      const { name, padding, input } = back.conv;
      const g = total(name, upstream);
      if (!g) return undefined;
      const flipped = flippedKernel(b, kernelName(name));
      if (padding === "zero") return convInputGrad(b, g, flipped);
      return padGrad(b, convInputGrad(b, g, flipped, 2), input, padding);
    }
    case "relu": {
      const g = total(back.relu.name, upstream);
      return g && reluGrad(b, g, mask(back.relu));
    }
    case "avg-pool": {
      const g = total(back.pool.name, upstream);
      return g && avgPoolGrad(b, g, back.pool.output, back.pool.input);
    }
    case "max-pool-relu": {
      const { pool, relu } = back;
      const g = total(pool.name, upstream);
      const below = tensors.get(relu.name)!;
      const pooled = g &&
        maxPoolReluGrad(b, g, below, tensors.get(pool.name)!, pool.output, pool.input);
      // The loss gradients at the ReLU itself still need its mask.
      const own = total(relu.name, undefined);
      const masked = own && reluGrad(b, own, mask(relu));
      return pooled && masked ? b.op("Sum", [pooled, masked]) : pooled || masked;
    }
  }
}

/** Builds the loss-and-gradient graph of `plan` (its values come from {@link lossFeeds}). */
export function buildLossGraph(weights: VggWeights, plan: LossPlan): Uint8Array {
  const { height, width } = plan.network.input;
  const b = new GraphBuilder();
  const x = b.input(GRAPH_IO.image, [height, width, 3]);
  const tensors = forward(b, weights, plan.network, x);

  // Each term's value and its gradient with respect to the tensor it reads.
  const losses = new Map<LossTerm, string>();
  const gradsAt = new Map<string, string[]>();
  const addGrad = (tensor: string, g: string) =>
    gradsAt.set(tensor, [...gradsAt.get(tensor) ?? [], g]);
  for (const { term, index } of numberedTerms(plan)) {
    const inputs = termInputs(term, index).map(([name, feed]) => b.input(name, feed.dims));
    const t = termLossAndGrad(b, term, inputs, tensors, x, plan.network.input);
    losses.set(term, t.loss);
    addGrad("layer" in term ? term.layer : GRAPH_IO.image, t.grad);
  }

  // Backward, deepest step first: g is ∂loss/∂(the next step's input), undefined while 0.
  const total = (layer: string, upstream: string | undefined): string | undefined => {
    const gs = [...(upstream ? [upstream] : []), ...gradsAt.get(layer) ?? []];
    return gs.length === 0 ? undefined : gs.length === 1 ? gs[0] : b.op("Sum", gs);
  };
  let g: string | undefined;
  for (const back of backwardSteps(plan.network)) g = backwardStep(b, back, g, tensors, total);
  const imageGrads = gradsAt.get(GRAPH_IO.image) ?? [];
  let grad = imageGrads.length === 1 ? imageGrads[0] : b.op("Sum", imageGrads);
  if (g) {
    const chw = b.op("Reshape", [g, b.int64s([3, height, width])]);
    grad = b.op("Add", [b.op("Transpose", [chw], { perm: ints([1, 2, 0]) }), grad]);
  }
  const groups = groupTerms(
    plan.terms,
    (t) => losses.get(t)!,
    (names) => b.op("Sum", names),
    () => b.scalar(0),
  );
  b.output("loss", b.op("Sum", [groups.content, groups.style, groups.tv]), []);
  b.output("content", groups.content, []);
  b.output("style", groups.style, []);
  b.output("tv", groups.tv, []);
  b.output("grad", grad, [height, width, 3]);
  return b.encode("stylepipe_vgg_loss");
}

/** One term of the loss table as nodes: its value and its gradient w.r.t. what it reads. */
function termLossAndGrad(
  b: GraphBuilder,
  term: LossTerm,
  inputs: string[],
  tensors: ReadonlyMap<string, string>,
  x: string,
  image: LayerShape,
): { loss: string; grad: string } {
  switch (term.kind) {
    case "content": {
      const [target, scale, mask] = inputs;
      const { height, width, channels } = term.shape;
      const count = height * width * channels;
      return contentLossAndGrad(b, tensors.get(term.layer)!, target, scale, count, mask);
    }
    case "linear": {
      const [gram, sum, scale, mask] = inputs;
      const f = tensors.get(term.layer)!;
      return linearLossAndGrad(b, f, term.shape, gram, sum, scale, mask);
    }
    case "gram":
    case "masked-gram": {
      const [gram, scale, mask] = inputs;
      return styleLossAndGrad(b, tensors.get(term.layer)!, term.shape, gram, scale, mask);
    }
    case "mean-covariance": {
      const [covariance, mean, scale, meanScale] = inputs;
      const f = tensors.get(term.layer)!;
      return meanCovarianceLossAndGrad(b, f, term.shape, covariance, mean, scale, meanScale);
    }
    case "tv":
      return tvLossAndGrad(b, x, image.height, image.width, inputs[0]);
  }
}

/** Builds a forward-only graph whose outputs ({@link GRAPH_IO.activations}) are HWC activations. */
export function buildExtractGraph(
  weights: VggWeights,
  plan: NetworkPlan,
  layers: readonly string[],
): Uint8Array {
  const b = new GraphBuilder();
  const { height, width } = plan.input;
  const tensors = forward(b, weights, plan, b.input(GRAPH_IO.image, [height, width, 3]));
  for (const layer of new Set(layers)) {
    const { height: h, width: w, channels: c } = planShape(plan, layer);
    const hwc = b.op("Transpose", [tensors.get(layer)!], { perm: ints([0, 2, 3, 1]) });
    b.output(GRAPH_IO.activations(layer), b.op("Reshape", [hwc, b.int64s([h, w, c])]), [h, w, c]);
  }
  return b.encode("stylepipe_vgg_extract");
}

/**
 * Builds a forward-only graph that returns, per request i (a layer, with a mask input
 * {@link GRAPH_IO.statisticsMask} [1, 1, H_l, W_l]), the raw sums S = R Rᵀ [C, C] and R1 [C] of
 * the masked rows R = M ⊙ F (C × H_l·W_l).
 */
export function buildStatisticsGraph(
  weights: VggWeights,
  plan: NetworkPlan,
  layers: readonly string[],
): Uint8Array {
  const b = new GraphBuilder();
  const { height, width } = plan.input;
  const tensors = forward(b, weights, plan, b.input(GRAPH_IO.image, [height, width, 3]));
  layers.forEach((layer, i) => {
    const shape = planShape(plan, layer);
    const c = shape.channels;
    const mask = b.input(GRAPH_IO.statisticsMask(i), [1, 1, shape.height, shape.width]);
    const rows = maskedRows(b, tensors.get(layer)!, shape, mask);
    b.output(GRAPH_IO.statisticsGram(i), b.op("Gemm", [rows, rows], { transB: int(1) }), [c, c]);
    const sum = b.op("ReduceSum", [rows, b.int64s([1])], { keepdims: int(0) });
    b.output(GRAPH_IO.statisticsSum(i), sum, [c]);
  });
  return b.encode("stylepipe_vgg_statistics");
}
