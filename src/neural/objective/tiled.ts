/**
 * Exact tiled evaluation: the objective of engines/engine.ts (f and ∇f) and the targets' statistics
 * computed crop by crop, so that an engine holds one crop's activations at a time. Each term is a
 * sum over the positions of a layer, so each tile adds what it owns (tiling.ts: the owned positions'
 * features equal the whole image's):
 *
 * 1. First pass, per tile: the engine's {@link Engine.statistics} of the crop, masked to the owned
 *    positions: S = Σ_owned (mF)(mF)ᵀ and s = Σ_owned mF per style term (m its region mask).
 *    Their sums over the tiles are the whole image's, so the style loss is formed from them on the
 *    host with the whole image's normalization, and with it R = ∂L/∂S and r = ∂L/∂s.
 * 2. Second pass, per tile: the engine's f and ∇f of a crop whose terms are `linear` (⟨R, S_tile⟩ +
 *    ⟨r, s_tile⟩, whose gradient by the owned features is the whole loss's) and `content` masked to
 *    the owned positions with the whole image's mean. The crop gradients add into the image's.
 * 3. TV reads pixels only: it is computed on the host over the whole image.
 *
 * The loss equals the whole-image loss up to float summation order; the statistics accumulate over
 * tiles in float64. Departure: the mean-covariance term's covariance is formed as S/N − μμᵀ (one
 * pass) where the engines centre the features first, which loses digits when |μ| ≫ σ.
 */
import {
  adoptValues,
  type DisposableObjective,
  type Engine,
  type Evaluation,
  type LayerStatistics,
  readValues,
  type StatisticsRequest,
} from "../engines/engine.ts";
import type { VggWeights } from "../models/weights_types.ts";
import {
  layerBlock,
  layerShape,
  networkPlan,
  type Padding,
  type Pooling,
} from "../plan/network.ts";
import { gramFromSum } from "./gram.ts";
import { maskAtLayer } from "./layer_mask.ts";
import type { Activation, ObjectiveSpec } from "./spec.ts";
import { layersRead, type LossPlan, lossPlan, type LossTerm } from "./terms.ts";
import { checkTiling, ownedAtLayer, type Tile, tilesOf, type Tiling } from "./tiling.ts";

/** A style term of the whole-image table (the kinds the first pass gathers statistics for). */
type StyleTerm = Extract<LossTerm, { kind: "gram" | "masked-gram" | "mean-covariance" }>;

/** ∂L/∂S and ∂L/∂s of one style term (the `linear` term's R and r), and its value. */
interface StyleGradient {
  readonly loss: number;
  readonly gram: Float32Array;
  readonly sum: Float32Array;
}

/**
 * f and ∇f equal to `engine.objective(spec)`'s up to float summation order, evaluated tile by tile
 * (peak engine memory bounded by one crop of `tiling`, which must be a tiling of spec's size for the
 * layers its terms read: tiling.ts tilingFor). The host keeps the image, its gradient and the
 * table's targets.
 */
