/**
 * `style-transfer`: optimizes an image so its VGG features match the content targets and its Gram
 * matrices the style targets (Gatys, Ecker & Bethge 2015), by L-BFGS with a strong Wolfe line
 * search, with each term's weight normalised (src/neural/objective/normalize.ts; `normalization:
 * paper` and 5/100/1e-3 give jcjohnson/neural-style's setting). The variable x is the image on
 * the 0–255 pixel scale, HWC RGB (objective/terms.ts); the engine supplies f and ∇f, the optimizer
 * (src/neural/optim) only sees those and the engine's vector maths, so on a GPU engine the
 * iterates stay on the device.
 */
import { toEngineImage } from "../neural/engines/engine_image.ts";
import { z } from "npm:zod@4.6.7";
import { encodePng } from "../image/codecs.ts";
import type { RgbImage } from "../image/image.ts";
import { resizeImage } from "../image/resample.ts";
import type { Engine, Objective, VectorOps } from "../neural/engines/engine.ts";
import {
  type ObjectiveSpec,
  type StyleStatistic,
  styleStatistics,
  type StyleTarget,
} from "../neural/objective/spec.ts";
import type { VggWeights } from "../neural/models/weights_types.ts";
import { stageWeights } from "./stage_weights.ts";
import {
  optimizerFor,
  type OptimizerHandle,
  optimizerNames,
  type OptimizerSettings,
  type OptimizerState,
} from "../neural/optim/optimizer.ts";
import type { IterationInfo, StopReason } from "../neural/optim/types.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { transferEvaluations } from "./neural_cost.ts";
import {
  archOf,
  deepestOf,
  fitTransfer,
  heldFloats,
  TILE_ALIGN,
  TRANSFER_IMAGES,
} from "./memory_fit.ts";
import { tilingFor } from "../neural/objective/tiling.ts";
import {
  loadTransferCheckpoint,
  saveTransferCheckpoint,
  type TransferProgress,
} from "./style_transfer_checkpoint.ts";
import { Prng } from "../util/prng.ts";
import {
  type Normalization,
  normalizations,
  normalizeTerms,
  type PhotoStatistics,
} from "../neural/objective/normalize.ts";
import { contentTarget } from "../neural/objective/content.ts";
import { cropImage } from "../image/crop.ts";
import { mirrorPad } from "../image/mirror_pad.ts";
import {
  type CheckContext,
  type Estimate,
  type EstimateEnv,
  featuresOf,
  type FeatureTargets,
  imageOf,
  type MemoryFit,
  type PlannedShape,
  type PreviewSink,
  type Stage,
  type StageContext,
  StageError,
  type StageProgress,
  type Value,
} from "./stage.ts";
import { reattachAlpha } from "../image/alpha.ts";
import { activationsAt, objectiveAt, statisticsAt, tilingAt } from "./tiled_evaluation.ts";
import type { Tiling } from "../neural/objective/tiling.ts";

/**
 * Default weights per normalization. `relative` departs from the paper (whose α/β depend on image
 * size and layers) so that one setting styles every size; `paper` keeps jcjohnson's 5/100/1e-3.
 */
export const DEFAULT_WEIGHTS = {
  relative: { content: 1, style: 55, tv: 0.1 },
  paper: { content: 5, style: 100, tv: 1e-3 },
} as const;

/** Iterations over which `tolerance` measures the loss decrease. */
export const CONVERGENCE_WINDOW = 10;

