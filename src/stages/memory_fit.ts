/**
 * The memory model of a transfer and how the plan fits it into a budget (DESIGN.md "Memory budget
 * and tiling"). Peak = engine base + one evaluation's activations (the whole image, or the largest
 * tile with its halo) + the optimizer's image-sized vectors + what the step holds besides: content
 * targets (image-sized, e.g. 64 B a pixel at relu3_2), style targets (C² per layer) and masks, and
 * host copies of the images.
 *
 * The choice, in order: the whole image whenever it fits (or the recipe's `tile:`); else the
 * largest tile that fits with every L-BFGS pair the run can fill (min(lbfgs_history, iterations):
 * pairs beyond the iteration count are never stored, so capping them changes nothing), evened out
 * so the grid's tiles are equal; where no tile of {@link PREFERRED_TILE} px fits, fewer pairs
 * (down to {@link MIN_PAIRS}) before smaller tiles (down to {@link minTile}). Fewer pairs keep
 * L-BFGS's convergence per evaluation far better than Adam's and are exact on every engine, where
 * a compact (16-bit) history would change the iterates and save only half. Below that the
 * estimate stays over the budget and `render` refuses.
 */
import { layerShape } from "../neural/plan/network.ts";
import { layerNames, type VggArch } from "../neural/models/layers.ts";
import { tilingFor } from "../neural/objective/tiling.ts";
import { type CostTiling, transferEstimate, type TransferWork } from "./neural_cost.ts";
import type { Estimate, MemoryFit, PlannedFeatures } from "./stage.ts";

/**
 * The share of the budget the model fills: it predicted the peak RSS of the renders measured
 * within 2 % (docs/tiling.md), so 5 % stays free for its error.
 */
export const FIT_SHARE = 0.95;

/** Fewest L-BFGS pairs the plan lowers a history to (fewer is scaled gradient descent). */
export const MIN_PAIRS = 3;

/**
 * Tiles the fit keeps by giving up L-BFGS pairs first: below this side the halo and the per-tile
 * overhead of the engine call cost every evaluation, where pairs beyond a few only refine the
 * curvature model (DESIGN.md "Memory budget and tiling").
 */
export const PREFERRED_TILE = 512;

/** Tile sides are multiples of this (VGG's stride at block 5, so every pooling aligns). */
export const TILE_ALIGN = 16;

/**
 * RGB float copies of the canvas a transfer holds at its peak, besides the optimizer's vectors:
 * the content image, the start (or the enlarged previous result), and at the end the result read
 * back, rescaled and cropped while the optimizer's state is still alive.
 */
export const TRANSFER_IMAGES = 5;

/** The smallest tile worth its halo: one whose halo at most doubles the evaluated area. */
export function minTile(halo: number): number {
  const side = Math.ceil(2 * halo / (Math.SQRT2 - 1));
  return Math.max(4 * TILE_ALIGN, Math.ceil(side / TILE_ALIGN) * TILE_ALIGN);
}

/**
 * Floats a step on a `width` × `height` canvas holds besides its optimizer's vectors: targets,
 * masks, `images` RGB copies of the canvas and the style image.
 */
export function heldFloats(
  features: PlannedFeatures | undefined,
  width: number,
  height: number,
  extra: { readonly margin: boolean; readonly images: number },
): number {
  const pixels = width * height;
  const arch = archOf(features?.model);
  const content = features?.contentLayers ?? ["relu4_2"];
  const style = features?.styleLayers ?? ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"];
  const scale = features?.styleScale ?? 1;
  let floats = 0;
  for (const layer of content) {
    const s = layerShape(arch, layer, height, width);
    // With a margin the targets are recomputed on the larger canvas while the first ones live on.
    floats += s.height * s.width * s.channels * (extra.margin ? 2 : 1);
  }
  for (const layer of style) {
    const c = layerShape(arch, layer, 1, 1).channels;
    floats += 2 * c * c; // the style's Gram and the photo's own (relative normalisation)
  }
  if (features?.masked) floats += pixels; // one mask per style at the content's size (one style)
  return floats + pixels * 3 * (extra.images + scale * scale);
}

/** What {@link fitTransfer} decides from. */
export interface FitRequest {
  readonly engine: string;
  /** The work at the whole image, without tiling; its optimizerVectors counts no pairs. */
  readonly work: TransferWork;
  /** L-BFGS pairs the run would keep (min(history, iterations)); 0 for Adam. */
  readonly pairs: number;
  /**
   * A checkpoint is written during the run (`checkpoint_every` below the iterations): its encoded
   * copy of the optimizer's state is held beside it until the garbage collector frees it (measured:
   * at 1024×768 with 20 pairs the resident memory stayed 1.1 GB higher from one checkpoint to the
   * next while the encoding copied the state three times; once since).
   */
  readonly checkpointed?: boolean;
  /** Budget in bytes (absent: the whole image, unbounded). */
  readonly budget?: number;
  /** The recipe's `tile:` (forces tiling at that side). */
  readonly tile?: number;
  /** The tiling of the canvas for a tile side (tile-core's tilingFor at the step's layers). */
  readonly tilingOf: (tile: number) => CostTiling;
}

