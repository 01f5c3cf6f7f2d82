/**
 * A render-farm worker: takes jobs from the queue and runs them with the normal runner against a
 * shared {@link StepStore} (same cache keys, checkpoints and provenance as `render`). It reports
 * progress (step, iteration, loss, ETA) and the final summary through BullMQ. Failed jobs are
 * retried with the backoff set at submission, except recipe and stage errors (retrying cannot help).
 *
 * With `jobChild` (the CLI's worker), each job renders in its own child process (job_child.ts) and this process only
 * checks, relays and supervises, so it answers signals whatever the job's code does.
 *
 * Stopping ({@link FarmWorker.stop}, on SIGTERM): no new jobs are taken, running renders are
 * cancelled (style-transfer keeps its last checkpoint in the shared store) and put back in the
 * waiting list, so another worker resumes them; {@link FarmWorker.kill} ends the children of a stop
 * that takes too long and requeues their jobs the same way. A worker killed outright loses its lock after
 * `lockDuration`; another worker's stalled-job check puts the job back and resumes it the same way.
 *
 * Trust: with a farm key, a job runs only if its signature verifies (checked before anything it
 * names is read); its paths are mapped (`maps`) and then confined to `roots` on real paths, at
 * plan time and again at each write. A refused job fails permanently with the reason.
 */
import { type Job, UnrecoverableError, WaitingError, Worker } from "npm:bullmq@6.7.0";
import type { RunEvent } from "../pipeline/events.ts";
import { RunAbortedError } from "../pipeline/run.ts";
import type { StepStore } from "../pipeline/store.ts";
import type { PluginPolicy } from "../recipe/plugins.ts";
import { messageOf } from "../util/errors.ts";
import { openRedis, QUEUE_NAME, type RedisOptions } from "./connection.ts";
import type { FarmJobData, FarmProgress, FarmResult } from "./jobs.ts";
import { type JobChild, spawnJobChild } from "./job_child.ts";
import type { PathMapping } from "./path_map.ts";
import { admitJob, isPermanent, type RecipeLoader, renderVerified } from "./render_job.ts";

/** Options for {@link startWorker}. */
export type FarmWorkerOptions = FarmWorkerSettings & JobRunner;

/** Where a worker's jobs render: in its own process, or each in a child process. */
export type JobRunner =
  | {
    /** The shared step store (cache entries and checkpoints). */
    readonly store: StepStore;
    readonly loadRecipe: RecipeLoader;
  }
  | {
    /**
     * Each job's render in a child process (`worker --job-child`) that loads its recipe with
     * `plugins` and caches in `cacheDir` (the shared step store's folder).
     */
    readonly jobChild: {
      readonly command: readonly string[];
      readonly cacheDir: string;
      readonly plugins: PluginPolicy;
    };
  };

/** What every worker is told, wherever its jobs render. */
export interface FarmWorkerSettings {
  /** `redis://HOST:PORT[/DB]`. */
  readonly url: string;
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
  /** The farm key jobs must be signed with; undefined runs unsigned jobs (`--insecure-no-key`). */
  readonly key: CryptoKey | undefined;
  /** Folders the recipe, inputs and outputs of every job must lie in (absent: anywhere). */
  readonly roots?: readonly string[];
  /** Rewrites of the submitters' paths to this machine's (`--map`). */
  readonly maps?: readonly PathMapping[];
  /** TLS options of the Redis connection (private CA). */
  readonly redis?: RedisOptions;
}

/** A running worker. */
export interface FarmWorker {
  /** Stops taking jobs, cancels and requeues the running ones, then closes the connection. */
  stop(): Promise<void>;
  /**
   * After {@link stop}: ends the running jobs' child processes at once (SIGKILL), so their jobs go
   * back to waiting, and resolves when the stop has finished.
   */
  kill(): Promise<void>;
}

/** Minimum milliseconds between two progress updates of a job (each is a Redis round trip). */
const PROGRESS_INTERVAL_MS = 250;
/** Minimum milliseconds between two progress lines in the log, per step (first and last always). */
const LOG_INTERVAL_MS = 5000;

/** Starts a worker on the farm's queue. */
export function startWorker(options: FarmWorkerOptions): FarmWorker {
  const log = options.log ?? (() => {});
  const name = options.name ?? `${Deno.hostname()}:${Deno.pid}`;
  const running = new Set<{ cancel(): void; kill(): void }>();
  let stopping = false;
  const connection = openRedis(options.url, true, options.redis);
  const lockDuration = options.lockDuration ?? 30_000;

  const processor = async (job: Job<FarmJobData, FarmResult>, token?: string) => {
    const controller = new AbortController();
    let child: JobChild | undefined;
    const handle = {
      cancel() {
        controller.abort(new Error("worker stopping"));
        child?.cancel();
      },
      kill: () => child?.kill(),
    };
    running.add(handle);
    log({ type: "job-started", job: job.id, attempt: job.attemptsMade + 1, worker: name });
    try {
      const admitted = await admitJob(job, options.key, options.maps ?? [], options.roots);
      const onEvent = progressRelay(job, log);
      let result: FarmResult;
      if ("jobChild" in options) {
        if (controller.signal.aborted) throw new RunAbortedError();
        const { command, ...policy } = options.jobChild;
        const { roots, engine, memory } = options;
        const request = { job: admitted, ...policy, roots, engine, memory };
        child = spawnJobChild(command, request, onEvent);
        result = await child.result;
      } else result = await renderVerified(admitted, options, controller.signal, onEvent);
      log({ type: "job-completed", job: job.id, worker: name, ...summaryOf(result) });
      return result;
    } catch (e) {
      if (stopping && e instanceof RunAbortedError) {
        await job.moveToWait(token);
        log({ type: "job-requeued", job: job.id, worker: name });
        throw new WaitingError();
      }
      const permanent = isPermanent(e);
      log({ type: "job-failed", job: job.id, worker: name, permanent, message: messageOf(e) });
      throw permanent && !(e instanceof UnrecoverableError)
        ? new UnrecoverableError(messageOf(e))
        : e;
    } finally {
      running.delete(handle);
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

  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      stopping = true;
      const closed = worker.close();
      for (const r of running) r.cancel();
      await closed;
      connection.disconnect();
    })();
  return {
    stop,
    kill() {
      for (const r of running) r.kill();
      return stop();
    },
  };
}

/**
 * Relays a job's run events: progress to BullMQ (at most every {@link PROGRESS_INTERVAL_MS}) and
 * to the log (a step's first and last, then every {@link LOG_INTERVAL_MS}), warnings to the log.
 */
function progressRelay(
  job: Job<FarmJobData, FarmResult>,
  log: (entry: Record<string, unknown>) => void,
): (e: RunEvent) => void {
  let lastUpdate = 0;
  const lastLogged = new Map<string, number>();
  return (e) => {
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
}

function summaryOf(result: FarmResult): Record<string, unknown> {
  return {
    ran: result.steps.filter((s) => s.status === "ran").map((s) => s.step),
    outputs: result.outputs,
    skipped: result.skipped,
  };
}
