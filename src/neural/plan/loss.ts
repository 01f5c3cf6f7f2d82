/**
 * The loss as an engine-neutral table: one {@link LossTerm} per weighted term, each saying what it
 * reads (a layer of the {@link NetworkPlan}, or the image), its full weight and its target, already
 * checked against the layer's shape. The exact definition of every term kind is in
 * engines/engine.ts; an engine implements each kind once and sums the terms per
 * {@link LossGroup} with {@link groupTerms}. A new kind of term is a new member of the union and an
 * entry in {@link TERM_GROUP}; the compiler then names every engine that must implement it.
 */
import type { ObjectiveSpec, StyleTarget } from "../engines/engine.ts";
import { covarianceFromGram, meanPartWeight } from "../losses/targets.ts";
import { maskAtLayer } from "../models/layer_mask.ts";
import {
  layerBlock,
  type LayerShape,
  type NetworkPlan,
  networkPlan,
  planShape,
} from "./network.ts";

/** One weighted term of the loss. `weight` is the whole factor (e.g. content_weight · w_l). */
export type LossTerm =
  | {
    /** mean((F_l − P_l)²). */
    readonly kind: "content";
    readonly layer: string;
    readonly shape: LayerShape;
    readonly weight: number;
    /** P_l, HWC [H_l, W_l, C_l]. */
    readonly target: Float32Array;
    /**
     * Optional M_l (H_l × W_l): the term is then mean(M_l ⊙ (F_l − P_l)²), M_l broadcast over
     * channels, the mean still over all H_l·W_l·C_l entries (tiled evaluation: the owned positions).
     */
    readonly mask?: Float32Array;
  }
  | {
    /** mean((G_l − A_l)²) over the C_l² entries, G_l the normalized Gram matrix. */
    readonly kind: "gram";
    readonly layer: string;
    readonly shape: LayerShape;
    readonly weight: number;
    /** A_l, C_l × C_l row-major. */
    readonly gram: Float32Array;
  }
  | {
    /** As `gram`, with the rows (pixels) of F_l multiplied by the mask M_l first. */
    readonly kind: "masked-gram";
    readonly layer: string;
    readonly shape: LayerShape;
    readonly weight: number;
    /** A_l, C_l × C_l row-major. */
    readonly gram: Float32Array;
    /** M_l at the layer's resolution (H_l × W_l, area-averaged from the image's mask). */
    readonly mask: Float32Array;
  }
  | {
    /** mean((Σ_l − S_l)²) + λ·mean((μ_l − m_l)²): the style's mean and covariance (engine.ts). */
    readonly kind: "mean-covariance";
    readonly layer: string;
    readonly shape: LayerShape;
    readonly weight: number;
    /** S_l, C_l × C_l row-major. */
    readonly covariance: Float32Array;
    /** m_l, C_l values. */
    readonly mean: Float32Array;
    /** λ, the mean part's weight relative to the covariance part's. */
    readonly meanWeight: number;
  }
  | {
    /**
     * ⟨R, (M_l F_l)ᵀ(M_l F_l)⟩ + ⟨r, (M_l F_l)ᵀ1⟩: linear in the layer's masked Gram sum and feature
     * sum (raw sums, not normalized). Its gradient is the exact style gradient of a tile when R and
     * r are the whole loss's derivatives by those sums (objective/tiled.ts, second pass).
     */
    readonly kind: "linear";
    readonly layer: string;
    readonly shape: LayerShape;
    readonly weight: number;
    /** R, C_l × C_l row-major. */
    readonly gram: Float32Array;
    /** r, C_l values. */
    readonly sum: Float32Array;
    /** M_l, H_l × W_l. */
    readonly mask: Float32Array;
  }
  | {
    /** Total variation of the image x. */
    readonly kind: "tv";
    readonly weight: number;
  };

/** The kind of a term. */
export type TermKind = LossTerm["kind"];

/** The reported sums: `Evaluation.terms` has one entry per group, and the loss is their sum. */
export type LossGroup = "content" | "style" | "tv";

/** The groups in the order engines report and add them. */
export const LOSS_GROUPS: readonly LossGroup[] = ["content", "style", "tv"];

/** Which group each kind of term adds to. */
export const TERM_GROUP: Readonly<Record<TermKind, LossGroup>> = {
  content: "content",
  gram: "style",
  "masked-gram": "style",
  "mean-covariance": "style",
  linear: "style",
  tv: "tv",
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
function meanCovarianceTerm(s: StyleTarget, shape: LayerShape, weight: number): LossTerm {
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
 * and each term's kind, layer and whether a content term is masked (targets, masks and weights
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
  const values = terms.map((t) => ({ group: TERM_GROUP[t.kind], value: value(t) }));
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