/** The estimate of the fitted run, with its fit (absent: whole image, every pair) and tiling. */
export function fitTransfer(r: FitRequest): Estimate {
  const budget = (r.budget ?? Infinity) * FIT_SHARE;
  const bytesAt = (pairs: number, tiling?: CostTiling) => estimateAt(r, pairs, tiling).bytes;
  if (r.tile === undefined && bytesAt(r.pairs) <= budget) return fitted(r, r.pairs);
  const lowest = Math.min(r.pairs, MIN_PAIRS);
  const tilings = r.tile === undefined ? candidateTilings(r) : [r.tilingOf(r.tile)];
  const preferred = tilings.filter((t) => t.tile >= PREFERRED_TILE);
  for (let pairs = r.pairs; pairs >= lowest; pairs--) {
    const fits = preferred.find((t) => bytesAt(pairs, t) <= budget);
    if (fits) return fitted(r, pairs, fits);
  }
  const fits = tilings.find((t) => bytesAt(lowest, t) <= budget);
  if (fits) return fitted(r, lowest, fits);
  return fitted(r, lowest, tilings.at(-1));
}

/**
 * Image-sized vectors a tiled evaluation adds on the host: x read back, and the gradient summed
 * over the tiles (objective/tiled.ts).
 */
const TILED_VECTORS = 2;

/** The estimate with `pairs` L-BFGS pairs and `tiling`. */
function estimateAt(r: FitRequest, pairs: number, tiling?: CostTiling): Estimate {
  // The checkpoint's copy: x, g and the pairs for L-BFGS; x, g, m and v for Adam.
  const checkpoint = r.checkpointed ? (r.pairs === 0 ? 4 : 2 + 2 * pairs) : 0;
  const vectors = r.work.optimizerVectors + 2 * pairs + (tiling ? TILED_VECTORS : 0) + checkpoint;
  return transferEstimate(r.engine, { ...r.work, optimizerVectors: vectors, tiling });
}

/** {@link estimateAt} with the fit and tiling that `plan` shows and the stage gets. */
function fitted(r: FitRequest, pairs: number, tiling?: CostTiling): Estimate {
  const fit: MemoryFit = {
    ...(tiling ? { tile: tiling.tile } : {}),
    ...(pairs < r.pairs ? { history: pairs } : {}),
  };
  return {
    ...estimateAt(r, pairs, tiling),
    ...(Object.keys(fit).length ? { fit } : {}),
    ...(tiling ? { tiling: { ...tiling } } : {}),
  };
}

/**
 * Tilings from the largest tile down to {@link minTile}, each evened out: the fewest tiles of
 * that side's grid, made equal, so no thin last row or column pays a whole halo.
 */
function candidateTilings(r: FitRequest): CostTiling[] {
  const { width, height } = r.work;
  const largest = alignUp(Math.max(width, height));
  const smallest = Math.min(largest, minTile(r.tilingOf(largest).halo));
  const out: CostTiling[] = [];
  for (let side = largest; side >= smallest; side -= TILE_ALIGN) {
    const grid = r.tilingOf(side);
    const even = alignUp(Math.max(Math.ceil(width / grid.cols), Math.ceil(height / grid.rows)));
    const tiling = r.tilingOf(Math.min(side, even));
    if (tiling.rows * tiling.cols > 1 && !out.some((t) => t.tile === tiling.tile)) out.push(tiling);
  }
  return out.length ? out : [r.tilingOf(smallest)];
}

/** `n` rounded up to a multiple of {@link TILE_ALIGN}. */
function alignUp(n: number): number {
  return Math.ceil(n / TILE_ALIGN) * TILE_ALIGN;
}

/** The architecture of a model folder name (vgg16, else vgg19). */
export function archOf(model: string | undefined): VggArch {
  return model === "vgg16" ? "vgg16" : "vgg19";
}

/** The deepest of `layers` in forward order. */
export function deepestOf(arch: VggArch, layers: readonly string[]): string {
  const order = layerNames(arch);
  return layers.reduce((a, b) => order.indexOf(b) > order.indexOf(a) ? b : a);
}

/**
 * The estimate of extracting targets (content at `width` × `height`, and the style image),
 * fitted into the budget: the whole image when it fits, else the largest tile that does.
 */
export function fitExtraction(
  engine: string,
  features: PlannedFeatures,
  width: number,
  height: number,
  budget: number | undefined,
): Estimate {
  const arch = archOf(features.model);
  const layers = [...features.contentLayers, ...features.styleLayers];
  // The style image (style_scale × the content's side) is extracted alone, with the same tile.
  const side = Math.max(1, features.styleScale);
  const [w, h] = [Math.round(width * side), Math.round(height * side)];
  const { seconds: _, ...estimate } = fitTransfer({
    engine,
    work: {
      width: w,
      height: h,
      evaluations: 1,
      optimizerVectors: 0,
      deepest: deepestOf(arch, layers),
      heldFloats: heldFloats(features, width, height, { margin: false, images: 1 }),
    },
    pairs: 0,
    budget,
    tilingOf: (tile) => tilingFor(arch, layers, h, w, tile),
  });
  return estimate;
}