export function tiledObjective<V>(
  engine: Engine<V>,
  spec: ObjectiveSpec,
  tiling: Tiling,
): Promise<DisposableObjective<V>> {
  const { height, width, weights } = spec;
  const plan = lossPlan(spec);
  const arch = weights.arch;
  checkTiling(arch, layersRead(plan.terms), tiling);
  const tiles = bySize(tilesOf(tiling, height, width));
  const styleTerms = plan.terms.filter(isStyleTerm);
  const contentTerms = plan.terms.flatMap((t) => (t.kind === "content" ? [t] : []));
  const tvWeight = plan.terms.find((t) => t.kind === "tv")?.weight ?? 0;
  const cropOf = (tile: Tile, x: Float32Array) => cropImage(x, width, tile);
  const padding = firstPadding(plan);

  /** The first pass: the owned statistics of every style term, summed over the tiles. */
  const gather = async (x: Float32Array): Promise<{ gram: Float64Array; sum: Float64Array }[]> => {
    const sums = styleTerms.map((t) => ({
      gram: new Float64Array(t.shape.channels ** 2),
      sum: new Float64Array(t.shape.channels),
    }));
    if (styleTerms.length === 0) return sums;
    for (const tile of tiles) {
      const requests: StatisticsRequest[] = styleTerms.map((t) => ({
        layer: t.layer,
        mask: tileMask(arch, t.layer, tile, height, width, regionMask(t)),
      }));
      const crop = { ...cropSize(tile), data: cropOf(tile, x) };
      const stats = await engine.statistics(weights, spec.pooling, crop, requests, padding);
      stats.forEach((s, i) => addInto(sums[i], s));
    }
    return sums;
  };

  /** The second pass's table for one tile. */
  const tilePlan = (tile: Tile, gradients: readonly StyleGradient[]): LossPlan => {
    const { height: cropH, width: cropW } = cropSize(tile);
    const layers = layersRead(plan.terms);
    const network = networkPlan(weights, spec.pooling, cropH, cropW, layers, padding);
    const terms: LossTerm[] = [];
    for (const t of contentTerms) {
      const shape = layerShape(arch, t.layer, cropH, cropW);
      const mask = tileMask(arch, t.layer, tile, height, width);
      const target = cropLayer(t.target, t.shape, arch, t.layer, tile, height, width);
      // The crop's mean divides by its own size; the whole image's by its.
      const weight = t.weight * (shape.height * shape.width) / (t.shape.height * t.shape.width);
      terms.push({ kind: "content", layer: t.layer, shape, weight, target, mask });
    }
    styleTerms.forEach((t, i) => {
      const shape = layerShape(arch, t.layer, cropH, cropW);
      const mask = tileMask(arch, t.layer, tile, height, width, regionMask(t));
      const { gram, sum } = gradients[i];
      terms.push({ kind: "linear", layer: t.layer, shape, weight: 1, gram, sum, mask });
    });
    terms.push({ kind: "tv", weight: 0 });
    return { network, terms };
  };

  const objective: DisposableObjective<V> = {
    evaluate: async (xv: V): Promise<Evaluation<V>> => {
      const x = await readValues(engine.vec, xv);
      if (x.length !== height * width * 3) {
        throw new RangeError(`x has ${x.length} values, expected ${height}×${width}×3`);
      }
      const sums = await gather(x);
      const gradients = styleTerms.map((t, i) => styleGradient(t, sums[i]));
      const grad = new Float32Array(x.length);
      let content = 0;
      for (const tile of tiles) {
        const tileObjective = await engine.planObjective(weights, tilePlan(tile, gradients));
        try {
          const crop = engine.vec.fromArray(cropOf(tile, x));
          try {
            const e = await tileObjective.evaluate(crop);
            content += e.terms.content;
            const g = await engine.vec.toArray(e.grad);
            engine.vec.dispose(e.grad);
            addCrop(grad, width, tile, g);
          } finally {
            engine.vec.dispose(crop);
          }
        } finally {
          tileObjective.dispose();
        }
      }
      const style = gradients.reduce((a, g) => a + g.loss, 0);
      const tv = tvWeight === 0 ? 0 : addTv(x, height, width, tvWeight, grad);
      return {
        loss: content + style + tv,
        grad: adoptValues(engine.vec, grad),
        terms: { content, style, tv },
      };
    },
    dispose: () => {},
  };
  return Promise.resolve(objective);
}

/** What {@link tiledExtract} computes: activations of some layers, statistics of others. */
export interface TiledExtractRequest {
  /** Layers whose whole activations are returned (content targets). */
  readonly activations: readonly string[];
  /** Layers whose Gram matrix and mean are returned (style targets), each optionally masked. */
  readonly statistics: readonly {
    readonly layer: string;
    /** Region mask at the image's resolution (H × W, values 0–1), area-resized per layer. */
    readonly mask?: Float32Array;
  }[];
}