/** Parameter schema of `style-transfer` (upscale reuses its optimizer settings). */
export const styleTransferParams = z.object({
  normalization: z.enum(normalizations).default("relative")
    .describe(
      "relative: each term measured against the photo's own statistic (weights mean the same " +
        "at every size and layer set); " +
        "paper: the loss as Gatys et al. write it",
    ),
  content_weight: z.number().nonnegative().optional()
    .describe(
      `α, weight of the content term (default ${DEFAULT_WEIGHTS.relative.content} ` +
        `relative, ${DEFAULT_WEIGHTS.paper.content} paper)`,
    ),
  style_weight: z.number().nonnegative().optional()
    .describe(
      `β, weight of the style term (default ${DEFAULT_WEIGHTS.relative.style} relative, ` +
        `${DEFAULT_WEIGHTS.paper.style} paper)`,
    ),
  tv_weight: z.number().nonnegative().optional()
    .describe(
      `total-variation smoothing weight (default ${DEFAULT_WEIGHTS.relative.tv} ` +
        `relative, ${DEFAULT_WEIGHTS.paper.tv} paper)`,
    ),
  style_loss: z.enum(styleStatistics).default("gram")
    .describe(
      "gram: match Gram matrices (Gatys et al.); mean-covariance: match each style layer's mean " +
        "and covariance separately (not with masks)",
    ),
  init: z.enum(["content", "noise", "image"]).default("content")
    .describe("start from the content image, seeded uniform noise, or the `init` input"),
  optimizer: z.enum(optimizerNames).default("lbfgs"),
  iterations: z.number().int().min(0).default(500)
    .describe("optimizer iterations (the most it runs when tolerance is set)"),
  tolerance: z.number().min(0).lt(1).default(0)
    .describe(
      `stop once the loss fell by less than this fraction over the last ${CONVERGENCE_WINDOW} ` +
        "iterations (0 = run every iteration)",
    ),
  // Off by default for both optimizers: on tubingen × three paintings at 128 px it never lowered
  // the style distance (L-BFGS 200 and Adam 200/500 iterations; docs/quality.md "EMA").
  ema: z.number().min(0).lt(1).default(0)
    .describe(
      "return the bias-corrected exponential moving average of the iterates with this decay " +
        "(0 = the last iterate)",
    ),
  learning_rate: z.number().positive().optional()
    .describe("step size on the 0–255 pixel scale (default 1 for lbfgs, 10 for adam)"),
  lbfgs_history: z.number().int().min(1).default(100).describe("L-BFGS history size"),
  line_search: z.enum(["none", "strong_wolfe"]).default("strong_wolfe")
    .describe("L-BFGS line search (none: fixed steps, as jcjohnson; may diverge)"),
  save_every: z.number().int().min(0).default(0)
    .describe("write the current image every N iterations (0 = never)"),
  save_name: z.string().default("{step}-{iteration}.png")
    .describe("file name of intermediate images, in the output directory"),
  keep_best: z.boolean().default(false).describe("return the lowest-loss iterate, not the last"),
  checkpoint_every: z.number().int().min(0).default(25)
    .describe("checkpoint the optimizer every N iterations for resume after a crash (0 = never)"),
  tile: z.number().int().min(TILE_ALIGN).optional()
    .describe(
      "evaluate tile by tile with tiles of this side in px, exactly (default: the plan picks a " +
        "tile from the memory budget, and the whole image whenever it fits)",
    ),
  margin: z.number().int().min(0).max(256).default(0)
    .describe(
      "optimize a canvas this many pixels larger on every side (the photo mirrored outwards), " +
        "then crop it: the border's darkening falls outside the result (0 = none)",
    ),
}).strict();

/** Parsed parameters of `style-transfer`. */
export type StyleTransferParams = z.infer<typeof styleTransferParams>;

/** The `style-transfer` stage. */
export const styleTransferStage: Stage<StyleTransferParams> = {
  name: "style-transfer",
  // 4: L-BFGS's first step moves one 8-bit level (not torch's 1/‖g‖₁); tiled crops, one shape.
  version: 4,
  description: "Optimizes an image to the content and style targets (L-BFGS or Adam)",
  params: styleTransferParams,
  inputs: {
    features: { kind: "features", description: "targets from extract-features" },
    init: { kind: "image", optional: true, description: "starting image for init: image" },
  },
  output: "image",
  usesEngine: true,
  sideOutputs: (p, stepId) => p.save_every > 0 ? [saveName(p, stepId, 0)] : [],

  check(p, ctx) {
    return Promise.resolve(styleLossProblems(p, ctx));
  },

  shape(inputs) {
    const f = inputs.features;
    return f && { width: f.width, height: f.height };
  },

  estimate(inputs, p, env) {
    return inputs.features && transferPlan(inputs.features, p, env);
  },

  async run(ctx, inputs, p) {
    ctx.signal.throwIfAborted();
    const original = featuresOf(inputs.features);
    const engine = await ctx.engine();
    const weights = await loadWeights(ctx, original);
    const tile = ctx.fit?.tile ?? p.tile;
    const features = await withMargin(engine, weights, original, p.margin, tile);
    const defaults = DEFAULT_WEIGHTS[p.normalization];
    const terms = normalizeTerms(
      p.normalization,
      features.content,
      styleTargetsFor(features, p.style_loss),
      await photoStatistics(engine, weights, features, p.normalization, tile),
    );
    const spec: ObjectiveSpec = {
      weights,
      pooling: features.pooling,
      height: features.height,
      width: features.width,
      content: terms.content,
      style: terms.style,
      contentWeight: p.content_weight ?? defaults.content,
      styleWeight: p.style_weight ?? defaults.style,
      tvWeight: (p.tv_weight ?? defaults.tv) * terms.tvScale,
      padding: features.padding,
    };
    // Made when the run starts (not on a resume) and not held during it: 151 MB at 4096×3072.
    const start = () => initialImage(ctx, original, inputs.init, p);
    const progress = new ProgressReport(ctx);
    const objective = await objectiveAt(engine, spec, tile, {
      signal: ctx.signal,
      onTile: (tile, tiles) => progress.tile(tile, tiles),
    });
    try {
      const value = await optimize(ctx, engine, objective, start, features, p, progress);
      const tiling = tilingAt(weights, layersOf(spec), spec.height, spec.width, tile);
      const fitted = withFit(value, tiling, ctx.fit);
      return p.margin > 0 ? withoutMargin(fitted, original, p.margin) : fitted;
    } finally {
      objective.dispose();
    }
  },
};

