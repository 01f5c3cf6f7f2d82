/**
 * Time and memory of a style-transfer run at a given size, per engine, from measured figures
 * (for `plan`). The model: one evaluation (forward + input gradient) costs the convolution FLOPs
 * of VGG19 up to relu5_1 (the paper's deepest layer; an upper bound for recipes using fewer
 * layers); memory is a fixed engine overhead plus, per input pixel, the activations kept for the
 * backward pass and the optimizer's image-sized vectors.
 */
import { convFor } from "../neural/models/layers.ts";
import { convFlops, vggPlan } from "../neural/plan/network.ts";
import type { Estimate } from "./stage.ts";
import { cropLength } from "../neural/objective/tiling.ts";

/** Measured throughput and memory of one engine. */
interface EngineFigures {
  /** Effective convolution GFLOP/s of a forward + backward evaluation. */
  readonly gflops: number;
  /** Resident bytes per activation float kept (activations, their gradients, engine buffers). */
  readonly bytesPerActivation: number;
  /** Resident bytes independent of the image size (runtime, weights, graph). */
  readonly baseBytes: number;
}

/**
 * From `deno task bench --engine onnx,wasm --sizes 128,256,512 --iterations 0` (workload W: VGG19
 * to relu5_1, whose FLOPs are counted as {@link perPixel} counts them, 580 activation floats per
 * pixel) on the project's 2-core x86-64 machine, quiet (load average ≈ 1):
 *   onnx 128²: 200 ms, 527 MB; 256²: 761 ms, 585 MB; 512²: 3.54 s, 1031 MB
 *        → 110 GFLOP/s (the slowest size), 3.9 B/activation, 440 MB base
 *   wasm 128²: 2.90 s, 680 MB; 256²: 11.7 s, 1206 MB; 512²: 46.1 s, 3416 MB
 *        → 8 GFLOP/s, 19.4 B/activation, 470 MB base
 *   cpu   64²: 7.52 s, 254 MB (real weights to relu3_2) → 0.32 GFLOP/s, memory as wasm
 * Engines not measured here (webgpu, tfjs-node, tfjs-node-gpu) use the tfjs cpu figures: an upper
 * bound on time.
 */
const FIGURES: Record<string, EngineFigures> = {
  // onnx's bytes per activation: 3.9 from the runs above, raised to 5.2 by a whole 1024×768 step
  // to relu3_2 (10 iterations, strong Wolfe: 2.41 GiB measured where 3.9 B predicted 2.00 GiB;
  // ONNX Runtime's arena grows in powers of two); TILED_SESSIONS was recalibrated with it.
  onnx: { gflops: 110, bytesPerActivation: 5.2, baseBytes: 440e6 },
  wasm: { gflops: 8, bytesPerActivation: 19.4, baseBytes: 470e6 },
  cpu: { gflops: 0.32, bytesPerActivation: 19.4, baseBytes: 470e6 },
};

/** The figures used for `engine` (`auto` on a machine without a GPU plugin is onnx). */
function figuresFor(engine: string): EngineFigures {
  if (engine === "auto") return FIGURES.onnx;
  return FIGURES[engine] ?? FIGURES.cpu;
}

/** An input side that every VGG19 pool halves exactly, so per-pixel figures come out exact. */
const REFERENCE_SIDE = 256;

/** Per input pixel: convolution FLOPs (forward + input gradient) and activation floats kept. */
function perPixel(deepest: string): { flops: number; activations: number } {
  const relu = convFor("vgg19", deepest)!.name.replace("conv", "relu");
  const plan = vggPlan("vgg19", "avg", REFERENCE_SIDE, REFERENCE_SIDE, [relu]);
  const pixels = REFERENCE_SIDE * REFERENCE_SIDE;
  let activations = 0; // conv outputs and ReLU outputs
  for (const step of plan.steps) {
    const { height, width, channels } = step.output;
    if (step.kind !== "pool") activations += height * width * channels;
  }
  return { flops: 2 * convFlops(plan) / pixels, activations: activations / pixels };
}

/** A tiling as the cost model needs it: tile side, halo, rows × columns. */
export interface CostTiling {
  readonly tile: number;
  readonly halo: number;
  readonly rows: number;
  readonly cols: number;
}

/** What a run at `width` × `height` does. */
export interface TransferWork {
  readonly width: number;
  readonly height: number;
  /** Loss-and-gradient evaluations. */
  readonly evaluations: number;
  /** Image-sized float vectors the optimizer keeps (L-BFGS: 2·pairs + 4, Adam: 4). */
  readonly optimizerVectors: number;
  /** Deepest layer used (default relu5_1, the paper's setting). */
  readonly deepest?: string;
  /** Floats held besides the optimizer's vectors (targets, masks, host copies of images). */
  readonly heldFloats?: number;
  /** Evaluated tile by tile (absent: the whole image at once). */
  readonly tiling?: CostTiling;
}

