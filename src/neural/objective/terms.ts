/**
 * The loss as an engine-neutral table: one {@link LossTerm} per weighted term, each saying what it
 * reads (a layer of the {@link NetworkPlan}, or the image), its full weight and its target, already
 * checked against the layer's shape. Every engine computes exactly these terms (the tests compare
 * engines on them), each kind defined once, with its targets and its normalisation, in its own
 * file: content.ts, gram.ts (`gram`, `masked-gram`), mean_covariance.ts, linear.ts (a tile's
 * style gradient, tiled.ts), tv.ts. Common to all:
 * - x: the image, HWC float32, RGB, 0–255 pixel scale (the optimization variable). The network
 *   applies the caffe preprocessing itself (RGB → BGR, minus CAFFE_MEAN_BGR); its first conv pads
 *   the preprocessed image per {@link ObjectiveSpec.padding} (plan/network.ts).
 * - F_l: activations of layer l for x, shape [H_l, W_l, C_l] (after ReLU for `relu*`, before for
 *   `conv*`), read as an N × C_l matrix, N = H_l·W_l (statistics.ts).
 * - w is the term's whole weight: content_weight · w_l, style_weight · w_l, tv_weight.
 * - loss = Σ terms; `Evaluation.terms` reports the sums per {@link LossGroup}.
 * An engine implements each kind once and sums the terms per group with {@link groupTerms}. A new
 * kind of term is a new member of the union and an entry in {@link TERM_KINDS}; the compiler then
 * names every engine that must implement it.
 */
import {
  layerBlock,
  type LayerShape,
  type NetworkPlan,
  networkPlan,
  planShape,
} from "../plan/network.ts";
import type { ContentTerm } from "./content.ts";
import type { GramTerm, MaskedGramTerm } from "./gram.ts";
import type { LinearTerm } from "./linear.ts";
import { maskAtLayer } from "./layer_mask.ts";
import { covarianceFromGram, type MeanCovarianceTerm, meanPartWeight } from "./mean_covariance.ts";
import type { ObjectiveSpec, StyleTarget } from "./spec.ts";
import type { PositionSum } from "./statistics.ts";
import type { TvTerm } from "./tv.ts";

/** One weighted term of the loss. `weight` is the whole factor (e.g. content_weight · w_l). */
export type LossTerm =
  | ContentTerm
  | GramTerm
  | MaskedGramTerm
  | MeanCovarianceTerm
  | LinearTerm
  | TvTerm;

/** The kind of a term. */
export type TermKind = LossTerm["kind"];

/** The reported sums: `Evaluation.terms` has one entry per group, and the loss is their sum. */
export type LossGroup = "content" | "style" | "tv";

/** What the table says of a kind of term. */
export interface TermKindInfo {
  /** The group it adds to. */
  readonly group: LossGroup;
  /** The sums over positions its value is formed from (statistics.ts), each added over tiles. */
  readonly sums: readonly PositionSum[];
}

/** Each kind of term: its group, and the per-position sums its value is a function of. */
export const TERM_KINDS: Readonly<Record<TermKind, TermKindInfo>> = {
  content: { group: "content", sums: ["content-squared-difference"] },
  gram: { group: "style", sums: ["gram"] },
  "masked-gram": { group: "style", sums: ["masked-gram"] },
  "mean-covariance": { group: "style", sums: ["gram", "feature"] },
  linear: { group: "style", sums: ["masked-gram", "feature"] },
  tv: { group: "tv", sums: ["tv-squared-difference"] },
};

/** The whole objective: the forward pass to the deepest layer read, and the terms in table order. */
export interface LossPlan {
  readonly network: NetworkPlan;
  /** Content terms, then style terms (in the spec's order), then TV (always present; weight may be 0). */
  readonly terms: readonly LossTerm[];
}

/** The layers the terms read, each once, in table order. */
export function layersRead(terms: readonly LossTerm[]): string[] {
  return [...new Set(terms.flatMap((t) => ("layer" in t ? [t.layer] : [])))];
}

/**
 * The loss table of `spec`: validates every target against its layer's shape (RangeError naming
 * it) and resizes masks to their layer's resolution; throws LayerUnavailableError for a layer the
 * network or weights cannot provide.
 */