/** The normalized statistics of one layer of the whole image, as engine.ts defines them. */
export interface StyleStatistics {
  /** G = (MF)ᵀ(MF) / (H_l·W_l·C_l), C × C row-major (losses/targets.ts gramMatrix). */
  readonly gram: Float32Array;
  /** μ = (MF)ᵀ1 / (H_l·W_l), C values (losses/targets.ts featureMean when unmasked). */
  readonly mean: Float32Array;
}

/**
 * `engine.extract`'s results computed tile by tile (one crop's activations in the engine at a
 * time): the whole activations of `request.activations` (content targets) and, per entry of
 * `request.statistics`, the Gram matrix and mean of the whole image (style targets), without
 * holding that layer's activations anywhere. `tiling` must be for all the layers named.
 */
export async function tiledExtract<V>(
  engine: Engine<V>,
  weights: VggWeights,
  pooling: Pooling,
  image: { height: number; width: number; data: Float32Array },
  request: TiledExtractRequest,
  tiling: Tiling,
  padding: Padding = "zero",
): Promise<{ activations: Map<string, Activation>; statistics: StyleStatistics[] }> {
  const { height, width, data } = image;
  if (data.length !== height * width * 3) {
    throw new RangeError(`image has ${data.length} values, expected ${height}×${width}×3`);
  }
  const arch = weights.arch;
  const layers = [...new Set(request.activations)];
  const all = [...layers, ...request.statistics.map((s) => s.layer)];
  networkPlan(weights, pooling, height, width, all, padding); // names a missing layer up front
  checkTiling(arch, all, tiling);
  const tiles = tilesOf(tiling, height, width);
  const activations = new Map(layers.map((layer) => {
    const shape = layerShape(arch, layer, height, width);
    const data = new Float32Array(shape.height * shape.width * shape.channels);
    return [layer, { ...shape, data }];
  }));
  const masks = request.statistics.map((s) =>
    s.mask && maskAtLayer(s.mask, height, width, layerBlock(arch, s.layer))
  );
  const sums = request.statistics.map((s) => {
    const c = layerShape(arch, s.layer, height, width).channels;
    return { gram: new Float64Array(c * c), sum: new Float64Array(c) };
  });
  for (const tile of tiles) {
    const crop = { ...cropSize(tile), data: cropImage(data, width, tile) };
    if (layers.length > 0) {
      const out = await engine.extract(weights, pooling, crop, layers, padding);
      for (const layer of layers) {
        copyOwned(out.get(layer)!, activations.get(layer)!, arch, layer, tile, height, width);
      }
    }
    if (request.statistics.length > 0) {
      const requests = request.statistics.map((s, i) => ({
        layer: s.layer,
        mask: tileMask(arch, s.layer, tile, height, width, masks[i]),
      }));
      const stats = await engine.statistics(weights, pooling, crop, requests, padding);
      stats.forEach((s, i) => addInto(sums[i], s));
    }
  }
  const results = request.statistics.map((s, i) => {
    const { height: h, width: w, channels: c } = layerShape(arch, s.layer, height, width);
    const { gram, sum } = symmetric(sums[i]);
    return { gram: gramFromSum(gram, h * w, c), mean: Float32Array.from(sum, (v) => v / (h * w)) };
  });
  return { activations, statistics: results };
}

function isStyleTerm(t: LossTerm): t is StyleTerm {
  return t.kind === "gram" || t.kind === "masked-gram" || t.kind === "mean-covariance";
}

function regionMask(t: StyleTerm): Float32Array | undefined {
  return t.kind === "masked-gram" ? t.mask : undefined;
}

/** The padding of the table's first conv (inputPadding already applied for the whole image). */
function firstPadding(plan: LossPlan): Padding {
  const first = plan.network.steps[0];
  return first?.kind === "conv" ? first.padding : "zero";
}

