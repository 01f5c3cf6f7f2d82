/** Worker subprocesses and polling for the render-farm tests. */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { QUEUE_NAME } from "../../src/farm/connection.ts";
import type { FarmJobData, FarmResult } from "../../src/farm/jobs.ts";
import { repoRoot, testImagesDir, testWeightsDirs } from "../stages/_context.ts";

/** The farm key of the tests (never a real farm's). */
export const TEST_FARM_KEY = "test-farm-key-0123456789abcdef0123456789abcdef";

/** Environment of every worker and submitter: the test images, weights and farm key. */
export const env = {
  STYLEPIPE_IMAGES: testImagesDir(),
  STYLEPIPE_WEIGHTS: testWeightsDirs()[0],
  STYLEPIPE_FARM_KEY: TEST_FARM_KEY,
};

/** A `deno task worker` subprocess and the JSON lines it logged so far. */
export class WorkerProcess {
  readonly entries: Record<string, unknown>[] = [];
  readonly #proc: Deno.ChildProcess;
  readonly #drained: Promise<void>;

  /** Starts `worker --queue url --cache-dir cacheDir …extra` (environment: {@link env} and `more`). */
  constructor(
    url: string,
    cacheDir: string,
    extra: string[] = [],
    more: Record<string, string> = {},
  ) {
    const proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "mod.ts", "worker", "--queue", url, "--cache-dir", cacheDir, ...extra],
      cwd: repoRoot,
      env: { ...env, ...more },
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#proc = proc;
    this.#drained = (async () => {
      let buffered = "";
      for await (const chunk of proc.stdout.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        let nl;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          this.entries.push(JSON.parse(buffered.slice(0, nl)));
          buffered = buffered.slice(nl + 1);
        }
      }
    })();
  }

  /** The worker's process id. */
  get pid(): number {
    return this.#proc.pid;
  }

  /** The process's exit status, once it exits. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#proc.status;
  }

  /** Logged entries of one type. */
  of(type: string): Record<string, unknown>[] {
    return this.entries.filter((e) => e.type === type);
  }

  /** Sends a signal and waits for the process to end (and its output to be read). */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.#proc.kill(signal);
    } catch {
      // already gone
    }
    const status = await this.#proc.status;
    await this.#drained;
    return status;
  }
}

/** Polls `condition` every 50 ms until true; throws after `ms` with `what`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A queue handle for the test itself. */
export function testQueue(
  url: string,
): { queue: Queue<FarmJobData, FarmResult>; close(): Promise<void> } {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  connection.on("error", () => {});
  const queue = new Queue<FarmJobData, FarmResult>(QUEUE_NAME, { connection });
  return {
    queue,
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}

/** How many times each job id was logged as completed, over all workers. */
export function completions(workers: readonly WorkerProcess[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of workers) {
    for (const e of w.of("job-completed")) {
      counts.set(e.job as string, (counts.get(e.job as string) ?? 0) + 1);
    }
  }
  return counts;
}
