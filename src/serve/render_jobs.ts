/**
 * Renders started from the web page. Each job's recipe is validated and planned when it is started
 * (so errors reach the caller), then it runs, one job at a time in order, in its own child process
 * (render_child.ts): the server's event loop only relays the child's events, previews and loss
 * points to subscribers, and keeps the latest of each for a page that connects mid-render.
 */
import { Buffer } from "node:buffer";
import { dirname, relative, resolve } from "node:path";
import { encodePng, fromInterleaved } from "../image/codecs.ts";
import type { RunEvent } from "../pipeline/events.ts";
import { planRecipe } from "../pipeline/plan.ts";
import type { Recipe } from "../recipe/recipe.ts";
import type { LossPoint } from "../report/loss_chart.ts";
import { shortPath, within } from "./folders.ts";
import { type ChildJob, type ChildMessage, MESSAGE_PREFIX } from "./render_child.ts";
import { messageOf } from "../util/errors.ts";
import { readMessages } from "../util/child_messages.ts";

/** Where a job is. */
export type JobStatus = "queued" | "running" | "done" | "failed" | "cancelled";

/** Progress of a running job: the step, iteration, percent of the step and seconds left. */
export interface JobProgress {
  readonly step: string;
  /** 1-based position of the step in the run and the number of steps. */
  readonly stepNumber?: number;
  readonly steps?: number;
  readonly iteration?: number;
  readonly total?: number;
  readonly loss?: number;
  /** Percent of the step done (0–100). */
  readonly percent?: number;
  /** Seconds left in the step, estimated from its pace. */
  readonly eta?: number;
}

/** What the page sees of a job. */
export interface JobView {
  readonly id: string;
  readonly recipe: string;
  readonly sets: readonly string[];
  readonly status: JobStatus;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly progress?: JobProgress;
  /** Iteration of the latest preview (0 = none yet). */
  readonly previewIteration: number;
  /** Points of the loss trace so far. */
  readonly lossPoints: number;
  /** Files written, relative to the output folder. */
  readonly outputs: readonly string[];
  /** What a verify job found. */
  readonly summary?: string;
  readonly error?: string;
}

/** A preview as pushed to the page. */
export interface PreviewUpdate {
  readonly step: string;
  readonly iteration: number;
  /** PNG, base64. */
  readonly png: string;
  /** When the engine produced it (ms since the epoch). */
  readonly producedAt: number;
}

/** A change a subscriber hears about. */
export type JobUpdate =
  | { readonly type: "job"; readonly job: JobView }
  | { readonly type: "event"; readonly event: RunEvent }
  | { readonly type: "preview"; readonly preview: PreviewUpdate }
  | {
    readonly type: "trace";
    readonly step: string;
    /** Index in the step's trace of the first point (the page drops any it had from there on). */
    readonly from: number;
    readonly points: readonly LossPoint[];
  };

/** One render. */
class Job {
  status: JobStatus = "queued";
  startedAt?: string;
  finishedAt?: string;
  progress?: JobProgress;
  steps: readonly string[] = [];
  preview?: PreviewUpdate;
  /** The loss trace of the optimizing step in progress (a new step starts a new trace). */
  trace: LossPoint[] = [];
  traceStep = "";
  outputs: readonly string[] = [];
  summary?: string;
  error?: string;
  cancelled = false;
  child?: Deno.ChildProcess;
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
      summary: this.summary,
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
  /** Cache folder, or null to render uncached. */
  readonly cacheDir: string | null;
  /** Iterations between previews. */
  readonly previewEvery: number;
  /** Folders searched for inputs after the recipe's folder. */
  readonly imageDirs: readonly string[];
  /** Loads a recipe (with `--set` values) as the CLI does; throws RecipeError. */
  readonly load: (file: string, sets: readonly string[]) => Promise<Recipe>;
  /** The command (program, then arguments) of a process calling `runRenderChild` (render_child.ts). */
  readonly childCommand: readonly string[];
  /** Receives one line when a render starts and one when it ends (default: none). */
  readonly log?: (line: string) => void;
}

