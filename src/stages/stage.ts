/**
 * The stage contract: a small unit of a recipe with a typed parameter schema, typed inputs and one
 * output. Stages never print and never read the CLI; they talk to the world through {@link StageContext}.
 */
import { StylepipeError } from "../util/errors.ts";
import type { z } from "npm:zod@4.6.7";
import type { RgbImage } from "../image/image.ts";
import type { ContentTarget, StyleTarget } from "../neural/objective/spec.ts";
import type { Engine } from "../neural/engines/engine.ts";
import type { Padding, Pooling } from "../neural/plan/network.ts";

/** The kinds of value that flow between steps. */
export type Kind = "image" | "features" | "file";

/** Content and style targets computed by `extract-features`, consumed by `style-transfer`. */
export interface FeatureTargets {
  /** Model folder name, e.g. `vgg19`. */
  readonly model: string;
  /** Identity of the weights used (SHA-256 or `synthetic:<seed>`). */
  readonly weightsId: string;
  /** Pooling the targets were computed with (the optimizer must use the same). */
  readonly pooling: Pooling;
  /** How the first conv padded the images the targets come from (the optimizer pads alike; absent: zero). */
  readonly padding?: Padding;
  /** Size of the content image the targets belong to. */
  readonly width: number;
  /** Size of the content image the targets belong to. */
  readonly height: number;
  /** Content targets, per layer. */
  readonly content: readonly ContentTarget[];
  /** Style targets (Gram matrices), per layer, per style/region. */
  readonly style: readonly StyleTarget[];
  /** The content image itself (initialization, colour preservation, upscale). */
  readonly contentImage: RgbImage;
  /** Style images at the scale used (upscale recomputes targets at a new size from these). */
  readonly styleImages: readonly RgbImage[];
  /** Extraction parameters, so a later stage (upscale) can recompute at another size. */
  readonly recipe: Readonly<Record<string, unknown>>;
}

/** An image value. `info` carries facts for provenance (e.g. final losses). */
export interface ImageValue {
  readonly kind: "image";
  readonly image: RgbImage;
  readonly info?: Readonly<Record<string, unknown>>;
}
/** A features value. */
export interface FeaturesValue {
  readonly kind: "features";
  readonly features: FeatureTargets;
  readonly info?: Readonly<Record<string, unknown>>;
}
/** A file written by a stage (e.g. `save`): its path and content hash. */
export interface FileValue {
  readonly kind: "file";
  readonly path: string;
  readonly sha256: string;
  /** The image that was written (so steps may chain after a save). */
  readonly image?: RgbImage;
  readonly info?: Readonly<Record<string, unknown>>;
}
/** Any value a step can produce. */
export type Value = ImageValue | FeaturesValue | FileValue;

/** One declared input of a stage. */
export interface InputSpec {
  /** Kinds accepted. */
  readonly kind: Kind | readonly Kind[];
  /** May be absent. */
  readonly optional?: boolean;
  /** Takes a list of values (e.g. several style images). */
  readonly many?: boolean;
  /** One-line description for `stages` and the JSON Schema. */
  readonly description?: string;
}

/** What a stage reports while it runs (all fields optional). */
export interface StageProgress {
  /** Fraction done, 0–1. */
  readonly fraction?: number;
  /** Current iteration and total. */
  readonly iteration?: number;
  readonly total?: number;
  /** Current loss and its terms. */
  readonly loss?: number;
  readonly terms?: Readonly<Record<string, number>>;
  /** Seconds left, when the stage can estimate them better than elapsed / fraction. */
  readonly eta?: number;
  /** The tile being evaluated (1-based) and the tiles per evaluation, in a tiled run. */
  readonly tile?: number;
  readonly tiles?: number;
  /** Free text. */
  readonly message?: string;
}

/** Where an optimizing stage sends its current image now and then (render --preview, serve). */
export interface PreviewSink {
  /** Send a preview every this many iterations. */
  readonly every: number;
  /** Receives the current image (pixels 0–1, the stage's working size) at `iteration`. */
  put(image: RgbImage, iteration: number): void;
}

/** A small key→bytes store private to one step's cache key (checkpoints for resume). */
export interface CheckpointStore {
  /** The bytes stored under `name`, if any. */
  get(name: string): Promise<Uint8Array | undefined>;
  /** Stores bytes atomically. */
  put(name: string, bytes: Uint8Array): Promise<void>;
  /** Removes everything stored for this step. */
  clear(): Promise<void>;
}

