/**
 * The network as an engine-neutral plan: the VGG layers an objective or a forward pass needs, in
 * forward order, each with its shape for one input size. This file is the only place that knows
 * the geometry (a 3×3 "same" conv keeps the size, a 2×2 stride-2 "valid" pool floors it, a pool has
 * the next block's resolution, the plan stops at the deepest layer asked for, which padding each
 * conv uses); engines translate the steps into their own ops and read shapes from here.
 */
import { StylepipeError } from "../../util/errors.ts";
import { convFor, type ConvLayer, convLayers, layerNames, type VggArch } from "../models/layers.ts";
import type { VggWeights } from "../models/weights_types.ts";

/** Pooling used between VGG blocks (Gatys recommends average). */
export type Pooling = "max" | "avg";

/**
 * How the first convolution pads the image: `zero` (VGG's own "same" padding; after the caffe mean
 * subtraction a zero is the mean colour), `reflect` (x[−1] = x[1]) or `replicate` (x[−1] = x[0]).
 */
export type Padding = typeof PADDINGS[number];

/** The {@link Padding} modes, in the order the docs list them. */
export const PADDINGS = ["zero", "reflect", "replicate"] as const;

/** The shape of one layer's activations. Engines lay them out as they like (HWC, NCHW, …). */
export interface LayerShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** One step of the forward pass. `name` is the layer's Gatys name (conv1_1, relu1_1, pool1, …). */
export type NetworkStep =
  | {
    /** 3×3 stride-1 convolution with "same" padding (1 pixel, per {@link padding}) and bias. */
    readonly kind: "conv";
    readonly name: string;
    /** The table entry: block, channels, Keras name. */
    readonly conv: ConvLayer;
    /** The network's first conv reads the preprocessed image (engines may fold the BGR swap in). */
    readonly first: boolean;
    /** How the 1-pixel border around the input is filled (only the first conv's can differ from zero). */
    readonly padding: Padding;
    readonly input: LayerShape;
    readonly output: LayerShape;
  }
  | {
    /** max(0, x) of the conv before it. */
    readonly kind: "relu";
    readonly name: string;
    /** The conv step this ReLU follows. */
    readonly conv: string;
    readonly output: LayerShape;
  }
  | {
    /** 2×2 stride-2 "valid" pooling (odd edges dropped), max or average per {@link NetworkPlan.pooling}. */
    readonly kind: "pool";
    readonly name: string;
    readonly input: LayerShape;
    readonly output: LayerShape;
  };

/** A convolution step. */
export type ConvStep = Extract<NetworkStep, { kind: "conv" }>;
/** A ReLU step. */
export type ReluStep = Extract<NetworkStep, { kind: "relu" }>;
/** A pooling step. */
export type PoolStep = Extract<NetworkStep, { kind: "pool" }>;

/** The forward pass for one input size, truncated after the deepest layer asked for. */
export interface NetworkPlan {
  readonly arch: VggArch;
  readonly pooling: Pooling;
  /** The input image: height × width × 3 (RGB, 0–255; engines apply the caffe preprocessing). */
  readonly input: LayerShape;
  /** Forward order. */
  readonly steps: readonly NetworkStep[];
}

/** A layer that the network or its weights cannot provide. */
export class LayerUnavailableError extends StylepipeError {
  /** @param layer the layer asked for @param message why it is unavailable */
  constructor(readonly layer: string, message: string) {
    super(message);
  }
}

/** Height and width of a layer of `block` (1-based) for an input of height × width (pools before it). */
export function layerSize(block: number, height: number, width: number): [number, number] {
  let h = height, w = width;
  for (let b = 1; b < block; b++) {
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
  }
  return [h, w];
}

/** The VGG block (1-based) whose resolution `layer` has (a pool has the next block's). */
export function layerBlock(arch: VggArch, layer: string): number {
  const conv = convFor(arch, layer);
  if (!conv || !layerNames(arch).includes(layer)) {
    throw new LayerUnavailableError(
      layer,
      `unknown layer "${layer}" for ${arch} (layers are named conv1_1, relu1_1, pool1, …)`,
    );
  }
  return layer.startsWith("pool") ? conv.block + 1 : conv.block;
}