/** Seconds between SIGTERM and SIGKILL when a render is cancelled. */
const CANCEL_GRACE_MS = 5000;

/** Finished jobs kept for the page (older ones are forgotten, with their previews and traces). */
const KEPT_FINISHED = 100;

/** The jobs of one server. */
export class RenderJobs {
  readonly #jobs = new Map<string, Job>();
  #queue: Promise<void> = Promise.resolve();
  #count = 0;

  /** @param options output folder, cache, preview cadence, lookup folders, loader, child command */
  constructor(readonly options: RenderJobsOptions) {}

  /**
   * Validates and plans `file` now (so errors reach the caller), then queues its run. A recipe
   * that reads a file outside its own folder and the lookup folders, or writes outside the output
   * folder, is refused: the page may start it, not widen what it reaches.
   */
  async start(file: string, label: string, sets: readonly string[]): Promise<JobView> {
    const recipe = await this.options.load(file, sets);
    if (recipe.allowOutsideOutput) {
      throw new Error(
        `${label}: allow_outside_output is refused for renders started from the page`,
      );
    }
    const { imageDirs, outDir } = this.options;
    // `auto` stays unresolved here: choosing an engine loads and probes them, the render's job.
    const resolveEngine = (name: string) => Promise.resolve(name);
    const plan = await planRecipe(recipe, { outDir, imageDirs, resolveEngine });
    const allowed = [dirname(file), ...imageDirs];
    for (const input of plan.inputFiles) {
      const inside = await Promise.all(allowed.map((dir) => within(dir, input)));
      if (!inside.some(Boolean)) {
        throw new Error(
          `${label} reads ${shortPath(input)}, outside the recipe's folder and the lookup folders`,
        );
      }
    }
    return this.#enqueue(new Job(`r${++this.#count}`, label, sets), {
      ...this.#base(),
      recipe: file,
    });
  }

  /** Queues a re-render of `output` from its record, compared with it (`verify`). */
  verify(output: string, label: string): JobView {
    return this.#enqueue(new Job(`r${++this.#count}`, label, []), {
      ...this.#base(),
      recipe: "",
      verify: output,
    });
  }

  #base(): Omit<ChildJob, "recipe"> {
    const { outDir, cacheDir, previewEvery, imageDirs } = this.options;
    return { sets: [], outDir, cacheDir, previewEvery, imageDirs };
  }

  #enqueue(job: Job, request: ChildJob): JobView {
    this.#jobs.set(job.id, job);
    this.#queue = this.#queue.then(() => this.#run(job, { ...request, sets: job.sets }));
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
    const preview = this.#jobs.get(id)?.preview;
    return preview && new Uint8Array(Buffer.from(preview.png, "base64"));
  }

  /** What a page that starts watching job `id` needs first: its view, preview and trace. */
  snapshot(id: string): JobUpdate[] {
    const job = this.#jobs.get(id);
    if (!job) return [];
    const updates: JobUpdate[] = [{ type: "job", job: job.view() }];
    if (job.preview) updates.push({ type: "preview", preview: job.preview });
    if (job.trace.length) {
      updates.push({ type: "trace", step: job.traceStep, from: 0, points: job.trace });
    }
    return updates;
  }

  /** Cancels a queued or running job; false when there is no such job. */
  cancel(id: string): boolean {
    const job = this.#jobs.get(id);
    if (!job) return false;
    job.cancelled = true;
    const child = job.child;
    if (child) {
      child.kill("SIGTERM");
      const kill = setTimeout(() => child.kill("SIGKILL"), CANCEL_GRACE_MS);
      child.status.finally(() => clearTimeout(kill));
    }
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

  /** Cancels every job and waits for their processes to end (server shutdown). */
  async close(): Promise<void> {
    for (const id of this.#jobs.keys()) this.cancel(id);
    await this.#queue;
  }

  async #run(job: Job, request: ChildJob): Promise<void> {
    if (job.cancelled) {
      job.error = "cancelled before it started";
      return this.#finish(job, "cancelled");
    }
    job.status = "running";
    job.startedAt = new Date().toISOString();
    this.options.log?.(`render ${job.id} started: ${job.recipe} ${job.sets.join(" ")}`.trimEnd());
    job.publish({ type: "job", job: job.view() });
    let previews = Promise.resolve();
    let outcome: Extract<ChildMessage, { type: "done" | "failed" }> | undefined;
    try {
      const [program, ...args] = this.options.childCommand;
      const child = new Deno.Command(program, {
        args,
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      job.child = child;
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(JSON.stringify(request)));
      await writer.close();
      for await (const message of readMessages<ChildMessage>(MESSAGE_PREFIX, child.stdout)) {
        if (message.type === "event") this.#onEvent(job, message.event);
        else if (message.type === "preview") {
          previews = previews.then(() => this.#preview(job, message));
        } else outcome = message;
      }
      await child.status;
      await previews;
    } catch (e) {
      outcome = { type: "failed", error: messageOf(e), cancelled: false };
    }
    if (outcome?.type === "done") {
      job.outputs = outcome.outputs.map((o) => relative(resolve(this.options.outDir), resolve(o)));
      job.summary = outcome.summary;
      return this.#finish(job, "done");
    }
    job.error = outcome?.type === "failed"
      ? outcome.error
      : "the render process ended without a result";
    return this.#finish(job, job.cancelled ? "cancelled" : "failed");
  }

  /** Encodes a preview as PNG (off this loop, in sharp's threads) and pushes it. */
  async #preview(job: Job, raw: Extract<ChildMessage, { type: "preview" }>): Promise<void> {
    const samples = Buffer.from(raw.rgb, "base64");
    const image = fromInterleaved(raw.width, raw.height, 3, samples, 255);
    const png = Buffer.from(await encodePng(image)).toString("base64");
    const { step, iteration, producedAt } = raw;
    job.preview = { step, iteration, png, producedAt };
    job.publish({ type: "preview", preview: job.preview });
  }

  #finish(job: Job, status: JobStatus) {
    job.status = status;
    job.child = undefined;
    job.finishedAt = new Date().toISOString();
    const seconds = job.startedAt
      ? ` after ${((Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000).toFixed(1)} s`
      : "";
    const what = status === "done" ? job.summary ?? job.outputs.join(", ") : job.error ?? "";
    this.options.log?.(`render ${job.id} ${status}${seconds}: ${what}`.trimEnd());
    job.publish({ type: "job", job: job.view() });
    const finished = [...this.#jobs.values()].filter((j) => j.finishedAt !== undefined);
    for (const old of finished.slice(0, -KEPT_FINISHED)) this.#jobs.delete(old.id);
  }

  #onEvent(job: Job, event: RunEvent) {
    if (event.type === "run-started") job.steps = event.steps;
    if (event.type !== "step-progress") return job.publish({ type: "event", event });
    const p = event.progress;
    const index = job.steps.indexOf(event.step);
    const fraction = p.fraction ??
      (p.iteration !== undefined && p.total ? p.iteration / p.total : undefined);
    job.progress = {
      step: event.step,
      stepNumber: index >= 0 ? index + 1 : undefined,
      steps: job.steps.length || undefined,
      iteration: p.iteration,
      total: p.total,
      loss: p.loss,
      percent: fraction === undefined ? undefined : Math.round(fraction * 1000) / 10,
      eta: p.eta ?? (fraction ? Math.round(event.elapsed * (1 - fraction) / fraction) : undefined),
    };
    if (p.iteration !== undefined && p.loss !== undefined) {
      if (job.traceStep !== event.step) [job.trace, job.traceStep] = [[], event.step];
      const point = { iteration: p.iteration, loss: p.loss, terms: p.terms };
      job.publish({
        type: "trace",
        step: event.step,
        from: job.trace.push(point) - 1,
        points: [point],
      });
    }
    job.publish({ type: "job", job: job.view() });
  }
}
