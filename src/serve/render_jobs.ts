/**
 * Renders started from the web page: each job validates and plans its recipe, then runs (one job at
 * a time, in order) with live previews; its events, loss trace and latest preview are kept for
 * the page, and subscribers receive each change as it happens.
 */
import { encodePng } from "../image/codecs.ts";
import type { RgbImage } from "../image/image.ts";
import type { CacheStore } from "../pipeline/cache.ts";
import type { RunEvent } from "../pipeline/events.ts";
import { planRecipe } from "../pipeline/plan.ts";
import { runPlan } from "../pipeline/run.ts";
import type { Recipe } from "../recipe/recipe.ts";
import type { LossPoint } from "../report/loss_chart.ts";
import { messageOf } from "../util/errors.ts";

/** Where a job is. */
export type JobStatus = "queued" | "running" | "done" | "failed" | "cancelled";

/** What the page sees of a job. */
export interface JobView {
  readonly id: string;
  readonly recipe: string;
  readonly sets: readonly string[];
  readonly status: JobStatus;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** The step and iteration in progress. */
  readonly progress?: { step: string; iteration?: number; total?: number; loss?: number };
  /** Iteration of the latest preview (0 = none yet). */
  readonly previewIteration: number;
  /** Points of the loss trace so far (for the chart). */
  readonly lossPoints: number;
  readonly outputs: readonly string[];
  readonly error?: string;
}

/** A change a subscriber hears about. */
export type JobUpdate = { type: "job"; job: JobView } | { type: "event"; event: RunEvent };

/** One render. */
class Job {
  status: JobStatus = "queued";
  startedAt?: string;
  finishedAt?: string;
  progress?: JobView["progress"];
  preview?: { png: Uint8Array; iteration: number };
  /** The loss trace of the optimizing step in progress (a new step starts a new trace). */
  trace: LossPoint[] = [];
  traceStep?: string;
  outputs: readonly string[] = [];
  error?: string;
  readonly controller = new AbortController();
  readonly listeners = new Set<(u: JobUpdate) => void>();

  constructor(readonly id: string, readonly recipe: string, readonly sets: readonly string[]) {}

  view(): JobView {
    return {
      id: this.id,
      recipe: this.recipe,
      sets: this.sets,
      status: this.status,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      progress: this.progress,
      previewIteration: this.preview?.iteration ?? 0,
      lossPoints: this.trace.length,
      outputs: this.outputs,
      error: this.error,
    };
  }

  publish(update: JobUpdate) {
    for (const l of this.listeners) l(update);
  }
}

/** Settings shared by every job. */
export interface RenderJobsOptions {
  readonly outDir: string;
  readonly cache: CacheStore | null;
  /** Iterations between previews. */
  readonly previewEvery: number;
  /** Loads a recipe (with `--set` values) as the CLI does; throws RecipeError. */
  readonly load: (file: string, sets: readonly string[]) => Promise<Recipe>;
}

/** The jobs of one server. */
export class RenderJobs {
  readonly #jobs = new Map<string, Job>();
  #queue: Promise<void> = Promise.resolve();
  #count = 0;

  /** @param options output folder, cache, preview cadence, recipe loader */
  constructor(readonly options: RenderJobsOptions) {}

  /** Validates and plans `file` now (so errors reach the caller), then queues its run. */
  async start(file: string, label: string, sets: readonly string[]): Promise<JobView> {
    const recipe = await this.options.load(file, sets);
    const plan = await planRecipe(recipe, { outDir: this.options.outDir });
    const job = new Job(`r${++this.#count}`, label, sets);
    this.#jobs.set(job.id, job);
    this.#queue = this.#queue.then(() => this.#run(job, plan));
    return job.view();
  }

  /** Every job, newest first. */
  list(): JobView[] {
    return [...this.#jobs.values()].reverse().map((j) => j.view());
  }

  /** One job's view. */
  get(id: string): JobView | undefined {
    return this.#jobs.get(id)?.view();
  }

  /** The latest preview PNG of a job. */
  preview(id: string): Uint8Array | undefined {
    return this.#jobs.get(id)?.preview?.png;
  }

  /** The loss trace of a job so far. */
  trace(id: string): readonly LossPoint[] | undefined {
    return this.#jobs.get(id)?.trace;
  }

  /** Cancels a queued or running job; false when there is no such job. */
  cancel(id: string): boolean {
    const job = this.#jobs.get(id);
    if (!job) return false;
    job.controller.abort(new Error("cancelled from the page"));
    return true;
  }

  /** Calls `listener` with each update of job `id` until the returned function is called. */
  subscribe(id: string, listener: (u: JobUpdate) => void): (() => void) | undefined {
    const job = this.#jobs.get(id);
    if (!job) return undefined;
    job.listeners.add(listener);
    return () => job.listeners.delete(listener);
  }

  /** Waits for every queued job (server shutdown, tests). */
  idle(): Promise<void> {
    return this.#queue;
  }

  async #run(job: Job, plan: Awaited<ReturnType<typeof planRecipe>>): Promise<void> {
    if (job.controller.signal.aborted) {
      job.status = "cancelled";
      job.publish({ type: "job", job: job.view() });
      return;
    }
    job.status = "running";
    job.startedAt = new Date().toISOString();
    job.publish({ type: "job", job: job.view() });
    let previews = Promise.resolve();
    try {
      const result = await runPlan(plan, {
        cache: this.options.cache,
        signal: job.controller.signal,
        onEvent: (event) => this.#onEvent(job, event),
        preview: {
          every: this.options.previewEvery,
          onPreview: (_step: string, image: RgbImage, iteration: number) => {
            previews = previews.then(async () => {
              job.preview = { png: await encodePng(image), iteration };
              job.publish({ type: "job", job: job.view() });
            });
          },
        },
      });
      await previews;
      job.outputs = result.outputs;
      job.status = "done";
    } catch (e) {
      await previews.catch(() => {});
      job.status = job.controller.signal.aborted ? "cancelled" : "failed";
      job.error = messageOf(e);
    }
    job.finishedAt = new Date().toISOString();
    job.publish({ type: "job", job: job.view() });
  }

  #onEvent(job: Job, event: RunEvent) {
    if (event.type === "step-progress") {
      const p = event.progress;
      job.progress = { step: event.step, iteration: p.iteration, total: p.total, loss: p.loss };
      if (p.iteration !== undefined && p.loss !== undefined) {
        if (job.traceStep !== event.step) [job.trace, job.traceStep] = [[], event.step];
        job.trace.push({ iteration: p.iteration, loss: p.loss, terms: p.terms });
      }
      job.publish({ type: "job", job: job.view() });
    } else {
      job.publish({ type: "event", event });
    }
  }
}
