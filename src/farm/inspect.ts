/** Looking into the farm's queue: job counts, jobs by state with progress, retry and remove. */
import type { Job, Queue } from "npm:bullmq@6.7.0";
import type { FarmJobData, FarmResult } from "./jobs.ts";

/** The states `queue` lists, in this order. */
export const LISTED_STATES = ["active", "waiting", "delayed", "completed", "failed"] as const;

/** One job as the `queue` command shows it. */
export interface JobView {
  readonly id: string;
  readonly state: string;
  readonly recipe: string;
  readonly output?: string;
  readonly scheduled: boolean;
  readonly progress: unknown;
  readonly attempts: number;
  /** Worker that took it last (`host:pid`). */
  readonly worker?: string;
  readonly finishedOn?: string;
  readonly outputs?: readonly string[];
  readonly failedReason?: string;
}

/** What the queue holds. */
export interface QueueSnapshot {
  readonly counts: Readonly<Record<string, number>>;
  readonly jobs: readonly JobView[];
  readonly schedulers: readonly {
    readonly id: string;
    readonly pattern?: string;
    readonly next?: string;
  }[];
}

/** Counts per state and up to `limit` jobs of each listed state (newest finished first). */
export async function snapshot(
  queue: Queue<FarmJobData, FarmResult>,
  limit = 50,
): Promise<QueueSnapshot> {
  const counts = await queue.getJobCounts(...LISTED_STATES);
  const jobs: JobView[] = [];
  for (const state of LISTED_STATES) {
    const finished = state === "completed" || state === "failed";
    for (const job of await queue.getJobs([state], 0, limit - 1, !finished)) {
      if (job) jobs.push(viewOf(job as Job<FarmJobData, FarmResult>, state));
    }
  }
  const schedulers = (await queue.getJobSchedulers()).map((s) => ({
    id: s.key,
    pattern: s.pattern ?? undefined,
    next: s.next ? new Date(s.next).toISOString() : undefined,
  }));
  return { counts, jobs, schedulers };
}

function viewOf(job: Job<FarmJobData, FarmResult>, state: string): JobView {
  return {
    id: job.id!,
    state,
    recipe: job.data.recipe,
    output: job.data.kind === "render" ? job.data.output : undefined,
    scheduled: job.data.kind === "scheduled",
    progress: job.progress,
    attempts: job.attemptsMade,
    worker: job.processedBy,
    finishedOn: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined,
    outputs: job.returnvalue?.outputs,
    failedReason: job.failedReason || undefined,
  };
}

/** Retries a failed job; false when there is no failed job with that id. */
export async function retryJob(queue: Queue, id: string): Promise<boolean> {
  const job = await queue.getJob(id);
  if (!job || (await job.getState()) !== "failed") return false;
  await job.retry("failed");
  return true;
}

/** Removes a job that is not running; false when there is none with that id. */
export async function removeJob(queue: Queue, id: string): Promise<boolean> {
  return (await queue.remove(id)) === 1;
}
