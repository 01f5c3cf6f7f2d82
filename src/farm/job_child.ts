/**
 * The process one farm job renders in (`worker --job-child`), so that the worker's event loop only
 * relays: whatever a job does (a plugin stage spinning in a synchronous loop included), the worker
 * still handles SIGTERM and can kill the child when the grace period ends. The worker checks the
 * job's signature and confines its recipe and output folder before spawning; the child loads and
 * re-plans the recipe under the same roots and plugin policy, runs it, and writes each event and
 * the outcome as one line on stdout prefixed with {@link MESSAGE_PREFIX}. SIGTERM (or SIGINT), or
 * the end of stdin (the worker died), cancels the run (style-transfer keeps its checkpoint; no
 * partial output is left). Messages are
 * written synchronously: the optimizer keeps this process's event loop busy between iterations.
 */
import { UnrecoverableError } from "npm:bullmq@6.7.0";
import { CacheStore } from "../pipeline/cache.ts";
import type { RunEvent } from "../pipeline/events.ts";
import { RunAbortedError } from "../pipeline/run.ts";
import type { PluginPolicy } from "../recipe/plugins.ts";
import { messageOf } from "../util/errors.ts";
import { lines } from "../util/lines.ts";
import { readMessages, sendMessage } from "../util/child_messages.ts";
import type { FarmResult } from "./jobs.ts";
import { isPermanent, type RecipeLoader, renderVerified, type VerifiedJob } from "./render_job.ts";
import { FARM_KEY_ENV } from "./signing.ts";

/** What the worker hands a job child on stdin. */
export interface JobChildRequest {
  readonly job: VerifiedJob;
  /** The shared cache folder. */
  readonly cacheDir: string;
  readonly plugins: PluginPolicy;
  readonly roots?: readonly string[];
  readonly engine?: string;
  readonly memory?: number;
}

/** One line a job child writes. */
export type JobChildMessage =
  | { readonly type: "event"; readonly event: RunEvent }
  | { readonly type: "done"; readonly result: FarmResult }
  | {
    readonly type: "failed";
    readonly error: string;
    /** Retrying cannot help (recipe, stage, changed-input errors). */
    readonly permanent: boolean;
    readonly cancelled: boolean;
  };

/** Marks a line of a job child's stdout as a {@link JobChildMessage}. */
export const MESSAGE_PREFIX = "\u001estylepipe-job ";

/** Runs the job read from stdin, loading recipes with `loaderFor(policy)`. Returns the exit code. */
export async function runJobChild(
  loaderFor: (plugins: PluginPolicy) => RecipeLoader,
): Promise<number> {
  const input = lines(Deno.stdin.readable);
  const first = await input.next();
  if (first.done) return 1; // the worker ended before sending the job
  const request: JobChildRequest = JSON.parse(first.value);
  const send = (message: JobChildMessage) => sendMessage(MESSAGE_PREFIX, message);
  const controller = new AbortController();
  const cancel = () => controller.abort(new Error("worker stopping"));
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, cancel);
  // The worker keeps stdin open while it waits for this job: its end means the worker is gone.
  (async () => {
    for await (const _ of input);
    controller.abort(new Error("the worker ended"));
  })();
  try {
    const result = await renderVerified(
      request.job,
      {
        ...request,
        loadRecipe: loaderFor(request.plugins),
        store: new CacheStore(request.cacheDir),
      },
      controller.signal,
      (event) => send({ type: "event", event }),
    );
    send({ type: "done", result });
  } catch (e) {
    const cancelled = e instanceof RunAbortedError;
    send({ type: "failed", error: messageOf(e), permanent: isPermanent(e), cancelled });
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, cancel);
  }
  return 0;
}

/** A job running in a child process. */
export interface JobChild {
  /** The job's result; rejects as the job failed ({@link RunAbortedError} when cancelled). */
  readonly result: Promise<FarmResult>;
  /** Asks the child to cancel (SIGTERM). */
  cancel(): void;
  /** Ends the child at once (SIGKILL); the job rejects with {@link RunAbortedError}. */
  kill(): void;
}

/**
 * Spawns `command` (a process calling {@link runJobChild}) for `request`, relaying its events to
 * `onEvent`. The farm key is not passed on: the child never signs or verifies.
 */
export function spawnJobChild(
  command: readonly string[],
  request: JobChildRequest,
  onEvent: (event: RunEvent) => void,
): JobChild {
  const [program, ...args] = command;
  const env = Deno.env.toObject();
  delete env[FARM_KEY_ENV];
  const child = new Deno.Command(program, {
    args,
    clearEnv: true,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let stopped = false;
  const signal = (name: Deno.Signal) => {
    stopped = true;
    try {
      child.kill(name);
    } catch {
      // already ended
    }
  };
  const result = (async (): Promise<FarmResult> => {
    // One line, and stdin left open until the child ends: the child cancels when it closes.
    const writer = child.stdin.getWriter();
    const payload = new TextEncoder().encode(JSON.stringify(request) + "\n");
    await writer.write(payload).catch(() => {}); // ended at once: its status tells why
    let outcome: Exclude<JobChildMessage, { type: "event" }> | undefined;
    for await (const message of readMessages<JobChildMessage>(MESSAGE_PREFIX, child.stdout)) {
      if (message.type === "event") onEvent(message.event);
      else outcome = message;
    }
    const status = await child.status;
    await writer.close().catch(() => {}); // the child may have ended first
    if (outcome?.type === "done") return outcome.result;
    if (outcome?.cancelled || (!outcome && stopped)) throw new RunAbortedError();
    if (outcome) {
      throw outcome.permanent ? new UnrecoverableError(outcome.error) : new Error(outcome.error);
    }
    const how = status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
    throw new Error(`the job's render process ended without a result (${how})`);
  })();
  return { result, cancel: () => signal("SIGTERM"), kill: () => signal("SIGKILL") };
}