/**
 * The run's estimate, fitted into the budget (memory_fit.ts): whole image, or tiled at the tile
 * chosen (or `tile:`), with fewer L-BFGS pairs only where even the smallest tile does not fit.
 */
export function transferPlan(
  shape: PlannedShape,
  p: StyleTransferParams,
  env: EstimateEnv | undefined,
): Estimate {
  const lbfgs = p.optimizer === "lbfgs";
  const width = shape.width + 2 * p.margin;
  const height = shape.height + 2 * p.margin;
  const features = shape.features;
  const layers = features ? [...features.contentLayers, ...features.styleLayers] : ["relu5_1"];
  const arch = archOf(features?.model);
  const estimate = fitTransfer({
    engine: env?.engine ?? "auto",
    work: {
      width,
      height,
      evaluations: transferEvaluations(p.iterations, lbfgs ? p.line_search : "adam") +
        (p.ema > 0 ? 1 : 0),
      // L-BFGS: x, g, d and the line search's trial point (its pairs are counted by the fit).
      optimizerVectors: 4 + (p.ema > 0 ? 1 : 0),
      deepest: deepestOf(arch, layers),
      heldFloats: heldFloats(features, width, height, {
        margin: p.margin > 0,
        images: TRANSFER_IMAGES,
      }),
    },
    pairs: lbfgs ? Math.min(p.lbfgs_history, p.iterations) : 0,
    checkpointed: p.checkpoint_every > 0 && p.iterations > p.checkpoint_every,
    budget: env?.memory,
    tile: p.tile,
    tilingOf: (tile) => tilingFor(arch, layers, height, width, tile),
  });
  // With the convergence stop, iterations is a cap: the time is an upper bound.
  return p.tolerance > 0 ? { ...estimate, upperBound: true } : estimate;
}

/**
 * The features on a canvas `margin` px larger on every side: the photo mirrored outwards and the
 * content targets recomputed on it (style targets are per-pixel means, unchanged). Departs from
 * the paper, which optimizes the image itself: VGG's zero padding darkens the optimized border.
 */
async function withMargin(
  engine: Engine,
  weights: VggWeights,
  features: FeatureTargets,
  margin: number,
  tile: number | undefined,
): Promise<FeatureTargets> {
  if (margin === 0) return features;
  if (features.style.some((t) => t.mask)) {
    throw new StageError("margin does not support regional styles (extract-features with masks)");
  }
  if (margin >= features.width || margin >= features.height) {
    throw new StageError(
      `margin ${margin} must be smaller than the image (${features.width}×${features.height})`,
    );
  }
  const contentImage = mirrorPad(features.contentImage, margin);
  const layers = features.content.map((t) => t.layer);
  const acts = await activationsAt(
    engine,
    weights,
    features.pooling,
    toEngineImage(contentImage),
    layers,
    features.padding ?? "zero",
    tile,
  );
  return {
    ...features,
    width: contentImage.width,
    height: contentImage.height,
    contentImage,
    content: features.content.map((t) => contentTarget(t.layer, t.weight, acts.get(t.layer)!)),
  };
}

