/**
 * What goes through the render farm's queue: job payloads, progress and results, and how a plan is
 * cut into jobs — one per output (a step that writes files, so a `matrix:` recipe gives one job per
 * combination), each with the output step's cache key as its job id. Identical submissions therefore
 * make one job, and a worker runs only the steps that output depends on.
 */
import type { StepSummary } from "../pipeline/events.ts";
import type { Plan } from "../pipeline/plan.ts";
import { StylepipeError } from "../util/errors.ts";
import { sha256Hex } from "../util/hash.ts";

/** How to load and plan the recipe on a worker (paths absolute, as the submitter resolved them). */
export interface RecipeRef {
  /** The recipe file. */
  readonly recipe: string;
  /** `--set name=value` overrides. */
  readonly sets: readonly string[];
  /** `--engine` override given at submission (`auto` is resolved by each worker). */
  readonly engine?: string;
  /** Folders searched for inputs after the recipe's folder. */
  readonly imageDirs: readonly string[];
  /** Output folder (for a scheduled job: the base; each tick renders into NAME/TIMESTAMP below). */
  readonly outDir: string;
}

/** The HMAC a submitter holding the farm key puts on every job (see ../farm/signing.ts). */
export interface JobSignature {
  /** Hex HMAC-SHA256 of the rest of the job; absent on jobs of a farm run without a key. */
  readonly signature?: string;
}

/** A job rendering one output of a recipe (or the whole recipe when no step writes files). */
export interface RenderJobData extends RecipeRef, JobSignature {
  readonly kind: "render";
  /** The step whose output this job makes; absent: every step. */
  readonly output?: string;
}

/** A job made by a job scheduler at one tick of a recipe's `schedule:`. */
export interface ScheduledJobData extends RecipeRef, JobSignature {
  readonly kind: "scheduled";
}

/** Any farm job's payload. */
export type FarmJobData = RenderJobData | ScheduledJobData;

/** A job payload whose members are not of the types a job has. */
export class JobShapeError extends StylepipeError {}

/** `data` as a job payload, its members' types checked (it comes from Redis). */
export function checkJobData(data: unknown): FarmJobData {
  const d = data as Record<string, unknown> | null;
  const text = (v: unknown) => typeof v === "string" && v.length <= 4096;
  const texts = (v: unknown) => Array.isArray(v) && v.length <= 1000 && v.every(text);
  const problem = d === null || typeof d !== "object" || Array.isArray(d)
    ? "not an object"
    : d.kind !== "render" && d.kind !== "scheduled"
    ? `kind ${JSON.stringify(d.kind)?.slice(0, 40)} is neither "render" nor "scheduled"`
    : !text(d.recipe) || !text(d.outDir)
    ? "recipe and outDir must be paths"
    : !texts(d.sets) || !texts(d.imageDirs)
    ? "sets and imageDirs must be lists of at most 1000 texts"
    : [d.engine, d.output, d.signature].some((v) => v !== undefined && !text(v))
    ? "engine, output and signature must be texts"
    : undefined;
  if (problem) throw new JobShapeError(`malformed job: ${problem}`);
  return d as unknown as FarmJobData;
}

/** Progress a worker reports for a running job (`job.progress`). */
export interface FarmProgress {
  readonly step: string;
  readonly iteration?: number;
  readonly total?: number;
  readonly loss?: number;
  /** 0–1 for the step. */
  readonly fraction?: number;
  /** Seconds left in the step, from its pace so far. */
  readonly etaSeconds?: number;
  readonly message?: string;
}

/** What a finished job returns (`job.returnvalue`). */
export interface FarmResult {
  /** Per-step outcome (all `cached` when the outputs were already in the shared cache). */
  readonly steps: readonly StepSummary[];
  readonly outputs: readonly string[];
  readonly seconds: number;
  /** Why nothing was rendered (a scheduled tick whose inputs did not change). */
  readonly skipped?: string;
}

/** One job to enqueue. */
export interface PlannedJob {
  /** The content key: the output step's cache key. */
  readonly id: string;
  readonly data: RenderJobData;
}

/** Cuts a plan into jobs, one per file-writing step (or one for the whole plan if none writes). */
export function jobsOf(plan: Plan, ref: RecipeRef): PlannedJob[] {
  const outputs = plan.steps.filter((p) => p.step.stage.writesFiles);
  if (outputs.length === 0) {
    const id = sha256Hex(plan.steps.map((p) => p.key).join("\n"));
    return [{ id, data: { kind: "render", ...ref } }];
  }
  return outputs.map((p) => ({ id: p.key, data: { kind: "render", ...ref, output: p.step.id } }));
}

/** The job id a worker expects for `data` on `plan` (what {@link jobsOf} gave at submission). */
export function jobIdOf(plan: Plan, data: RenderJobData): string {
  return data.output === undefined
    ? sha256Hex(plan.steps.map((p) => p.key).join("\n"))
    : plan.steps.find((p) => p.step.id === data.output)?.key ?? "";
}

/** The part of `plan` that `stepId`'s output depends on (plan order kept). */
export function subPlan(plan: Plan, stepId: string): Plan {
  const byId = new Map(plan.steps.map((p) => [p.step.id, p]));
  const keep = new Set<string>();
  const visit = (id: string) => {
    if (keep.has(id)) return;
    keep.add(id);
    for (const d of byId.get(id)?.deps ?? []) visit(d);
  };
  visit(stepId);
  return { ...plan, steps: plan.steps.filter((p) => keep.has(p.step.id)) };
}
