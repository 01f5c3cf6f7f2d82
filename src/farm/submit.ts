/**
 * Submitting renders: plan a recipe here (validation errors are reported before anything is
 * queued), then add one job per output with the output's cache key as the job id. Submitting a
 * render that is already waiting, delayed or running adds nothing; a failed one is retried; a
 * finished one is queued again (it completes at once while its outputs are in the shared cache).
 */
import type { Queue } from "npm:bullmq@6.7.0";
import { planRecipe } from "../pipeline/plan.ts";
import type { Recipe } from "../recipe/recipe.ts";
import { type FarmJobData, type FarmResult, jobsOf, type RecipeRef } from "./jobs.ts";
import { signJob } from "./signing.ts";

/**
 * Options of every farm job: 3 attempts, retried after 10 s then 20 s; finished jobs are kept a
 * week (at most 100 000 completed: about 200 MB of Redis), so duplicates are recognized meanwhile.
 */
export const JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: "exponential", delay: 10_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

/** One submitted job. */
export interface SubmittedJob {
  readonly id: string;
  /** The output step, if the job makes one output. */
  readonly output?: string;
  /** Its state right after submission (`waiting`, or `completed` when it was already done, …). */
  readonly state: string;
  /** Whether the job already existed (same content key). */
  readonly existed: boolean;
}

/**
 * Plans `recipe` and enqueues its jobs, signed with the farm `key` (unsigned without one, for
 * workers started with `--insecure-no-key`); returns them in plan order.
 */
export async function submitRecipe(
  queue: Queue<FarmJobData, FarmResult>,
  recipe: Recipe,
  ref: RecipeRef,
  key?: CryptoKey,
): Promise<SubmittedJob[]> {
  // `auto` stays unresolved in job ids, so every machine computes the same ids.
  // Job ids are planned without a memory budget, as the worker checks them (worker.ts).
  const plan = await planRecipe(recipe, {
    ...ref,
    resolveEngine: (e) => Promise.resolve(e),
    memory: Infinity,
  });
  const out: SubmittedJob[] = [];
  for (const job of jobsOf(plan, ref)) {
    const id = job.id;
    const data = key ? await signJob(job.data, key) : job.data;
    const before = await queue.getJobState(id);
    const existed = before !== "unknown";
    if (before === "failed") await (await queue.getJob(id))?.retry("failed");
    else if (before === "completed") {
      // Again, from the shared cache: instant if the output is still there, a render if not.
      await queue.remove(id);
      await queue.add("render", data, { ...JOB_OPTIONS, jobId: id });
    } else if (!existed) await queue.add("render", data, { ...JOB_OPTIONS, jobId: id });
    out.push({ id, output: data.output, state: await queue.getJobState(id), existed });
  }
  return out;
}

/** A job's state and progress while waiting for it. */
export interface JobStatus {
  readonly id: string;
  readonly state: string;
  readonly progress: unknown;
  readonly result?: FarmResult;
  readonly failedReason?: string;
}

/**
 * Polls the jobs until each is completed or failed, calling `onChange` whenever a job's state or
 * progress changes; returns their final statuses. Stops early (returning the last statuses) when
 * `signal` aborts.
 */
export async function waitForJobs(
  queue: Queue<FarmJobData, FarmResult>,
  ids: readonly string[],
  onChange: (status: JobStatus) => void,
  signal?: AbortSignal,
  pollMs = 500,
): Promise<JobStatus[]> {
  const last = new Map<string, string>();
  while (true) {
    const statuses = await Promise.all(ids.map(async (id): Promise<JobStatus> => {
      const job = await queue.getJob(id);
      if (!job) return { id, state: "unknown", progress: undefined };
      return {
        id,
        state: await job.getState(),
        progress: job.progress,
        result: job.returnvalue ?? undefined,
        failedReason: job.failedReason || undefined,
      };
    }));
    for (const s of statuses) {
      const seen = JSON.stringify([s.state, s.progress]);
      if (last.get(s.id) !== seen) onChange(s);
      last.set(s.id, seen);
    }
    const done = statuses.every((s) => ["completed", "failed", "unknown"].includes(s.state));
    if (done || signal?.aborted) return statuses;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
