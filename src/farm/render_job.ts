/**
 * One farm job, in two halves: {@link admitJob}'s checks, made by the worker before anything the
 * job names is read (shape, signature, path mapping, recipe and output folder inside the roots),
 * and {@link renderVerified}, which loads and re-plans the recipe under the same roots and runs it
 * (in the worker's job child, or in process). Split so that the worker never runs job code itself.
 */
import { join, relative } from "node:path";
import { UnrecoverableError } from "npm:bullmq@6.7.0";
import type { RunEvent } from "../pipeline/events.ts";
import { type Plan, planRecipe } from "../pipeline/plan.ts";
import { confineOutput, confineToRoots } from "../pipeline/paths.ts";
import { RunAbortedError, runPlan, StepFailedError } from "../pipeline/run.ts";
import { nothingToRender, timestampName } from "../pipeline/schedule.ts";
import type { StepStore } from "../pipeline/store.ts";
import { RecipeError } from "../recipe/errors.ts";
import type { Recipe } from "../recipe/recipe.ts";
import { StageError } from "../stages/stage.ts";
import { mapRef, type PathMapping } from "./path_map.ts";
import { JobSignatureError, verifyJob } from "./signing.ts";
import {
  checkJobData,
  type FarmJobData,
  type FarmResult,
  jobIdOf,
  JobShapeError,
  type RecipeRef,
  subPlan,
} from "./jobs.ts";

/** Loads and validates the recipe a job names (the CLI's loader: built-in stages, extensions). */
export type RecipeLoader = (ref: RecipeRef) => Promise<Recipe>;

/** A job whose shape and signature were checked and whose paths were mapped and confined. */
export interface VerifiedJob {
  /** The BullMQ job id (a render job's: its output's cache key). */
  readonly id: string;
  /** The payload, paths mapped to this machine's. */
  readonly data: FarmJobData;
  /** The output folder as the submitter named it (cache keys use it, so mapped machines share). */
  readonly submittedOutDir: string;
  /** A scheduled job's tick (ms since the epoch). */
  readonly due: number;
}

/** The job as BullMQ holds it (what {@link admitJob} reads). */
export interface QueuedJob {
  readonly id?: string;
  readonly data: unknown;
  readonly timestamp: number;
  readonly opts: { readonly prevMillis?: number };
}

/**
 * Checks `job` before anything it names is read: its shape, its signature under `key` (when
 * given), then maps its paths and confines its recipe and output folder to `roots`.
 */
export async function admitJob(
  job: QueuedJob,
  key: CryptoKey | undefined,
  maps: readonly PathMapping[],
  roots: readonly string[] | undefined,
): Promise<VerifiedJob> {
  const signed = checkJobData(job.data);
  if (key) await verifyJob(signed, key);
  const data = mapRef(signed, maps);
  confineToRoots(data.recipe, roots, "recipe");
  confineToRoots(data.outDir, roots, "output folder");
  const due = job.opts.prevMillis ?? job.timestamp;
  return { id: job.id ?? "", data, submittedOutDir: signed.outDir, due };
}

/** What {@link renderVerified} renders with. */
export interface RenderContext {
  readonly loadRecipe: RecipeLoader;
  /** The shared step store (cache entries and checkpoints). */
  readonly store: StepStore;
  readonly roots?: readonly string[];
  /** What `engine: auto` means here (default: the engine providers' choice). */
  readonly engine?: string;
  /** Memory budget in bytes the renders are fitted into. */
  readonly memory?: number;
}

/** Loads, re-plans (same roots) and runs a verified job; its events go to `onEvent`. */
export async function renderVerified(
  job: VerifiedJob,
  context: RenderContext,
  signal: AbortSignal,
  onEvent: (event: RunEvent) => void,
): Promise<FarmResult> {
  const { data, submittedOutDir } = job;
  const { roots, store } = context;
  const recipe = await context.loadRecipe(data);
  for (const file of recipe.files) confineToRoots(file, roots, "recipe file");
  const resolveEngine = async (engine: string) =>
    engine !== "auto" ? engine : context.engine ?? await providersChoice();
  let plan: Plan;
  if (data.kind === "render") {
    // The job id is the output's key with `auto` unresolved and no memory budget (no tiling in
    // the keys): the same on every machine.
    const asSubmitted = await planRecipe(recipe, {
      ...data,
      roots,
      keyOutDir: submittedOutDir,
      resolveEngine: (e) => Promise.resolve(e),
      memory: Infinity,
    });
    if (jobIdOf(asSubmitted, data) !== job.id) {
      throw new UnrecoverableError(
        `${data.recipe} or its input files changed since the job was submitted; submit it again`,
      );
    }
    plan = await planRecipe(recipe, {
      ...data,
      roots,
      keyOutDir: submittedOutDir,
      resolveEngine,
      memory: context.memory,
    });
    if (data.output !== undefined) plan = subPlan(plan, data.output);
  } else {
    // As the local `schedule`: NAME/TIMESTAMP checked on real paths (no symlinked out/NAME).
    const outDir = confineOutput(join(recipe.name, timestampName(new Date(job.due))), {
      recipeDir: recipe.dir,
      imageDirs: [],
      outDir: data.outDir,
      allowOutsideOutput: false,
      roots,
    }, recipe.files);
    const keyOutDir = join(submittedOutDir, relative(data.outDir, outDir));
    plan = await planRecipe(recipe, {
      ...data,
      outDir,
      keyOutDir,
      roots,
      resolveEngine,
      memory: context.memory,
    });
    if (await nothingToRender(plan, store)) {
      return { steps: [], outputs: [], seconds: 0, skipped: "inputs unchanged (all steps cached)" };
    }
  }
  if (signal.aborted) throw new RunAbortedError(); // stopped while planning
  const result = await runPlan(plan, { cache: store, signal, onEvent });
  return { steps: result.steps, outputs: result.outputs, seconds: result.seconds };
}

/** Whether a job's error is one retrying cannot help (recipe, stage, trust, changed inputs). */
export function isPermanent(e: unknown): boolean {
  return e instanceof RecipeError || e instanceof UnrecoverableError ||
    e instanceof JobSignatureError || e instanceof JobShapeError || e instanceof StageError ||
    (e instanceof StepFailedError && e.cause instanceof StageError);
}

/** `auto` → the engine the providers pick on this machine (loaded only when needed). */
async function providersChoice(): Promise<string> {
  const { autoProvider } = await import("../neural/engines/providers.ts");
  return (await autoProvider()).name;
}
