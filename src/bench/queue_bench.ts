/**
 * Load test of the farm's queue alone: N no-op jobs through W worker processes (BullMQ workers whose
 * processor returns at once), so the figure is what one Redis and the BullMQ protocol sustain, not
 * rendering. Bounded in time: after `--seconds` the workers are stopped and the partial count is
 * reported. Prints one JSON object: jobs, workers, concurrency, seconds, jobs/s (adding; processing
 * overall and steady once every worker is up), Redis memory per kept completed job.
 *
 *   deno run -A src/bench/queue_bench.ts --queue redis://127.0.0.1:6399 [--jobs 10000] [--workers 8]
 *     [--concurrency 1] [--seconds 120]
 */
import { Queue, Worker } from "npm:bullmq@6.7.0";
import { parseCommandArgs } from "../cli/args.ts";
import { openRedis } from "../farm/connection.ts";
import { messageOf } from "../util/errors.ts";

const USAGE =
  "Usage: deno task dev farm-bench --queue redis://HOST:PORT [--jobs 10000] [--workers 8] " +
  "[--concurrency 1] [--seconds 120]";

/** A queue of its own, so the bench never touches real render jobs. */
const BENCH_QUEUE = "stylepipe-queue-bench";

async function child(url: string, concurrency: number): Promise<void> {
  const connection = openRedis(url, true);
  const worker = new Worker(BENCH_QUEUE, () => Promise.resolve(null), { connection, concurrency });
  worker.on("error", () => {});
  await new Promise<void>((r) => Deno.addSignalListener("SIGTERM", r));
  await worker.close();
  connection.disconnect();
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseCommandArgs("farm-bench", Deno.args, {
      queue: { type: "string" },
      jobs: { type: "string", default: "10000" },
      workers: { type: "string", default: "8" },
      concurrency: { type: "string", default: "1" },
      seconds: { type: "string", default: "120" },
      child: { type: "boolean" },
    }));
    if (!values.queue) throw new Error("farm-bench: --queue redis://HOST:PORT is required");
  } catch (e) {
    console.error(`error: ${messageOf(e)}\n${USAGE}`);
    Deno.exit(2);
  }
  if (values.help) return console.log(USAGE);
  const concurrency = Number(values.concurrency);
  if (values.child) return await child(values.queue, concurrency);
  const jobs = Number(values.jobs);
  const workers = Number(values.workers);
  const connection = openRedis(values.queue, true);
  const queue = new Queue(BENCH_QUEUE, { connection });
  await queue.obliterate({ force: true });
  const memoryBefore = await usedMemory(connection);

  const t0 = performance.now();
  for (let i = 0; i < jobs; i += 1000) {
    const n = Math.min(1000, jobs - i);
    await queue.addBulk(Array.from({ length: n }, (_, k) => ({
      name: "noop",
      data: { i: i + k },
      opts: { jobId: `noop-${i + k}` },
    })));
  }
  const addSeconds = (performance.now() - t0) / 1000;

  const procs = Array.from({ length: workers }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", import.meta.filename!, "--child", "--queue", values.queue!]
        .concat(["--concurrency", String(concurrency)]),
      stdout: "inherit",
      stderr: "inherit",
    }).spawn());
  const t1 = performance.now();
  const deadline = t1 + Number(values.seconds) * 1000;
  let completed = 0;
  let first: { t: number; completed: number } | undefined; // once every worker has started
  while (performance.now() < deadline) {
    completed = (await queue.getJobCounts("completed")).completed;
    if (!first && completed > 0) first = { t: performance.now() + 1000, completed: Infinity };
    if (first && first.completed === Infinity && performance.now() >= first.t) {
      first = { t: performance.now(), completed };
    }
    if (completed >= jobs) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const t2 = performance.now();
  const processSeconds = (t2 - t1) / 1000; // includes the workers' start
  const steady = first && first.completed !== Infinity && t2 > first.t
    ? Math.round((completed - first.completed) / ((t2 - first.t) / 1000))
    : undefined;
  const memoryAfter = await usedMemory(connection);
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.status));
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  console.log(JSON.stringify({
    jobs,
    completed,
    workers,
    concurrency,
    addSeconds: round(addSeconds),
    addPerSecond: Math.round(jobs / addSeconds),
    processSeconds: round(processSeconds),
    processedPerSecond: Math.round(completed / processSeconds),
    // from 1 s after the first completion (every worker up) to the end
    steadyPerSecond: steady,
    redisBytesPerCompletedJob: Math.round((memoryAfter - memoryBefore) / Math.max(1, completed)),
    timedOut: completed < jobs,
  }));
}

async function usedMemory(redis: ReturnType<typeof openRedis>): Promise<number> {
  const info = await redis.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (import.meta.main) await main();