/** The result cropped back to the features' own size, with the content's alpha. */
function withoutMargin(value: Value, features: FeatureTargets, margin: number): Value {
  if (value.kind !== "image") return value;
  const rect = { x: margin, y: margin, width: features.width, height: features.height };
  return { ...value, image: reattachAlpha(cropImage(value.image, rect), features.contentImage) };
}

/** The photo and, for `relative`, its own Gram matrices at the style layers (one forward pass). */
async function photoStatistics(
  engine: Engine,
  weights: VggWeights,
  features: FeatureTargets,
  normalization: Normalization,
  tile: number | undefined,
): Promise<PhotoStatistics> {
  const image = toEngineImage(features.contentImage);
  const layers = [...new Set(features.style.map((t) => t.layer))];
  if (normalization === "paper" || layers.length === 0) return { image, layers: new Map() };
  const padding = features.padding ?? "zero";
  const stats = await statisticsAt(engine, weights, features.pooling, image, layers, padding, tile);
  return { image, layers: new Map(layers.map((l, i) => [l, stats[i]])) };
}

/** The layers `spec`'s terms read. */
function layersOf(spec: ObjectiveSpec): string[] {
  return [...spec.content, ...spec.style].map((t) => t.layer);
}

/**
 * The result with the tiling it was evaluated with and the plan's fit (provenance; `verify`
 * re-renders with the same fit).
 */
function withFit(value: Value, tiling: Tiling | undefined, fit: MemoryFit | undefined): Value {
  if (!tiling && !fit) return value;
  return {
    ...value,
    info: {
      ...value.info,
      ...(tiling ? { tiling: { ...tiling } } : {}),
      ...(fit ? { memory_fit: { ...fit } } : {}),
    },
  } as Value;
}

/**
 * The stage's progress: each iteration's report, and between them the tile being evaluated
 * (the iteration's figures kept, so the line shows both).
 */
class ProgressReport {
  #last: StageProgress = {};
  constructor(readonly ctx: StageContext) {}

  /** Reports an iteration. */
  iteration(p: StageProgress): void {
    this.#last = p;
    this.ctx.progress(p);
  }