/** The shape of `layer`'s activations for an input of height × width. */
export function layerShape(
  arch: VggArch,
  layer: string,
  height: number,
  width: number,
): LayerShape {
  const [h, w] = layerSize(layerBlock(arch, layer), height, width);
  return { height: h, width: w, channels: convFor(arch, layer)!.outChannels };
}

/**
 * The forward plan that computes `layers` with `weights` (throws {@link LayerUnavailableError} for
 * an unknown layer or one whose conv the weights lack, naming the deepest available conv).
 */
export function networkPlan(
  weights: VggWeights,
  pooling: Pooling,
  height: number,
  width: number,
  layers: readonly string[],
  padding: Padding = "zero",
): NetworkPlan {
  const plan = vggPlan(weights.arch, pooling, height, width, layers, padding);
  for (const layer of layers) {
    const conv = convFor(weights.arch, layer)!;
    if (weights.convs.has(conv.name)) continue;
    const present = [...weights.convs.keys()];
    throw new LayerUnavailableError(
      layer,
      `layer ${layer} needs ${conv.name}, which the weights (${weights.id}) do not have: they ` +
        `stop before ${conv.name}; deepest available: ${present.at(-1) ?? "none"}`,
    );
  }
  return plan;
}

/**
 * The padding the first conv uses for `padding` on a height × width image: reflect needs 2 pixels
 * on each axis, so an image 1 pixel high or wide is padded by replicate (its only neighbour).
 */
export function inputPadding(padding: Padding, height: number, width: number): Padding {
  return padding === "reflect" && Math.min(height, width) < 2 ? "replicate" : padding;
}

/** The forward plan of `arch` that computes `layers`, whatever weights exist (cost estimates). */
export function vggPlan(
  arch: VggArch,
  pooling: Pooling,
  height: number,
  width: number,
  layers: readonly string[],
  padding: Padding = "zero",
): NetworkPlan {
  const order = layerNames(arch);
  let deepest = -1;
  for (const layer of layers) {
    layerBlock(arch, layer);
    deepest = Math.max(deepest, order.indexOf(layer));
  }
  const convs = new Map(convLayers(arch).map((c) => [c.name, c]));
  const input: LayerShape = { height, width, channels: 3 };
  const steps: NetworkStep[] = [];
  let current = input;
  for (const name of order.slice(0, deepest + 1)) {
    const output = layerShape(arch, name, height, width);
    const conv = convs.get(name);
    if (conv) {
      const first = steps.length === 0;
      // Only the image is padded otherwise than VGG (crowsonkb pads only the input): deeper
      // activations are ReLU outputs ≥ 0 whose zero border is what the network was trained on.
      const pad = first ? inputPadding(padding, height, width) : "zero";
      steps.push({ kind: "conv", name, conv, first, padding: pad, input: current, output });
    } else if (name.startsWith("relu")) {
      steps.push({ kind: "relu", name, conv: name.replace("relu", "conv"), output });
    } else {
      steps.push({ kind: "pool", name, input: current, output });
    }
    current = output;
  }
  return { arch, pooling, input, steps };
}

/** Floating-point operations of the plan's convolutions, forward only: 2·9·H·W·C_in·C_out each. */
export function convFlops(plan: NetworkPlan): number {
  let flops = 0;
  for (const step of plan.steps) {
    if (step.kind !== "conv") continue;
    const { height, width, channels } = step.output;
    flops += 2 * 9 * height * width * step.input.channels * channels;
  }
  return flops;
}

/** The shape of `layer` in `plan` (which must compute it). */
export function planShape(plan: NetworkPlan, layer: string): LayerShape {
  const step = plan.steps.find((s) => s.name === layer);
  if (!step) throw new LayerUnavailableError(layer, `the plan stops before ${layer}`);
  return step.output;
}
