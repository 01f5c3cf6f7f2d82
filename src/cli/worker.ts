/** `worker --queue URL`: render jobs from the farm's queue until SIGTERM / Ctrl-C. */
import { redactedUrl } from "../farm/connection.ts";
import { startWorker } from "../farm/worker.ts";
import { CacheStore, DEFAULT_CACHE_DIR } from "../pipeline/cache.ts";
import { parseCommandArgs } from "./args.ts";
import { parseSize } from "./cache.ts";
import { EXIT, reportError, UsageError } from "./errors.ts";
import { loadJobRecipe, QUEUE_OPTION, queueUrlArg } from "./farm_args.ts";

const HELP = `Usage: deno task worker --queue redis://HOST:PORT[/DB] [options]

Takes render jobs (deno task submit, or schedulers from deno task schedule --queue) and runs them
with the normal runner: same cache, checkpoints and provenance as render. Workers on several
machines share the cache folder and the output folders through a mount at the same path. Logs one
JSON object per line. Failed jobs are retried with backoff (recipe and stage errors are not).
SIGTERM or Ctrl-C: stops taking jobs, cancels the running ones (style-transfer keeps its last
checkpoint) and puts them back in the queue for another worker, then exits 0. A worker killed
outright loses its jobs' locks after --lock-duration; another worker then resumes them.

Options:
  --queue URL           Redis holding the queue (required)
  --concurrency N       jobs at once (default 1)
  --engine NAME         what engine: auto means on this worker (default: the best available here)
  --cache-dir DIR       the shared cache (default ${DEFAULT_CACHE_DIR})
  --memory SIZE         memory budget of this worker's renders, e.g. 4GiB (default: this machine's
                        memory, or its GPU's for a GPU engine); large steps are evaluated tiled
  --lock-duration MS    job lock lifetime and stalled-job check interval (default 30000)
  --debug               stack traces on errors
  -h, --help            this help`;

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
      memory: { type: "string" },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    const url = queueUrlArg("worker", values.queue);
    const log = (entry: Record<string, unknown>) =>
      console.log(JSON.stringify({ time: new Date().toISOString(), ...entry }));
    const worker = startWorker({
      url,
      store: new CacheStore(values["cache-dir"] ?? DEFAULT_CACHE_DIR),
      loadRecipe: loadJobRecipe,
      concurrency: positiveInt("--concurrency", values.concurrency, 1),
      engine: values.engine,
      memory: values.memory === undefined
        ? undefined
        : parseSize(values.memory, "worker: --memory"),
      lockDuration: positiveInt("--lock-duration", values["lock-duration"], 30_000),
      log,
    });
    log({ type: "worker-started", queue: redactedUrl(url), pid: Deno.pid });
    await stopping;
    log({ type: "worker-stopping" });
    await worker.stop();
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