/** Where files are looked up and written. */
export interface PathResolver {
  /** Resolves an input path (recipe dir, then `$STYLEPIPE_IMAGES`, …) to an existing file; throws {@link StageError}. */
  input(path: string): Promise<string>;
  /** Resolves an output path inside the output directory; throws {@link StageError} when outside and not allowed. */
  output(path: string): string;
  /** Absolute paths of the recipe's input files (so `save` never overwrites one). */
  readonly inputs: ReadonlySet<string>;
}

/** What a running stage may use. */
export interface StageContext {
  /** The step's id in the recipe. */
  readonly stepId: string;
  /** Aborted on Ctrl-C / SIGTERM: stop soon, write nothing partial. */
  readonly signal: AbortSignal;
  /** Seed for this step (derived from the recipe's seed and the step id). */
  readonly seed: number;
  /** Reports progress (the CLI turns it into a bar or JSON events). */
  progress(p: StageProgress): void;
  /** Reports a non-fatal warning. */
  warn(message: string): void;
  /** Reports a fact a person should keep seeing (e.g. "resumed from iteration 41"). */
  note(message: string): void;
  /** Live previews, when someone watches the run. */
  readonly preview?: PreviewSink;
  /** The step ids feeding each input, in order (e.g. to caption a gathered batch). */
  readonly inputSteps?: Readonly<Record<string, readonly string[]>>;
  /** File lookup. */
  readonly paths: PathResolver;
  /** Folders searched for model weights, in order (`$STYLEPIPE_WEIGHTS`, `./weights`). */
  readonly weightsDirs: readonly string[];
  /** The engine the recipe / CLI chose (created once per run, shared by steps). */
  engine(): Promise<Engine>;
  /** Checkpoints for this step (resume after a crash). */
  readonly checkpoints: CheckpointStore;
  /** How the plan fitted this step into the memory budget (absent: whole image, as asked). */
  readonly fit?: MemoryFit;
  /**
   * Adds provenance to an encoded output file about to be written at `path` (PNG: embeds the
   * record); returns the bytes to write. Absent where no record is kept.
   */
  stampOutput?(path: string, bytes: Uint8Array): Promise<Uint8Array>;
}

/** What validation-time checks of a stage may consult (no engine, no images). */
export interface CheckContext {
  /** Folders searched for model weights. */
  readonly weightsDirs: readonly string[];
  /** Per input, the steps feeding it: their stage and which of their own inputs are connected. */
  readonly producers?: Readonly<Record<string, readonly InputProducer[]>>;
}

/** A step feeding an input, as a stage's `check` sees it. */
export interface InputProducer {
  /** Its stage name. */
  readonly stage: string;
  /** The names of its inputs that have steps connected. */
  readonly connected: readonly string[];
}

/**
 * How a neural step fits the memory budget (stages/memory_fit.ts): part of the step's cache key,
 * since tiling changes the float summation order and a shorter history the iterates.
 */
export interface MemoryFit {
  /** Tile side in pixels of the tiled evaluation (objective and targets); absent: whole image. */
  readonly tile?: number;
  /** L-BFGS pairs kept, where the budget lowered the step's `lbfgs_history`. */
  readonly history?: number;
}

/** Resource estimate for `plan`. */
export interface Estimate {
  /** Peak memory in bytes. */
  readonly bytes: number;
  /** How the step fits the budget, where it had to change how it evaluates. */
  readonly fit?: MemoryFit;
  /** The tiling grid for `plan` to show (tile side, halo, rows × columns at the planned size). */
  readonly tiling?: PlannedTiling;
  /** Expected run time in seconds, where known. */
  readonly seconds?: number;
  /** `seconds` is an upper bound (e.g. a run that stops once converged, iterations being its cap). */
  readonly upperBound?: boolean;
}

/** What an estimate may depend on besides inputs and parameters. */
export interface EstimateEnv {
  /** The engine named in the recipe or on the CLI (`auto`, `onnx`, …). */
  readonly engine: string;
  /** The step's own output size, where known (e.g. `load`: from the file's header). */
  readonly output?: FileShape;
  /** Memory budget in bytes the step must fit (absent: no bound, whole-image evaluation). */
  readonly memory?: number;
}

/** A tiling as `plan` shows it. */
export interface PlannedTiling {
  readonly tile: number;
  readonly halo: number;
  readonly rows: number;
  readonly cols: number;
}

