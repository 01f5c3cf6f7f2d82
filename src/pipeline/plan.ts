/**
 * Planning: order the steps (topological, file order among equals), hash the files and model
 * weights they read, resolve `auto` to the engine it picks here, and give every step its cache key
 * ({@link stepKey}). Output paths are checked here too (confinement on real paths, no two steps
 * writing one file), so `validate` rejects them before anything runs.
 */
import { resolve } from "node:path";
import { IssueList } from "../recipe/errors.ts";
import type { Recipe, RecipeStep } from "../recipe/recipe.ts";
import { checkMemory } from "../stages/pixel_limit.ts";
import { type Estimate, type FileShape, type MemoryFit, StageError } from "../stages/stage.ts";
import { defaultMemoryBudget } from "./memory_budget.ts";
import { deriveSeed } from "../util/prng.ts";
import { sha256File } from "../util/hash.ts";
import { defaultImageDirs, defaultWeightsDirs } from "./locations.ts";
import { modelIdentity } from "./model_identity.ts";
import { confineOutput, findInput, type PathOptions, realPathOf, sidecarPath } from "./paths.ts";
import { stepKey } from "./step_key.ts";

/** A file a step reads. */
export interface InputFile {
  /** The parameter value as written. */
  readonly written: string;
  /** Where it was found. */
  readonly path: string;
  /** Its SHA-256. */
  readonly sha256: string;
}

/** One step, ready to run. */
export interface PlannedStep {
  readonly step: RecipeStep;
  /** Cache key. */
  readonly key: string;
  /** This step's seed (derived from the recipe seed and the step id). */
  readonly seed: number;
  /** Ids of the steps it reads from. */
  readonly deps: readonly string[];
  /** Files it reads. */
  readonly inputFiles: readonly InputFile[];
  /** Output image size (and, for a file, its decoding cost), where the stages can tell. */
  readonly shape?: FileShape;
  /** Resource estimate, where the stage gives one. */
  readonly estimate?: Estimate;
  /** How the step fits the memory budget (tiling, fewer L-BFGS pairs); in the cache key. */
  readonly fit?: MemoryFit;
}

/** An executable plan. */
export interface Plan {
  readonly recipe: Recipe;
  /** Steps in execution order. */
  readonly steps: readonly PlannedStep[];
  /** Folders and rules for files. */
  readonly paths: PathOptions;
  /** Absolute paths of every input file (outputs may never overwrite one). */
  readonly inputFiles: ReadonlySet<string>;
  /** The engine to run with: the recipe's, with `auto` resolved when a step uses an engine. */
  readonly engine: string;
  /** The memory budget the steps were fitted into, bytes. */
  readonly memory: number;
}

/** Options for {@link planRecipe}. */
export interface PlanOptions {
  /** Output directory (default `out`). */
  readonly outDir?: string;
  /** Folders searched for inputs after the recipe's folder (default `$STYLEPIPE_IMAGES`, `./pipelines/images`). */
  readonly imageDirs?: readonly string[];
  /** Resolves `auto` to a concrete engine name (default: the engine providers' choice here). */
  readonly resolveEngine?: (name: string) => Promise<string>;
  /** Folders searched for model weights (default `$STYLEPIPE_WEIGHTS`, `./weights`). */
  readonly weightsDirs?: readonly string[];
  /** Folders every input and output must lie in (a farm worker's `--root`; see {@link PathOptions}). */
  readonly roots?: readonly string[];
  /**
   * The output folder as cache keys name it (default {@link outDir}): a farm worker mapping paths
   * (`--map`) names it as the submitter did, so every machine computes the same keys.
   */
  readonly keyOutDir?: string;
  /**
   * Memory budget in bytes the neural steps are fitted into (tiling, L-BFGS pairs); default this
   * machine's memory, or the GPU's for a GPU engine (memory_budget.ts).
   */
  readonly memory?: number;
  /** Fits recorded by an earlier render (verify), by step id: used instead of the budget's. */
  readonly fits?: ReadonlyMap<string, MemoryFit>;
}

/**
 * Plans a validated recipe. Missing input files are reported as positioned recipe errors
 * ({@link RecipeError}), all at once.
 */
