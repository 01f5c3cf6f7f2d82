/** `queue --queue URL`: what the render farm's queue holds; retry or remove jobs. */
import { basename } from "node:path";
import { openQueue } from "../farm/connection.ts";
import { type JobView, removeJob, retryJob, snapshot } from "../farm/inspect.ts";
import type { FarmProgress } from "../farm/jobs.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError } from "./errors.ts";
import { QUEUE_OPTION, queueUrlArg, redisOptionsArg, unreachable } from "./farm_args.ts";
import { table } from "./progress.ts";
import { progressText } from "./submit.ts";

const HELP = `Usage: deno task queue --queue redis://HOST:PORT[/DB] [options]

Lists the render farm's jobs: active (with progress), waiting, delayed (retries, scheduled ticks),
completed and failed, newest finished first, and the job schedulers.

Options:
  --queue URL      Redis holding the queue (required)
  --retry ID       retry a failed job (repeatable)
  --remove ID      remove a job that is not running (repeatable)
  --limit N        jobs listed per state (default 20)
  --json           one JSON object: counts, jobs, schedulers
  --ca-file FILE   PEM certificate(s) of a private CA for a rediss:// server
  --debug          stack traces on errors
  -h, --help       this help`;

/** Runs the `queue` command; returns the exit code. */
export async function queueCommand(args: string[]): Promise<number> {
  const json = args.includes("--json");
  const debug = args.includes("--debug");
  let farm: ReturnType<typeof openQueue> | undefined;
  try {
    const { values } = parseCommandArgs("queue", args, {
      ...QUEUE_OPTION,
      retry: { type: "string", multiple: true },
      remove: { type: "string", multiple: true },
      limit: { type: "string" },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    const url = queueUrlArg("queue", values.queue);
    farm = openQueue(url, redisOptionsArg("queue", values));
    const queue = farm.queue;
    let code: number = EXIT.ok;
    try {
      for (const id of values.retry ?? []) {
        const ok = await retryJob(queue, id);
        if (!ok) code = EXIT.failure;
        console.error(ok ? `retrying ${id}` : `error: no failed job ${id}`);
      }
      for (const id of values.remove ?? []) {
        const ok = await removeJob(queue, id);
        if (!ok) code = EXIT.failure;
        console.error(ok ? `removed ${id}` : `error: no removable job ${id} (running, or unknown)`);
      }
      const limit = Math.max(1, Number(values.limit ?? 20) || 20);
      const snap = await snapshot(queue, limit);
      if (json) console.log(JSON.stringify(snap));
      else {
        console.log(Object.entries(snap.counts).map(([s, n]) => `${s} ${n}`).join(" | "));
        if (snap.jobs.length) console.log(table(HEADER, snap.jobs.map(row)));
        for (const s of snap.schedulers) {
          console.log(`scheduler ${s.id}  "${s.pattern ?? ""}"  next ${s.next ?? "-"}`);
        }
      }
    } catch (e) {
      throw unreachable(url, e);
    }
    return code;
  } catch (e) {
    return reportError(e, { debug, json });
  } finally {
    await farm?.close();
  }
}

const HEADER = ["state", "job", "recipe", "output", "worker", "details"];

function row(j: JobView): string[] {
  const p = j.progress as FarmProgress | number | undefined;
  const details = j.state === "active" && typeof p === "object" && p !== null
    ? progressText(p)
    : j.state === "failed"
    ? `${j.failedReason ?? ""} (${j.attempts} attempts)`
    : j.state === "completed"
    ? `${j.finishedOn ?? ""} ${(j.outputs ?? []).join(", ")}`
    : "";
  return [
    j.state,
    j.id,
    basename(j.recipe),
    j.output ?? (j.scheduled ? "(scheduled)" : "(all)"),
    j.worker ?? "",
    details,
  ];
}