/**
 * The loss of one style term from the whole image's raw sums S and s (symmetrized), and its
 * derivatives R = ∂L/∂S, r = ∂L/∂s (engine.ts's definitions with N = H_l·W_l, C = C_l).
 */
function styleGradient(
  t: StyleTerm,
  raw: { gram: Float64Array; sum: Float64Array },
): StyleGradient {
  const { height, width, channels: c } = t.shape;
  const n = height * width;
  const { gram: s, sum } = symmetric(raw);
  const g = s.map((v) => v / (n * c));
  const dS = new Float32Array(c * c);
  const dSum = new Float32Array(c);
  let loss = 0;
  if (t.kind !== "mean-covariance") {
    // L = w·Σ(G − A)²/C², G = S/(N·C)
    for (let i = 0; i < c * c; i++) {
      const d = g[i] - t.gram[i];
      loss += d * d;
      dS[i] = 2 * t.weight * d / (c * c) / (n * c);
    }
    return { loss: t.weight * loss / (c * c), gram: dS, sum: dSum };
  }
  // L = w·(Σ(Σ − S_t)²/C² + λ·Σ(μ − m)²/C), μ = s/N, Σ = G − μμᵀ/C
  const mu = sum.map((v) => v / n);
  const e = new Float64Array(c * c);
  let covPart = 0;
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) {
      const d = g[i * c + j] - mu[i] * mu[j] / c - t.covariance[i * c + j];
      covPart += d * d;
      e[i * c + j] = 2 * t.weight * d / (c * c); // ∂L/∂Σ = ∂L/∂G
      dS[i * c + j] = e[i * c + j] / (n * c);
    }
  }
  let meanPart = 0;
  for (let i = 0; i < c; i++) {
    const d = mu[i] - t.mean[i];
    meanPart += d * d;
    let eMu = 0; // (E + Eᵀ)μ
    for (let j = 0; j < c; j++) eMu += (e[i * c + j] + e[j * c + i]) * mu[j];
    dSum[i] = (2 * t.weight * t.meanWeight * d / c - eMu / c) / n;
  }
  loss = t.weight * (covPart / (c * c) + t.meanWeight * meanPart / c);
  return { loss, gram: dS, sum: dSum };
}

/** (S + Sᵀ)/2 and s: the engine's float Gram sum need not be bit-symmetric. */
function symmetric(raw: { gram: Float64Array; sum: Float64Array }) {
  const c = raw.sum.length;
  const gram = new Float64Array(c * c);
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) gram[i * c + j] = (raw.gram[i * c + j] + raw.gram[j * c + i]) / 2;
  }
  return { gram, sum: raw.sum };
}

function addInto(acc: { gram: Float64Array; sum: Float64Array }, s: LayerStatistics): void {
  for (let i = 0; i < acc.gram.length; i++) acc.gram[i] += s.gram[i];
  for (let i = 0; i < acc.sum.length; i++) acc.sum[i] += s.sum[i];
}

/**
 * The tile's mask at `layer` over its crop's grid: 1 at the owned positions (times the whole
 * image's region mask at that layer, `region`, when given), 0 in the halo.
 */
function tileMask(
  arch: VggWeights["arch"],
  layer: string,
  tile: Tile,
  height: number,
  width: number,
  region?: Float32Array,
): Float32Array {
  const { inCrop, inImage, crop: [h, w] } = ownedAtLayer(arch, layer, tile, height, width);
  const imageWidth = layerShape(arch, layer, height, width).width;
  const mask = new Float32Array(h * w);
  for (let y = inCrop.y.start; y < inCrop.y.end; y++) {
    const iy = y - inCrop.y.start + inImage.y.start;
    for (let x = inCrop.x.start; x < inCrop.x.end; x++) {
      const ix = x - inCrop.x.start + inImage.x.start;
      mask[y * w + x] = region ? region[iy * imageWidth + ix] : 1;
    }
  }
  return mask;
}

