/** `worker --queue URL`: render jobs from the farm's queue until SIGTERM / Ctrl-C. */
import { resolve } from "node:path";
import { redactedUrl } from "../farm/connection.ts";
import { parsePathMaps, PathMapError } from "../farm/path_map.ts";
import { runJobChild } from "../farm/job_child.ts";
import { startWorker } from "../farm/worker.ts";
import { DEFAULT_CACHE_DIR } from "../pipeline/cache.ts";
import { confineToRoots } from "../pipeline/paths.ts";
import { StageError } from "../stages/stage.ts";
import { parseCommandArgs } from "./args.ts";
import { memoryOption } from "./memory_option.ts";
import { EXIT, reportError, UsageError } from "./errors.ts";
import {
  farmKeyArg,
  jobRecipeLoader,
  QUEUE_OPTION,
  queueUrlArg,
  redisOptionsArg,
  TRUST_HELP,
} from "./farm_args.ts";
import { selfCommand } from "./self_command.ts";

const HELP = `Usage: deno task worker --queue redis://HOST:PORT[/DB] [options]

Takes render jobs (deno task submit, or schedulers from deno task schedule --queue) and runs them
with the normal runner: same cache, checkpoints and provenance as render. Workers on several
machines share the cache folder and the output folders through a mount (--map when it is mounted
at another path than on the submitters). Logs one JSON object per line. Only jobs signed with the
farm key run; a job whose recipe, inputs or outputs lie outside the --root folders is refused. Failed jobs are retried with backoff (recipe and stage errors are not).
Each job renders in its own child process (the worker checks its signature and paths first).
SIGTERM or Ctrl-C: stops taking jobs, cancels the running ones (style-transfer keeps its last
checkpoint) and puts them back in the queue for another worker, then exits 0; if that takes longer
than --grace-period (a job stuck in its own code), it kills the jobs' processes, puts the jobs back
and exits 1. A worker killed outright loses its jobs' locks after --lock-duration; another worker
then resumes them.

Options:
  --queue URL           Redis holding the queue (required)
  --concurrency N       jobs at once (default 1)
  --engine NAME         what engine: auto means on this worker (default: the best available here)
  --cache-dir DIR       the shared cache (default ${DEFAULT_CACHE_DIR})
  --memory SIZE         memory budget of this worker's renders, e.g. 4GiB (default: this machine's
                        memory, or its GPU's for a GPU engine); large steps are evaluated tiled
  --lock-duration MS    job lock lifetime and stalled-job check interval (default 30000)
  --root DIR            jobs may read and write only below DIR (repeatable; the cache too)
  --map FROM=TO         a submitter's path FROM is TO on this machine (repeatable)
  --allow-plugins       load the plugins recipes name (code that runs with this worker's rights)
  --grace-period S      seconds a stop may take before the jobs' processes are killed (default 20)
${TRUST_HELP}
  --job-child           (internal) be the process one job renders in
  --debug               stack traces on errors
  -h, --help            this help`;

/** Milliseconds a worker waits, after killing its jobs' processes, for their jobs to be requeued. */
const KILL_WAIT_MS = 2000;

/** Runs the `worker` command; returns the exit code when stopped. */
export async function workerCommand(args: string[]): Promise<number> {
  const debug = args.includes("--debug");
  let stopped!: () => void;
  const stopping = new Promise<void>((r) => stopped = r);
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, stopped);
  try {
    const { values } = parseCommandArgs("worker", args, {
      ...QUEUE_OPTION,
      concurrency: { type: "string" },
      engine: { type: "string" },
      "cache-dir": { type: "string" },
      "lock-duration": { type: "string" },
      root: { type: "string", multiple: true },
      map: { type: "string", multiple: true },
      "allow-plugins": { type: "boolean" },
      "grace-period": { type: "string" },
      memory: { type: "string" },
      "job-child": { type: "boolean" },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    if (values["job-child"]) return await runJobChild(jobRecipeLoader);
    const url = queueUrlArg("worker", values.queue);
    const key = await farmKeyArg("worker", values);
    const cacheDir = values["cache-dir"] ?? DEFAULT_CACHE_DIR;
    const roots = values.root?.map((r) => resolve(r));
    try {
      confineToRoots(cacheDir, roots, "--cache-dir");
    } catch (e) {
      if (e instanceof StageError) throw new UsageError(`worker: ${e.message}`);
      throw e;
    }
    let maps;
    try {
      maps = parsePathMaps(values.map ?? []);
    } catch (e) {
      if (e instanceof PathMapError) throw new UsageError(`worker: ${e.message}`);
      throw e;
    }
    const graceMs = positiveInt("--grace-period", values["grace-period"], 20) * 1000;
    const log = (entry: Record<string, unknown>) =>
      console.log(JSON.stringify({ time: new Date().toISOString(), ...entry }));
    const plugins = values["allow-plugins"] ? "load" : "refuse";
    const worker = startWorker({
      url,
      jobChild: { command: selfCommand("worker", "--job-child"), cacheDir, plugins },
      concurrency: positiveInt("--concurrency", values.concurrency, 1),
      engine: values.engine,
      memory: memoryOption(values.memory, "worker"),
      lockDuration: positiveInt("--lock-duration", values["lock-duration"], 30_000),
      log,
      key,
      roots,
      maps,
      redis: redisOptionsArg("worker", values),
    });
    log({ type: "worker-started", queue: redactedUrl(url), pid: Deno.pid, signed: !!key, roots });
    await stopping;
    log({ type: "worker-stopping" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), graceMs));
    const how = await Promise.race([worker.stop().then(() => "stopped" as const), late]);
    clearTimeout(timer);
    if (how === "late") {
      // The killed jobs go back to waiting; were Redis unreachable, their locks lapse instead.
      log({ type: "worker-stop-timeout", graceSeconds: graceMs / 1000 });
      const killed = new Promise((r) => timer = setTimeout(r, KILL_WAIT_MS));
      await Promise.race([worker.kill(), killed]);
      clearTimeout(timer);
      return EXIT.failure;
    }
    log({ type: "worker-stopped" });
    return EXIT.ok;
  } catch (e) {
    return reportError(e, { debug, json: true });
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, stopped);
  }
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`worker: ${name} must be a positive whole number, got "${text}"`);
  }
  return n;
}