export async function planRecipe(recipe: Recipe, options: PlanOptions = {}): Promise<Plan> {
  const paths: PathOptions = {
    recipeDir: recipe.dir,
    imageDirs: options.imageDirs ?? defaultImageDirs(),
    outDir: resolve(options.outDir ?? "out"),
    allowOutsideOutput: recipe.allowOutsideOutput,
    protectedFiles: recipe.files,
    roots: options.roots,
  };
  const keyOutDir = options.keyOutDir === undefined ? paths.outDir : resolve(options.keyOutDir);
  const order = topologicalOrder(recipe.steps);
  const issues = new IssueList(recipe.file);
  const files = await Promise.all(order.map((s) => readFiles(s, paths, recipe, issues)));
  const allInputs = new Set(files.flat().map((f) => f.path));
  checkOutputs(order, paths, [...allInputs, ...recipe.files], recipe, issues);
  issues.throwIfAny();
  const weightsDirs = options.weightsDirs ?? defaultWeightsDirs();
  const models = await Promise.all(order.map(async (s) => {
    const names = s.stage.models?.(s.params) ?? [];
    const ids = await Promise.all(names.map((m) => modelIdentity(weightsDirs, m)));
    return Object.fromEntries(names.map((m, i) => [m, ids[i] ?? null]));
  }));

  const usesEngine = order.some((s) => s.stage.usesEngine);
  const engine = usesEngine
    ? await (options.resolveEngine ?? resolveWithProviders)(recipe.engine)
    : recipe.engine;
  const memory = options.memory ?? await defaultMemoryBudget(engine);
  const planned = new Map<string, PlannedStep>();
  for (const [i, step] of order.entries()) {
    const inputKeys = Object.fromEntries(
      Object.entries(step.inputs).map(([name, ids]) => [name, ids.map((d) => planned.get(d)!.key)]),
    );
    const seed = deriveSeed(recipe.seed, step.id);
    const shapes = Object.fromEntries(
      Object.entries(step.inputs).map(([name, ids]) => [name, planned.get(ids[0])?.shape]),
    );
    let shape: PlannedStep["shape"];
    try {
      shape = step.stage.shape?.(shapes, step.params) ??
        (files[i].length === 1 ? await step.stage.fileShape?.(files[i][0].path) : undefined);
    } catch (e) {
      if (!(e instanceof StageError)) throw e;
      const at = recipe.at([...step.path, "with", ...paramPathOf(step, files[i][0]?.written)]);
      issues.add(at, e.message, step.id);
    }
    const estimate = step.stage.estimate?.(shapes, step.params, { engine, output: shape, memory });
    const fit = options.fits?.get(step.id) ?? estimate?.fit;
    const key = stepKey({
      stage: step.stage,
      params: step.params,
      inputKeys,
      fileHashes: files[i].map((f) => f.sha256),
      models: models[i],
      seed,
      engine,
      outDir: keyOutDir,
      // Tiling changes the float summation order, fewer pairs the iterates: both change bytes.
      fit,
    });
    planned.set(step.id, {
      step,
      key,
      seed,
      deps: [...new Set(Object.values(step.inputs).flat())],
      inputFiles: files[i],
      shape,
      estimate,
      fit,
    });
  }
  const steps = [...planned.values()];
  const peak = imagePeak(steps);
  try {
    if (peak) checkMemory(peak.bytes, `the run, which holds its images at step "${peak.step}",`);
  } catch (e) {
    if (!(e instanceof StageError)) throw e;
    const at = steps.find((p) => p.step.id === peak!.step)!.step;
    issues.add(recipe.at(at.path), e.message, at.id);
  }
  issues.throwIfAny();
  return { recipe, steps, paths, inputFiles: allInputs, engine, memory };
}

/** Bytes an image of this shape takes in memory (float RGB and alpha). */
const IMAGE_BYTES_PER_PIXEL = 16;

/**
 * The most image memory the run holds at once, and the step where: each image lives from its
 * step until the last step reading it ran (as runPlan releases them), plus the running step's own
 * estimate; engine steps' estimates are left out (`render` checks those against the machine).
 */
export function imagePeak(
  steps: readonly PlannedStep[],
): { bytes: number; step: string } | undefined {
  const lastReader = new Map<string, number>();
  steps.forEach((p, i) => {
    for (const d of p.deps) lastReader.set(d, i);
  });
  const live = new Map<string, number>();
  let held = 0;
  let peak: { bytes: number; step: string } | undefined;
  steps.forEach((p, i) => {
    const own = p.step.stage.usesEngine ? 0 : p.estimate?.bytes ?? 0;
    const out = p.shape ? p.shape.width * p.shape.height * IMAGE_BYTES_PER_PIXEL : 0;
    const now = held + Math.max(own, out);
    if (!peak || now > peak.bytes) peak = { bytes: now, step: p.step.id };
    if (out && lastReader.has(p.step.id)) {
      live.set(p.step.id, out);
      held += out;
    }
    for (const d of new Set(p.deps)) {
      if (lastReader.get(d) === i && live.has(d)) {
        held -= live.get(d)!;
        live.delete(d);
      }
    }
  });
  return peak;
}