/** What a features value holds, known at plan time (the estimates of the steps reading it use it). */
export interface PlannedFeatures {
  /** Model folder name (`vgg19`, `vgg16`). */
  readonly model: string;
  readonly contentLayers: readonly string[];
  readonly styleLayers: readonly string[];
  /** Style image's longer side over the content's. */
  readonly styleScale: number;
  /** Whether the style targets carry masks (one mask per style at the content's size). */
  readonly masked: boolean;
}

/** What `plan` knows of a value: its size, and for features what they hold. */
export interface PlannedShape {
  readonly width: number;
  readonly height: number;
  readonly features?: PlannedFeatures;
}

/** Shapes of inputs known at plan time (images: width/height when known). */
export type InputShapes = Record<string, PlannedShape | undefined>;

/** An image size read from a file's header, and what decoding the file costs. */
export interface FileShape extends PlannedShape {
  /** Peak bytes decoding the file takes (format, channels and depth counted). */
  readonly decodeBytes?: number;
}

/** A pipeline stage. `P` is the parsed parameter type. */
export interface Stage<P = unknown> {
  /** Name used in recipes (`use:`). */
  readonly name: string;
  /** Bumped when the output for the same inputs changes; part of the cache key. */
  readonly version: number;
  /** One-line description. */
  readonly description: string;
  /** Parameter schema (zod object); drives validation, JSON Schema and the `stages` listing. */
  readonly params: z.ZodType<P>;
  /** Named inputs. `from: id` feeds the first; a list feeds them in order (or all to a `many` first input). */
  readonly inputs: Readonly<Record<string, InputSpec>>;
  /** Output kind. */
  readonly output: Kind;
  /** Whether the output must be recomputed when it is a file that no longer exists (e.g. `save`). */
  readonly writesFiles?: boolean;
  /**
   * Files the step may write besides its output (e.g. style-transfer's `save_every` images), as
   * paths in the output folder; `plan` checks them as it checks `path` (validation, not mid-run).
   */
  sideOutputs?(params: P, stepId: string): readonly string[];
  /**
   * Whether the output depends on the engine and on the step's seed (the neural stages). Only such
   * stages carry the resolved engine name and the seed in their cache key, so switching engines or
   * seeds reuses plain image steps.
   */
  readonly usesEngine?: boolean;
  /**
   * Paths (as written in the recipe) of the files this stage reads, e.g. `load`'s `path`; their
   * contents are hashed into the cache key. Without it, a stage with no inputs is taken to read the
   * file named by a string parameter `path`.
   */
  inputFiles?(params: P): readonly string[];
  /**
   * Model folders (e.g. `vgg19`) whose weight files this stage reads; the hash of every file in
   * them joins the cache key, so other weights never reuse this step's cached output.
   */
  models?(params: P): readonly string[];
  /** Output size read from the stage's one input file at plan time (e.g. an image header). */
  fileShape?(path: string): Promise<FileShape | undefined>;
  /** Extra validation (e.g. weights have the layers asked for); returns error messages. */
  check?(params: P, ctx: CheckContext): Promise<string[]>;
  /** Output image size from input sizes, when computable (for `plan`). */
  shape?(inputs: InputShapes, params: P): PlannedShape | undefined;
  /** Resource estimate, when the stage can give one (`env`: what the run will use, e.g. the engine). */
  estimate?(inputs: InputShapes, params: P, env?: EstimateEnv): Estimate | undefined;
  /** Runs the stage. */
  run(
    ctx: StageContext,
    inputs: Record<string, Value | Value[] | undefined>,
    params: P,
  ): Promise<Value>;
}

/** A runtime failure a user can act on; the CLI prints `step "id": message` without a stack trace. */
export class StageError extends StylepipeError {}

/** Narrows an input to an image or throws a {@link StageError}. Accepts image values and files with an image. */
export function imageOf(value: Value | Value[] | undefined, input: string): RgbImage {
  const v = Array.isArray(value) ? value[0] : value;
  if (v?.kind === "image") return v.image;
  if (v?.kind === "file" && v.image) return v.image;
  throw new StageError(`input "${input}" must be an image`);
}

/** Narrows an input to the targets of an `extract-features` step or throws a {@link StageError}. */
export function featuresOf(value: Value | Value[] | undefined): FeatureTargets {
  const v = Array.isArray(value) ? value[0] : value;
  if (v?.kind !== "features") {
    throw new StageError(`input "features" must come from an extract-features step`);
  }
  return v.features;
}
