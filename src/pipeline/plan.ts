/**
 * Planning: order the steps (topological, file order among equals), hash the files they read, and
 * give every step its cache key = SHA-256 of (stage name, version, parsed parameters, input keys,
 * read files' contents, output folder for file-writing stages, and — for stages that use the engine —
 * the derived seed and the engine name, `auto` resolved to the engine it picks here).
 */
import { resolve } from "node:path";
import { IssueList } from "../recipe/errors.ts";
import type { Recipe, RecipeStep } from "../recipe/recipe.ts";
import { type Estimate, StageError } from "../stages/stage.ts";
import { deriveSeed } from "../util/prng.ts";
import { sha256File, sha256Hex } from "../util/hash.ts";
import { canonicalJson } from "./canonical_json.ts";
import { defaultImageDirs } from "./locations.ts";
import { findInput, type PathOptions } from "./paths.ts";

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
  /** Output image size, where the stages can tell. */
  readonly shape?: { readonly width: number; readonly height: number };
  /** Resource estimate, where the stage gives one. */
  readonly estimate?: Estimate;
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
}

/** Options for {@link planRecipe}. */
export interface PlanOptions {
  /** Output directory (default `out`). */
  readonly outDir?: string;
  /** Folders searched for inputs after the recipe's folder (default `$STYLEPIPE_IMAGES`, `./pipelines/images`). */
  readonly imageDirs?: readonly string[];
  /** Resolves `auto` to a concrete engine name (default: the engine providers' choice here). */
  readonly resolveEngine?: (name: string) => Promise<string>;
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
  };
  const order = topologicalOrder(recipe.steps);
  const issues = new IssueList(recipe.file);
  const files = await Promise.all(order.map((s) => readFiles(s, paths, recipe, issues)));
  issues.throwIfAny();

  const usesEngine = order.some((s) => s.stage.usesEngine);
  const engine = usesEngine
    ? await (options.resolveEngine ?? resolveWithProviders)(recipe.engine)
    : recipe.engine;
  const planned = new Map<string, PlannedStep>();
  for (const [i, step] of order.entries()) {
    const inputKeys = Object.fromEntries(
      Object.entries(step.inputs).map(([name, ids]) => [name, ids.map((d) => planned.get(d)!.key)]),
    );
    const seed = deriveSeed(recipe.seed, step.id);
    const key = sha256Hex(canonicalJson({
      stage: step.stage.name,
      version: step.stage.version,
      params: step.params,
      seed: step.stage.usesEngine ? seed : undefined,
      engine: step.stage.usesEngine ? engine : undefined,
      inputs: inputKeys,
      files: files[i].map((f) => f.sha256),
      outDir: step.stage.writesFiles ? paths.outDir : undefined,
    }));
    const shapes = Object.fromEntries(
      Object.entries(step.inputs).map(([name, ids]) => [name, planned.get(ids[0])?.shape]),
    );
    planned.set(step.id, {
      step,
      key,
      seed,
      deps: [...new Set(Object.values(step.inputs).flat())],
      inputFiles: files[i],
      shape: step.stage.shape?.(shapes, step.params) ??
        (files[i].length === 1 ? await step.stage.fileShape?.(files[i][0].path) : undefined),
      estimate: step.stage.estimate?.(shapes, step.params, { engine }),
    });
  }
  const inputFiles = new Set([...planned.values()].flatMap((p) => p.inputFiles.map((f) => f.path)));
  return { recipe, steps: [...planned.values()], paths, inputFiles, engine };
}

/** `auto` → the engine the providers pick here; other names unchanged (loaded only when needed). */
async function resolveWithProviders(name: string): Promise<string> {
  if (name !== "auto") return name;
  const { autoProvider } = await import("../neural/engines/providers.ts");
  return (await autoProvider()).name;
}

/** Steps in dependency order; among steps ready together, file order. Assumes no cycles. */
export function topologicalOrder(steps: readonly RecipeStep[]): RecipeStep[] {
  const remaining = new Map(steps.map((s) => [s.id, new Set(Object.values(s.inputs).flat())]));
  const out: RecipeStep[] = [];
  while (out.length < steps.length) {
    const ready = steps.find((s) => remaining.get(s.id)?.size === 0);
    if (!ready) throw new Error("steps form a cycle"); // validation reports cycles first
    out.push(ready);
    remaining.delete(ready.id);
    for (const deps of remaining.values()) deps.delete(ready.id);
  }
  return out;
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
function paramPathOf(step: RecipeStep, written: string): string[] {
  const params = (step.params ?? {}) as Record<string, unknown>;
  const name = Object.keys(params).find((k) => params[k] === written);
  return name ? [name] : [];
}
