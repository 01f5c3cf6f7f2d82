/**
 * Recipes' `schedule:` as BullMQ job schedulers: Redis holds the schedule and makes one job per
 * tick, whatever the number of workers, so each tick renders once. Upserting is idempotent (same id
 * → updated in place).
 */
import type { Queue } from "npm:bullmq@6.7.0";
import { sha256Hex } from "../util/hash.ts";
import type { FarmJobData, FarmResult, ScheduledJobData } from "./jobs.ts";
import { signJob } from "./signing.ts";
import { JOB_OPTIONS } from "./submit.ts";

/** The scheduler id of a recipe file: its name and a hash of its absolute path. */
export function schedulerId(recipeName: string, recipeFile: string): string {
  return `${recipeName.replace(/[^\w.-]/g, "_")}-${sha256Hex(recipeFile).slice(0, 12)}`;
}

/**
 * Creates or updates the job scheduler of a recipe, its job template signed with the farm `key`
 * (unsigned without one); returns its id. The cron expression is read in
 * this machine's time zone (as the local `schedule` reads it), stored with the scheduler so workers
 * in other zones agree.
 */
export async function upsertSchedule(
  queue: Queue<FarmJobData, FarmResult>,
  id: string,
  cron: string,
  data: Omit<ScheduledJobData, "kind" | "signature">,
  key: CryptoKey | undefined,
): Promise<string> {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const job: ScheduledJobData = { kind: "scheduled", ...data };
  await queue.upsertJobScheduler(id, { pattern: cron, tz }, {
    name: "scheduled",
    data: key ? await signJob(job, key) : job,
    opts: JOB_OPTIONS,
  });
  return id;
}

/** Removes a job scheduler; false when there was none with that id. */
export async function removeSchedule(queue: Queue, id: string): Promise<boolean> {
  return await queue.removeJobScheduler(id);
}
