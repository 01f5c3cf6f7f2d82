/**
 * The process one page-started render runs in, so that the server's event loop only relays: it
 * reads its job (JSON) on stdin, plans and runs the recipe, and writes each event, preview and the
 * outcome as one line on stdout, prefixed with {@link MESSAGE_PREFIX} (other output, such as a
 * library's banner, is not a message). SIGTERM cancels the run (no partial output is left).
 * Messages are written synchronously and previews sent as raw 8-bit samples: the optimizer keeps
 * this process's event loop busy between iterations, so anything asynchronous here (an encoder's
 * callback, an async write) would wait seconds; the server encodes the PNG.
 */
import { Buffer } from "node:buffer";
import { quantize8 } from "../image/codecs.ts";
import { CacheStore } from "../pipeline/cache.ts";
import type { RunEvent } from "../pipeline/events.ts";
import { planRecipe } from "../pipeline/plan.ts";
import { runPlan } from "../pipeline/run.ts";
import type { Recipe } from "../recipe/recipe.ts";
import { messageOf } from "../util/errors.ts";
import { sendMessage } from "../util/child_messages.ts";

/** What the server asks a child to render. */
export interface ChildJob {
  /** Recipe file (inside the recipes folder). */
  readonly recipe: string;
  readonly sets: readonly string[];
  readonly outDir: string;
  /** Cache folder, or null to run uncached. */
  readonly cacheDir: string | null;
  /** Iterations between previews. */
  readonly previewEvery: number;
  /** Folders searched for inputs after the recipe's folder. */
  readonly imageDirs: readonly string[];
  /** An output to re-render from its record and compare (`verify`) instead of a recipe. */
  readonly verify?: string;
}

/** What the child calls, handed in by the CLI (which knows the stages and engines). */
export interface ChildTools {
  /** Loads a recipe (with `--set` values) as the CLI does. */
  load(file: string, sets: readonly string[]): Promise<Recipe>;
  /** Re-renders `output` from its record; returns what `verify` would print. */
  verify(output: string, imageDirs: readonly string[], signal: AbortSignal): Promise<string>;
}

/** One line the child writes. */
export type ChildMessage =
  | { readonly type: "event"; readonly event: RunEvent }
  | {
    readonly type: "preview";
    readonly step: string;
    readonly iteration: number;
    readonly width: number;
    readonly height: number;
    /** RGB, 8 bits a sample, row-major, base64. */
    readonly rgb: string;
    /** When the engine handed the image over (ms since the epoch). */
    readonly producedAt: number;
  }
  | { readonly type: "done"; readonly outputs: readonly string[]; readonly summary?: string }
  | { readonly type: "failed"; readonly error: string; readonly cancelled: boolean };

/** Marks a line of stdout as a {@link ChildMessage}. */
export const MESSAGE_PREFIX = "\u001estylepipe ";

/** Runs the job read from stdin with the CLI's `tools`. Returns the exit code. */
export async function runRenderChild(tools: ChildTools): Promise<number> {
  const job: ChildJob = JSON.parse(await new Response(Deno.stdin.readable).text());
  const send = (message: ChildMessage) => sendMessage(MESSAGE_PREFIX, message);
  const controller = new AbortController();
  const cancel = () => controller.abort(new Error("cancelled from the page"));
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", cancel);
  try {
    if (job.verify !== undefined) {
      const summary = await tools.verify(job.verify, job.imageDirs, controller.signal);
      send({ type: "done", outputs: [], summary });
      return 0;
    }
    const recipe = await tools.load(job.recipe, job.sets);
    const plan = await planRecipe(recipe, { outDir: job.outDir, imageDirs: job.imageDirs });
    const result = await runPlan(plan, {
      cache: job.cacheDir === null ? null : new CacheStore(job.cacheDir),
      signal: controller.signal,
      onEvent: (event) => send({ type: "event", event }),
      preview: {
        every: job.previewEvery,
        onPreview: (step, image, iteration) => {
          const producedAt = Date.now();
          const rgb = Buffer.from(Uint8Array.from(image.data, quantize8)).toString("base64");
          const { width, height } = image;
          send({ type: "preview", step, iteration, width, height, rgb, producedAt });
        },
      },
    });
    send({ type: "done", outputs: result.outputs });
  } catch (e) {
    const error = messageOf(e);
    send({ type: "failed", error, cancelled: controller.signal.aborted });
  }
  return 0;
}