  /** Reports the tile about to be evaluated. */
  tile(tile: number, tiles: number): void {
    this.ctx.progress({ ...this.#last, tile, tiles });
  }
}

/** Masked features with `style_loss: mean-covariance`, found at validation (upscale shares it). */
export function styleLossProblems(
  p: { readonly style_loss: StyleStatistic },
  ctx: CheckContext,
): string[] {
  if (p.style_loss !== "mean-covariance") return [];
  const masked = (ctx.producers?.features ?? []).some((f) => f.connected.includes("masks"));
  return masked ? [MASKED_MEAN_COVARIANCE] : [];
}

const MASKED_MEAN_COVARIANCE = "style_loss: mean-covariance does not support regional styles " +
  "(extract-features with masks); use style_loss: gram for them";

/** The features' style targets matched on `statistic` (StageError where they cannot be). */
function styleTargetsFor(features: FeatureTargets, statistic: StyleStatistic): StyleTarget[] {
  if (statistic === "gram") return [...features.style];
  if (features.style.some((t) => t.mask)) throw new StageError(MASKED_MEAN_COVARIANCE);
  if (features.style.some((t) => !t.mean)) {
    throw new StageError(
      "style_loss: mean-covariance needs the style means, which these features lack: re-run " +
        "extract-features",
    );
  }
  return features.style.map((t) => ({ ...t, statistic }));
}

/** The weights the features were extracted with (StageError when they changed since). */
async function loadWeights(ctx: StageContext, features: FeatureTargets): Promise<VggWeights> {
  const weights = await stageWeights(ctx.weightsDirs, features.model);
  if (weights.id !== features.weightsId) {
    throw new StageError(
      `the ${features.model} weights changed since the features were extracted ` +
        `(${features.weightsId.slice(0, 12)}… → ${
          weights.id.slice(0, 12)
        }…): re-run extract-features`,
    );
  }
  return weights;
}

/** The starting image on the 0–255 scale (HWC RGB at the features' size plus the margin). */
function initialImage(
  ctx: StageContext,
  features: FeatureTargets,
  init: Value | Value[] | undefined,
  p: StyleTransferParams,
): Float32Array {
  const { width, height } = features;
  if (p.init === "noise") {
    // White noise (Gatys et al. start from it), from the step's seed.
    const [w, h] = [width + 2 * p.margin, height + 2 * p.margin];
    return new Prng(ctx.seed).fillUniform(new Float32Array(w * h * 3), 0, 255);
  }
  let image: RgbImage = features.contentImage;
  if (p.init === "image") {
    if (init === undefined) throw new StageError(`init: image needs the "init" input`);
    image = imageOf(init, "init");
    if (image.width !== width || image.height !== height) {
      image = resizeImage(image, width, height, "lanczos3");
    }
  } else if (init !== undefined) {
    ctx.warn(`the "init" input is ignored because init is "${p.init}" (set init: image to use it)`);
  }
  return toEngineImage(mirrorPad(image, p.margin)).data;
}

/** L-BFGS: the first step's largest pixel change, on the 0–255 scale. */
const FIRST_STEP_LEVELS = 1;

/** Called after every iteration, in order; a hook may update the run's progress record. */
type IterationHook<V> = (info: IterationInfo<V, OptimizerState<V>>) => void | Promise<void>;

/**
 * Runs the optimizer (resuming from a checkpoint when there is one) with the hooks `keep_best`,
 * `save_every`, `checkpoint_every` and progress composed around it; returns the image.
 */
async function optimize<V>(
  ctx: StageContext,
  engine: Engine<V>,
  objective: Objective<V>,
  start: () => Float32Array,
  features: FeatureTargets,
  p: StyleTransferParams,
  progress: ProgressReport,
): Promise<Value> {
  const ops = engine.vec;
  if (p.keep_best && p.ema > 0) {
    throw new StageError(
      "keep_best and ema both choose the returned image: set ema: 0 or drop keep_best",
    );
  }
  const settings: OptimizerSettings = {
    name: p.optimizer,
    iterations: p.iterations,
    learningRate: p.learning_rate ?? (p.optimizer === "lbfgs" ? 1 : 10),
    // The plan lowers the pairs where the memory budget holds fewer (memory_fit.ts).
    historySize: ctx.fit?.history ?? p.lbfgs_history,
    lineSearch: p.line_search,
    // The first step (or the line search's first trial) moves the most-changed pixel by one 8-bit
    // level (× learning_rate): torch's 1/‖g‖₁ does not move a large image (lbfgs.ts firstStep).
    firstStep: FIRST_STEP_LEVELS,
    average: p.ema,
    convergence: { tolerance: p.tolerance, window: CONVERGENCE_WINDOW },
  };
  const optimizer = optimizerFor(objective, ops, settings);
  const run = await resumeOrStart(ctx, optimizer, ops, start, p);
  let checkpointed = run.state.iteration; // 0: no checkpoint yet
  const checkpoint = async () => {
    await saveTransferCheckpoint(ctx.checkpoints, optimizer, ops, run);
    checkpointed = run.state.iteration;
  };
  const hooks: IterationHook<V>[] = [
    recordCurve(run),
    ...(run.best ? [keepBest(run, ops)] : []),
    ...(p.save_every > 0 ? [saveEvery(ctx, ops, features, p)] : []),
    ...(ctx.preview ? [sendPreview(ctx.preview, ops, features)] : []),
    ...(p.checkpoint_every > 0 ? [checkpointEvery(ctx, p, checkpoint)] : []),
    reportProgress(progress, p),
  ];
  try {
    const { reason } = await optimizer.continue(run.state, {
      signal: ctx.signal,
      onIteration: async (info) => {
        for (const hook of hooks) await hook(info);
      },
    });
    if (reason === "aborted") {
      // The optimizers stop between whole iterations (a cut line search is dropped): keep them.
      if (p.checkpoint_every > 0 && checkpointed < run.state.iteration) await checkpoint();
      ctx.note(
        `cancelled at ${run.state.iteration}/${p.iterations}; ` +
          (checkpointed > 0
            ? `checkpoint at iteration ${checkpointed} kept, run the same command to resume`
            : "no checkpoint yet, a new run starts over"),
      );
      throw ctx.signal.reason ?? new StageError("cancelled");
    }
    const result = await transferResult(run, objective, ops, features, reason);
    warnIfStalled(ctx, run.initialLoss, result.info!.final_loss as number, run.state.iteration);
    await ctx.checkpoints.clear();
    return {
      ...result,
      info: { ...result.info, optimizer: settings.name, engine: engine.name },
    };
  } finally {
    if (run.best) ops.dispose(run.best.x);
    optimizer.dispose(run.state);
  }
}

/** The run restored from the step's checkpoint, or started at `start`. */
async function resumeOrStart<V>(
  ctx: StageContext,
  optimizer: OptimizerHandle<V>,
  ops: VectorOps<V>,
  start: () => Float32Array,
  p: StyleTransferParams,
): Promise<TransferProgress<V>> {
  const resumed = await loadTransferCheckpoint(ctx.checkpoints, optimizer, ops, (m) => ctx.warn(m));
  if (resumed) {
    ctx.note(`resumed from iteration ${resumed.state.iteration} (checkpoint)`);
    ctx.progress({ iteration: resumed.state.iteration, total: p.iterations, message: "resumed" });
    return resumed;
  }
  const x0 = ops.fromArray(start());
  let state: OptimizerState<V>;
  try {
    state = await optimizer.start(x0);
  } finally {
    ops.dispose(x0);
  }
  const best = p.keep_best
    ? { x: ops.clone(state.x), loss: state.loss, terms: state.terms, iteration: 0 }
    : undefined;
  const curve = [{ iteration: 0, loss: state.loss, terms: state.terms }];
  return { state, curve, initialLoss: state.loss, best };
}

/** Hook: the loss and its terms after every iteration (the result's `loss_trace`). */
function recordCurve<V>(run: TransferProgress<V>): IterationHook<V> {
  return ({ iteration, loss, terms }) => {
    run.curve.push({ iteration, loss, terms });
  };
}

/** Hook (`keep_best`): keeps a copy of the lowest-loss iterate in `run.best`. */
function keepBest<V>(run: TransferProgress<V>, ops: VectorOps<V>): IterationHook<V> {
  return ({ iteration, loss, terms, x }) => {
    if (!run.best || loss >= run.best.loss) return;
    ops.dispose(run.best.x);
    run.best = { x: ops.clone(x), loss, terms, iteration };
  };
}

/** Hook (`save_every`): writes the iterate as a PNG every N iterations (not the last). */
function saveEvery<V>(
  ctx: StageContext,
  ops: VectorOps<V>,
  features: FeatureTargets,
  p: StyleTransferParams,
): IterationHook<V> {
  return async ({ iteration, x, state }) => {
    if (iteration % p.save_every !== 0 || iteration >= p.iterations) return;
    const name = saveName(p, ctx.stepId, iteration);
    const image = await imageFrom(ops, state.average?.x ?? x, features);
    await atomicWrite(ctx.paths.output(name), await encodePng(image));
  };
}

/** The file name of the intermediate image of `iteration` (`save_name` filled in). */
function saveName(p: StyleTransferParams, stepId: string, iteration: number): string {
  return p.save_name.replaceAll("{step}", stepId)
    .replaceAll("{iteration}", String(iteration).padStart(4, "0"));
}

/** Hook (`checkpoint_every`): checkpoints every N iterations (not the last). */
function checkpointEvery<V>(
  ctx: StageContext,
  p: StyleTransferParams,
  checkpoint: () => Promise<void>,
): IterationHook<V> {
  return async ({ iteration }) => {
    // Not when aborted: a line search cut short may have left a partial step.
    if (iteration % p.checkpoint_every !== 0 || iteration >= p.iterations) return;
    if (!ctx.signal.aborted) await checkpoint();
  };
}

/**
 * Hook: reports the iteration, loss, terms and the ETA (with `tolerance`, to the cap: the run may
 * end sooner, which the message says).
 */
function reportProgress<V>(progress: ProgressReport, p: StyleTransferParams): IterationHook<V> {
  const total = p.iterations;
  const pace = iterationPace();
  return ({ iteration, loss, terms }) => {
    const eta = pace(iteration, performance.now() / 1000) * (total - iteration);
    progress.iteration({
      iteration,
      total,
      fraction: iteration / total,
      loss,
      terms,
      ...(Number.isFinite(eta) ? { eta } : {}),
      ...(p.tolerance > 0 ? { message: "at most; stops once converged" } : {}),
    });
  };
}

/**
 * Seconds per iteration from this run's iterations after its first one (the first carries the
 * warm-up: graph building, the first line search; a resumed run starts at a later iteration), or
 * NaN until there are two reports. Called with each reported iteration and the time in seconds.
 */
export function iterationPace(): (iteration: number, seconds: number) => number {
  let first: { iteration: number; seconds: number } | undefined;
  return (iteration, seconds) => {
    first ??= { iteration, seconds };
    return iteration > first.iteration
      ? (seconds - first.seconds) / (iteration - first.iteration)
      : NaN;
  };
}

/** Hook (a watched run): the current iterate, clamped as the result is, every `sink.every`. */
function sendPreview<V>(
  sink: PreviewSink,
  ops: VectorOps<V>,
  features: FeatureTargets,
): IterationHook<V> {
  return async ({ iteration, x, state }) => {
    if (iteration % sink.every !== 0) return;
    const clamped = ops.clamp(state.average?.x ?? x, 0, 255);
    try {
      sink.put(await imageFrom(ops, clamped, features), iteration);
    } finally {
      ops.dispose(clamped);
    }
  };
}

/**
 * The stage's value at the end of a run: the average of the iterates (evaluated once more for its
 * loss), else the best or last iterate, clamped to 0–255, and facts.
 */
async function transferResult<V>(
  run: TransferProgress<V>,
  objective: Objective<V>,
  ops: VectorOps<V>,
  features: FeatureTargets,
  reason: StopReason,
): Promise<Value & { kind: "image" }> {
  const { state, best } = run;
  const averaged = state.average
    ? await evaluateAverage(objective, ops, state.average.x)
    : undefined;
  const final = averaged ?? best ?? { x: state.x, loss: state.loss, terms: state.terms };
  const clamped = ops.clamp(final.x, 0, 255);
  try {
    return {
      kind: "image",
      // The optimizer works on RGB; the content's alpha (and profile, EXIF) is put back.
      image: reattachAlpha(await imageFrom(ops, clamped, features), features.contentImage),
      info: {
        final_loss: final.loss,
        initial_loss: run.initialLoss,
        terms: final.terms,
        iterations: state.iteration,
        evaluations: state.evaluations + (averaged ? 1 : 0),
        stop_reason: reason,
        ...(state.average ? { ema: state.average.decay, last_iterate_loss: state.loss } : {}),
        // Every 10th iteration's loss is part of the reproducible record embedded in the output;
        // the whole trace with its terms goes to the sidecar only (provenance.ts).
        loss_curve: run.curve.filter((p) => p.iteration % 10 === 0)
          .map(({ iteration, loss }) => ({ iteration, loss })),
        loss_trace: run.curve,
        ...(best ? { best_iteration: best.iteration } : {}),
      },
    };
  } finally {
    ops.dispose(clamped);
  }
}

/** The average's loss and terms (one more evaluation; its gradient is dropped). */
async function evaluateAverage<V>(
  objective: Objective<V>,
  ops: VectorOps<V>,
  x: V,
): Promise<{ x: V; loss: number; terms: Readonly<Record<string, number>> }> {
  const e = await objective.evaluate(x);
  ops.dispose(e.grad);
  return { x, loss: e.loss, terms: e.terms };
}

/** Below this relative decrease a finished render warns that the loss barely moved. */
const STALL_RATIO = 0.99;

/** Warns when a render ended barely below, at or above its starting loss. */
function warnIfStalled(ctx: StageContext, initial: number, final: number, iterations: number) {
  if (iterations === 0 || !(initial > 0)) return;
  const from = `${initial.toPrecision(4)} → ${final.toPrecision(4)} in ${iterations} iterations`;
  if (Math.abs(final - initial) <= (1 - STALL_RATIO) * initial) {
    ctx.warn(
      `the loss barely moved (${from}): raise style_weight or iterations, or check the targets`,
    );
  } else if (!(final < initial)) {
    ctx.warn(
      `the loss rose (${from}): the optimizer diverged (use line_search: strong_wolfe, or a ` +
        `smaller learning_rate for adam)`,
    );
  }
}

/** An iterate (0–255 scale) as an image (0–1) of the features' size. */
async function imageFrom<V>(ops: VectorOps<V>, x: V, features: FeatureTargets): Promise<RgbImage> {
  const values = await ops.toArray(x); // a copy: scaled in place, not copied again
  for (let i = 0; i < values.length; i++) values[i] /= 255;
  return { width: features.width, height: features.height, data: values };
}