/** The crop-grid window of a whole-image HWC layer array (content target); 0 outside the image's. */
function cropLayer(
  data: Float32Array,
  shape: { height: number; width: number; channels: number },
  arch: VggWeights["arch"],
  layer: string,
  tile: Tile,
  height: number,
  width: number,
): Float32Array {
  const { crop: [h, w] } = ownedAtLayer(arch, layer, tile, height, width);
  const c = shape.channels;
  const s = 2 ** (layerBlock(arch, layer) - 1);
  const y0 = tile.crop.y.start / s, x0 = tile.crop.x.start / s;
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h && y0 + y < shape.height; y++) {
    const from = ((y0 + y) * shape.width + x0) * c;
    const n = Math.min(w, shape.width - x0) * c;
    out.set(data.subarray(from, from + n), y * w * c);
  }
  return out;
}

/** Copies a crop's owned positions of `layer` into the whole image's activations. */
function copyOwned(
  crop: Activation,
  into: Activation,
  arch: VggWeights["arch"],
  layer: string,
  tile: Tile,
  height: number,
  width: number,
): void {
  const { inCrop, inImage } = ownedAtLayer(arch, layer, tile, height, width);
  const c = into.channels;
  const n = (inCrop.x.end - inCrop.x.start) * c;
  for (let y = inCrop.y.start; y < inCrop.y.end; y++) {
    const from = (y * crop.width + inCrop.x.start) * c;
    const iy = y - inCrop.y.start + inImage.y.start;
    into.data.set(crop.data.subarray(from, from + n), (iy * into.width + inImage.x.start) * c);
  }
}

/** The tiles, those of one crop size together (an engine keeps one compiled size at a time). */
function bySize(tiles: readonly Tile[]): Tile[] {
  const key = (t: Tile) => `${cropSize(t).height}x${cropSize(t).width}`;
  const order = [...new Set(tiles.map(key))];
  return [...tiles].sort((a, b) => order.indexOf(key(a)) - order.indexOf(key(b)));
}

function cropSize(tile: Tile): { height: number; width: number } {
  return {
    height: tile.crop.y.end - tile.crop.y.start,
    width: tile.crop.x.end - tile.crop.x.start,
  };
}

/** The tile's crop of an HWC RGB image of `width` columns. */
function cropImage(x: Float32Array, width: number, tile: Tile): Float32Array {
  const { y, x: cols } = tile.crop;
  const w = cols.end - cols.start;
  const out = new Float32Array((y.end - y.start) * w * 3);
  for (let r = y.start; r < y.end; r++) {
    const from = (r * width + cols.start) * 3;
    out.set(x.subarray(from, from + w * 3), (r - y.start) * w * 3);
  }
  return out;
}

/** Adds a crop's gradient (HWC RGB) into the whole image's. */
function addCrop(grad: Float32Array, width: number, tile: Tile, g: Float32Array): void {
  const { y, x: cols } = tile.crop;
  const w = cols.end - cols.start;
  for (let r = y.start; r < y.end; r++) {
    const into = (r * width + cols.start) * 3;
    const from = (r - y.start) * w * 3;
    for (let i = 0; i < w * 3; i++) grad[into + i] += g[from + i];
  }
}

/** The TV term (engine.ts) of x, its gradient added into `grad`; returns its value. */
function addTv(
  x: Float32Array,
  height: number,
  width: number,
  weight: number,
  grad: Float32Array,
): number {
  let sum = 0;
  const step = (a: number, b: number) => {
    const d = x[b] - x[a];
    sum += d * d;
    grad[a] -= 2 * weight * d;
    grad[b] += 2 * weight * d;
  };
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      for (let c = 0; c < 3; c++) {
        const p = (i * width + j) * 3 + c;
        if (i + 1 < height) step(p, p + width * 3);
        if (j + 1 < width) step(p, p + 3);
      }
    }
  }
  return weight * sum;
}