/** `auto` → the engine the providers pick here; other names unchanged (loaded only when needed). */
async function resolveWithProviders(name: string): Promise<string> {
  if (name !== "auto") return name;
  const { autoProvider } = await import("../neural/engines/providers.ts");
  return (await autoProvider()).name;
}

/** Steps in dependency order; among steps ready together, file order. Assumes no cycles. */
export function topologicalOrder(steps: readonly RecipeStep[]): RecipeStep[] {
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const waiting = steps.map((s) => new Set(Object.values(s.inputs).flat()).size);
  const consumers: number[][] = steps.map(() => []);
  steps.forEach((s, i) => {
    for (const d of new Set(Object.values(s.inputs).flat())) consumers[index.get(d)!]?.push(i);
  });
  // Ready steps in a binary min-heap by file position: O(n log n) however the steps are wired.
  const heap = new MinHeap();
  waiting.forEach((w, i) => w === 0 && heap.push(i));
  const out: RecipeStep[] = [];
  while (heap.size) {
    const i = heap.pop();
    out.push(steps[i]);
    for (const c of consumers[i]) if (--waiting[c] === 0) heap.push(c);
  }
  if (out.length < steps.length) throw new Error("steps form a cycle"); // validation reports cycles first
  return out;
}

/** A min-heap of numbers. */
class MinHeap {
  readonly #a: number[] = [];
  get size(): number {
    return this.#a.length;
  }
  push(v: number): void {
    const a = this.#a;
    a.push(v);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): number {
    const a = this.#a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      for (let i = 0;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

/**
 * The files written by steps of file-writing stages (their `path` parameter, and its provenance
 * sidecar), checked before anything runs: confined to the output directory on real paths, never
 * an input, the recipe or a plugin, and never the same file for two steps.
 */
function checkOutputs(
  steps: readonly RecipeStep[],
  paths: PathOptions,
  protectedFiles: readonly string[],
  recipe: Recipe,
  issues: IssueList,
): void {
  const writers = new Map<string, string>();
  for (const step of steps) {
    for (const side of step.stage.sideOutputs?.(step.params, step.id) ?? []) {
      try {
        confineOutput(side, paths, protectedFiles);
      } catch (e) {
        if (!(e instanceof StageError)) throw e;
        issues.add(recipe.at([...step.path, "with"]), e.message, step.id);
      }
    }
    const path = (step.params as Record<string, unknown> | null)?.path;
    if (!step.stage.writesFiles || typeof path !== "string") continue;
    const at = recipe.at([...step.path, "with", "path"]);
    try {
      const target = confineOutput(path, paths, protectedFiles);
      confineOutput(sidecarPath(path), paths, protectedFiles);
      for (const file of [target, sidecarPath(target)]) {
        const real = realPathOf(file);
        const other = writers.get(real);
        if (other !== undefined) {
          issues.add(
            at,
            `writes ${file}, as step "${other}" does; give each output its own path`,
            step.id,
          );
          break;
        }
        writers.set(real, step.id);
      }
    } catch (e) {
      if (!(e instanceof StageError)) throw e;
      issues.add(at, e.message, step.id);
    }
  }
}

/** The paths (as written) of files a step reads: its declaration, else a `path` of an input-less stage. */
export function declaredInputFiles(step: RecipeStep): readonly string[] {
  if (step.stage.inputFiles) return step.stage.inputFiles(step.params);
  const path = (step.params as Record<string, unknown> | null)?.path;
  return Object.keys(step.stage.inputs).length === 0 && typeof path === "string" ? [path] : [];
}

async function readFiles(
  step: RecipeStep,
  paths: PathOptions,
  recipe: Recipe,
  issues: IssueList,
): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const written of declaredInputFiles(step)) {
    try {
      const path = await findInput(written, paths);
      out.push({ written, path, sha256: await sha256File(path) });
    } catch (e) {
      if (!(e instanceof StageError)) throw e;
      issues.add(
        recipe.at([...step.path, "with", ...paramPathOf(step, written)]),
        e.message,
        step.id,
      );
    }
  }
  return out;
}

/** The parameter holding `written`, for the error position (top-level string params only). */
function paramPathOf(step: RecipeStep, written: string | undefined): string[] {
  if (written === undefined) return [];
  const params = (step.params ?? {}) as Record<string, unknown>;
  const name = Object.keys(params).find((k) => params[k] === written);
  return name ? [name] : [];
}
