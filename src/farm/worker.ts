/**
 * A render-farm worker: takes jobs from the queue and runs them with the normal runner against a
 * shared {@link StepStore} (same cache keys, checkpoints and provenance as `render`). It reports
 * progress (step, iteration, loss, ETA) and the final summary through BullMQ. Failed jobs are
 * retried with the backoff set at submission, except recipe and stage errors (retrying cannot help).
 *
 * Stopping ({@link FarmWorker.stop}, on SIGTERM): no new jobs are taken, running renders are
 * cancelled (style-transfer keeps its last checkpoint in the shared store) and put back in the
 * waiting list, so another worker resumes them. A worker killed outright loses its lock after
 * `lockDuration`; another worker's stalled-job check puts the job back and resumes it the same way.
 */
import { join } from "node:path";
import { type Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import type { RunEvent } from "../pipeline/events.ts";
import { type Plan, planRecipe } from "../pipeline/plan.ts";
import { RunAbortedError, runPlan, StepFailedError } from "../pipeline/run.ts";
import { nothingToRender, timestampName } from "../pipeline/schedule.ts";
import type { StepStore } from "../pipeline/store.ts";
import { RecipeError } from "../recipe/errors.ts";
import type { Recipe } from "../recipe/recipe.ts";
import { StageError } from "../stages/stage.ts";
import { openRedis, QUEUE_NAME } from "./connection.ts";
import {
  type FarmJobData,
  type FarmProgress,
  type FarmResult,
  jobIdOf,
  type RecipeRef,
  subPlan,
} from "./jobs.ts";
import { messageOf } from "../util/errors.ts";

/** Loads and validates the recipe a job names (the CLI's loader: built-in stages, extensions). */
export type RecipeLoader = (ref: RecipeRef) => Promise<Recipe>;

/** Options for {@link startWorker}. */
export interface FarmWorkerOptions {
  /** `redis://HOST:PORT[/DB]`. */
  readonly url: string;
  /** The shared step store (cache entries and checkpoints). */
  readonly store: StepStore;
  readonly loadRecipe: RecipeLoader;
  /** Jobs run at once by this worker (default 1). */
  readonly concurrency?: number;
  /** What `engine: auto` means on this worker (default: the engine providers' choice here). */
  readonly engine?: string;
  /** Memory budget in bytes its renders are fitted into (default: this machine's, or its GPU's). */
  readonly memory?: number;
  /** Milliseconds a job's lock lasts without renewal; also the stalled-check interval (default 30 000). */
  readonly lockDuration?: number;
  /** Name stored on each job it processes (default `host:pid`). */
  readonly name?: string;
  /** Receives one object per job event (started, progress every 5 s a step, completed, failed, requeued). */
  readonly log?: (entry: Record<string, unknown>) => void;
}

/** A running worker. */
export interface FarmWorker {
  /** Stops taking jobs, cancels and requeues the running ones, then closes the connection. */
  stop(): Promise<void>;
}

/** Minimum milliseconds between two progress updates of a job (each is a Redis round trip). */
const PROGRESS_INTERVAL_MS = 250;
/** Minimum milliseconds between two progress lines in the log, per step (first and last always). */
const LOG_INTERVAL_MS = 5000;

/** Starts a worker on the farm's queue. */
export function startWorker(options: FarmWorkerOptions): FarmWorker {
  const log = options.log ?? (() => {});
  const name = options.name ?? `${Deno.hostname()}:${Deno.pid}`;
  const running = new Set<AbortController>();
  let stopping = false;
  const connection = openRedis(options.url, true);
  const lockDuration = options.lockDuration ?? 30_000;

  const processor = async (job: Job<FarmJobData, FarmResult>, token?: string) => {
    const controller = new AbortController();
    running.add(controller);
    log({ type: "job-started", job: job.id, attempt: job.attemptsMade + 1, worker: name });
    try {
      const result = await renderJob(job, options, controller.signal, log);
      log({ type: "job-completed", job: job.id, worker: name, ...summaryOf(result) });
      return result;
    } catch (e) {
      if (stopping && e instanceof RunAbortedError) {
        await job.moveToWait(token);
        log({ type: "job-requeued", job: job.id, worker: name });
        throw new WaitingError();
      }
      const permanent = e instanceof RecipeError || e instanceof UnrecoverableError ||
        (e instanceof StepFailedError && e.cause instanceof StageError);
      log({ type: "job-failed", job: job.id, worker: name, permanent, message: messageOf(e) });
      throw permanent && !(e instanceof UnrecoverableError)
        ? new UnrecoverableError(messageOf(e))
        : e;
    } finally {
      running.delete(controller);
    }
  };

  const worker = new Worker<FarmJobData, FarmResult>(QUEUE_NAME, processor, {
    connection,
    name,
    concurrency: options.concurrency ?? 1,
    lockDuration,
    stalledInterval: lockDuration,
  });
  // Connection losses are retried by ioredis; log them without crashing.
  worker.on("error", (e) => log({ type: "worker-error", worker: name, message: messageOf(e) }));

  return {
    async stop() {
      stopping = true;
      const closed = worker.close();
      for (const c of running) c.abort(new Error("worker stopping"));
      await closed;
      connection.disconnect();
    },
  };
}

/** Plans and runs one job. */
async function renderJob(
  job: Job<FarmJobData, FarmResult>,
  options: FarmWorkerOptions,
  signal: AbortSignal,
  log: (entry: Record<string, unknown>) => void,
): Promise<FarmResult> {
  const data = job.data;
  const recipe = await options.loadRecipe(data);
  const resolveEngine = async (engine: string) =>
    engine !== "auto" ? engine : options.engine ?? await providersChoice();
  let plan: Plan;
  if (data.kind === "render") {
    // The job id is the output's key with `auto` unresolved and no memory budget (no tiling in
    // the keys): the same on every machine.
    const asSubmitted = await planRecipe(recipe, {
      ...data,
      resolveEngine: (e) => Promise.resolve(e),
      memory: Infinity,
    });
    if (jobIdOf(asSubmitted, data) !== job.id) {
      throw new UnrecoverableError(
        `${data.recipe} or its input files changed since the job was submitted; submit it again`,
      );
    }
    plan = await planRecipe(recipe, { ...data, resolveEngine, memory: options.memory });
    if (data.output !== undefined) plan = subPlan(plan, data.output);
  } else {
    const due = new Date(job.opts.prevMillis ?? job.timestamp);
    const outDir = join(data.outDir, recipe.name, timestampName(due));
    plan = await planRecipe(recipe, { ...data, outDir, resolveEngine, memory: options.memory });
    if (await nothingToRender(plan, options.store)) {
      return { steps: [], outputs: [], seconds: 0, skipped: "inputs unchanged (all steps cached)" };
    }
  }
  let lastUpdate = 0;
  const lastLogged = new Map<string, number>();
  const onEvent = (e: RunEvent) => {
    if (e.type === "step-warning") {
      log({ type: "job-warning", job: job.id, step: e.step, message: e.message });
    }
    if (e.type !== "step-progress") return;
    const p = e.progress;
    const now = Date.now();
    const first = !lastLogged.has(e.step); // e.g. "resumed" from a checkpoint
    const last = p.iteration !== undefined && p.iteration === p.total;
    if (first || last || now - lastLogged.get(e.step)! >= LOG_INTERVAL_MS) {
      lastLogged.set(e.step, now);
      const { iteration, total, loss, message } = p;
      log({ type: "job-progress", job: job.id, step: e.step, iteration, total, loss, message });
    }
    if (!first && !last && now - lastUpdate < PROGRESS_INTERVAL_MS) return;
    lastUpdate = now;
    const fraction = p.fraction ??
      (p.iteration !== undefined && p.total ? p.iteration / p.total : undefined);
    const progress: FarmProgress = {
      step: e.step,
      iteration: p.iteration,
      total: p.total,
      loss: p.loss,
      fraction,
      etaSeconds: fraction ? e.elapsed * (1 - fraction) / fraction : undefined,
      message: p.message,
    };
    job.updateProgress({ ...progress }).catch(() => {}); // best effort: Redis may be restarting
  };
  if (signal.aborted) throw new RunAbortedError(); // stopped while planning
  const result = await runPlan(plan, { cache: options.store, signal, onEvent });
  return { steps: result.steps, outputs: result.outputs, seconds: result.seconds };
}

/** `auto` → the engine the providers pick on this machine (loaded only when needed). */
async function providersChoice(): Promise<string> {
  const { autoProvider } = await import("../neural/engines/providers.ts");
  return (await autoProvider()).name;
}

function summaryOf(result: FarmResult): Record<string, unknown> {
  return {
    ran: result.steps.filter((s) => s.status === "ran").map((s) => s.step),
    outputs: result.outputs,
    skipped: result.skipped,
  };
}