/**
 * A tiled evaluation runs the forward pass twice (Gram pass, then the backward pass per tile): the
 * forward is about a third of forward + input gradient, so 4/3 of the work on the tiles' areas.
 */
const TILED_WORK = 4 / 3;

/**
 * Tile activations resident at once, in tiles: the loss session's arena (forward and backward of a
 * crop) beside the statistics pass's forward-only run, and the garbage between them. Measured
 * (onnx, 2048×1536 in 4×3 tiles of 512 px, 2 pairs): 2.17 GiB peak where one tile's activations
 * at 3.9 B predicted 1.64 GiB, i.e. 2.1 tiles resident (2.2 × 3.9 B per crop activation). Since
 * crops have one shape that product still matched a peak: 2048×1536 at 1.5 GiB, 11×8 tiles of 192
 * px, 3 pairs, strong Wolfe: 1.41 GiB predicted, 1.41 GiB measured (docs/tiling.md); with onnx's
 * figure at 5.2 B, 1.65 tiles keeps that product (8.6 B per crop activation).
 */
const TILED_SESSIONS = 1.65;

/**
 * Estimated peak memory and time of a transfer on `engine`: the engine's base, the activations of
 * one evaluation (the whole image, or the largest tile with its halo), the optimizer's image-sized
 * vectors (3 floats a pixel) and the floats held besides.
 */
export function transferEstimate(engine: string, work: TransferWork): Estimate {
  const f = figuresFor(engine);
  const pixels = work.width * work.height;
  const { flops, activations } = perPixel(work.deepest ?? "relu5_1");
  const region = work.tiling
    ? TILED_SESSIONS * largestTileArea(work.width, work.height, work.tiling)
    : pixels;
  const bytes = f.baseBytes + region * activations * f.bytesPerActivation +
    pixels * work.optimizerVectors * 3 * 4 + (work.heldFloats ?? 0) * 4;
  const evaluated = work.tiling
    ? TILED_WORK * tiledArea(work.width, work.height, work.tiling)
    : pixels;
  return { bytes, seconds: work.evaluations * flops * evaluated / (f.gflops * 1e9) };
}

/** Activation floats per input pixel of a forward pass to `deepest` (for extraction estimates). */
export function activationsPerPixel(deepest: string): number {
  return perPixel(deepest).activations;
}

/** Resident bytes per activation float and the base of `engine` (extraction estimates). */
export function engineMemory(engine: string): { bytesPerActivation: number; baseBytes: number } {
  const { bytesPerActivation, baseBytes } = figuresFor(engine);
  return { bytesPerActivation, baseBytes };
}

/** The extent of every crop along a side cut into `count` tiles (objective/tiling.ts). */
function cropExtent(side: number, t: CostTiling, count: number): number {
  return Math.min(side, cropLength(t, count));
}

/** The largest area one tile with its halo covers (every crop has about this area). */
export function largestTileArea(width: number, height: number, t: CostTiling): number {
  return cropExtent(height, t, t.rows) * cropExtent(width, t, t.cols);
}

/** The area all tiles with their halos cover together (halos counted once per tile). */
function tiledArea(width: number, height: number, t: CostTiling): number {
  return t.rows * t.cols * largestTileArea(width, height, t);
}

/**
 * Objective evaluations per iteration, measured: L-BFGS with strong Wolfe 1.05 (209 for 200
 * iterations at 128 px); without a line search and for Adam exactly one.
 */
const EVALUATIONS_PER_ITERATION = { strong_wolfe: 1.05, none: 1, adam: 1 } as const;

/**
 * Extra evaluations the strong Wolfe search spends in a run's first iterations, before curvature
 * is known. With the first trial moving one 8-bit level (lbfgs.ts `firstStep`), measured on
 * tubingen × Starry Night (relu3_2; relu1_1…relu3_1): 33 evaluations for 30 iterations at 128 px,
 * 12 for 10 iterations of a 512 px upscale, 18 for 10 of a 1024 px one, i.e. 0.5–6.5 beyond
 * 1.05 per iteration (torch's first step 1/‖g‖₁ spent 6–10 more on the same runs, 8–37 in all).
 */
const LINE_SEARCH_STARTUP = 3;

/** Estimated objective evaluations of a run of `iterations` (the start's evaluation included). */
export function transferEvaluations(
  iterations: number,
  method: keyof typeof EVALUATIONS_PER_ITERATION,
): number {
  const startup = method === "strong_wolfe" && iterations > 0 ? LINE_SEARCH_STARTUP : 0;
  return iterations * EVALUATIONS_PER_ITERATION[method] + startup + 1;
}