export function lossPlan(spec: ObjectiveSpec): LossPlan {
  const { height, width } = spec;
  const layers = [...new Set([...spec.content, ...spec.style].map((t) => t.layer))];
  const network = networkPlan(spec.weights, spec.pooling, height, width, layers, spec.padding);
  const terms: LossTerm[] = [];
  for (const c of spec.content) {
    const shape = planShape(network, c.layer);
    expectLength(`content target ${c.layer}`, c.activations.length, shape);
    terms.push({
      kind: "content",
      layer: c.layer,
      shape,
      weight: spec.contentWeight * c.weight,
      target: c.activations,
    });
  }
  for (const s of spec.style) {
    const shape = planShape(network, s.layer);
    const c = shape.channels;
    expectLength(`style target ${s.layer} Gram`, s.gram.length, { height: c, width: c });
    const weight = spec.styleWeight * s.weight;
    if (s.statistic === "mean-covariance") {
      terms.push(meanCovarianceTerm(s, shape, weight));
      continue;
    }
    if (!s.mask) {
      terms.push({ kind: "gram", layer: s.layer, shape, weight, gram: s.gram });
      continue;
    }
    expectLength(`style mask for ${s.layer}`, s.mask.length, { height, width });
    const mask = maskAtLayer(s.mask, height, width, layerBlock(network.arch, s.layer));
    terms.push({ kind: "masked-gram", layer: s.layer, shape, weight, gram: s.gram, mask });
  }
  terms.push({ kind: "tv", weight: spec.tvWeight });
  return { network, terms };
}

/** The `mean-covariance` term of a style target (RangeError when it has a mask or no mean). */
function meanCovarianceTerm(
  s: StyleTarget,
  shape: LayerShape,
  weight: number,
): MeanCovarianceTerm {
  if (s.mask) {
    throw new RangeError(`style target ${s.layer}: mean-covariance does not take a region mask`);
  }
  if (!s.mean) throw new RangeError(`style target ${s.layer}: mean-covariance needs the mean`);
  expectLength(`style target ${s.layer} mean`, s.mean.length, { height: 1, width: shape.channels });
  return {
    kind: "mean-covariance",
    layer: s.layer,
    shape,
    weight,
    covariance: covarianceFromGram(s.gram, s.mean),
    mean: s.mean,
    meanWeight: meanPartWeight(s.mean),
  };
}

/**
 * What makes two plans compute differently for different values: weights, pooling, size, padding
 * and each term's kind and layer, and whether a content term is masked (targets, masks and weights
 * are values). Engines key compiled
 * graphs on it.
 */
export function planStructure(plan: LossPlan, weightsId: string): string {
  const { network } = plan;
  const terms = plan.terms.map((t) => {
    const kind = t.kind === "content" && t.mask ? "masked-content" : t.kind;
    return "layer" in t ? `${kind}:${t.layer}` : kind;
  });
  const size = `${network.input.height}x${network.input.width}`;
  const padding = network.steps.map((s) => (s.kind === "conv" ? s.padding : "")).join(",");
  return [weightsId, network.pooling, size, padding, ...terms].join("|");
}

/**
 * Adds up per-term values into the reported groups: `value(term)` is an engine's value of one term
 * (a tensor, a graph node); `sum` adds a non-empty list; `zero` stands for an empty group.
 */
export function groupTerms<T>(
  terms: readonly LossTerm[],
  value: (term: LossTerm) => T,
  sum: (values: T[]) => T,
  zero: () => T,
): Record<LossGroup, T> {
  const values = terms.map((t) => ({ group: TERM_KINDS[t.kind].group, value: value(t) }));
  const group = (g: LossGroup) => {
    const vs = values.filter((v) => v.group === g).map((v) => v.value);
    return vs.length === 0 ? zero() : vs.length === 1 ? vs[0] : sum(vs);
  };
  return { content: group("content"), style: group("style"), tv: group("tv") };
}

function expectLength(
  what: string,
  length: number,
  shape: { height: number; width: number; channels?: number },
): void {
  const dims = [
    shape.height,
    shape.width,
    ...(shape.channels === undefined ? [] : [shape.channels]),
  ];
  const expected = dims.reduce((a, b) => a * b, 1);
  if (length !== expected) {
    throw new RangeError(`${what} has ${length} values, expected ${dims.join("×")}`);
  }
}
