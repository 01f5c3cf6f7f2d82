/** What the render-farm commands share: the `--queue` option and the job's view of a recipe. */
import { resolve } from "node:path";
import {
  checkQueueUrl,
  QueueUnreachableError,
  QueueUrlError,
  redactedUrl,
} from "../farm/connection.ts";
import type { RecipeRef } from "../farm/jobs.ts";
import type { RecipeLoader } from "../farm/worker.ts";
import { defaultImageDirs } from "../pipeline/locations.ts";
import { UsageError } from "./errors.ts";
import { loadCliRecipe } from "./load.ts";
import { messageOf } from "../util/errors.ts";

/** The `--queue` option. */
export const QUEUE_OPTION = { queue: { type: "string" } } as const;

/** The `--queue` URL, required and checked; a {@link UsageError} otherwise. */
export function queueUrlArg(command: string, url: string | undefined): string {
  if (url === undefined) {
    throw new UsageError(`${command}: --queue redis://HOST:PORT[/DB] is required (see --help)`);
  }
  try {
    return checkQueueUrl(url);
  } catch (e) {
    if (e instanceof QueueUrlError) throw new UsageError(`${command}: ${e.message}`);
    throw e;
  }
}

/** A recipe as a job carries it: absolute paths, so any worker mounting them finds the same files. */
export function recipeRefOf(
  file: string,
  options: { sets?: readonly string[]; engine?: string; outDir?: string },
): RecipeRef {
  return {
    recipe: resolve(file),
    sets: options.sets ?? [],
    engine: options.engine,
    imageDirs: defaultImageDirs().map((d) => resolve(d)),
    outDir: resolve(options.outDir ?? "out"),
  };
}

/** Loads a job's recipe as the CLI loads any recipe. */
export const loadJobRecipe: RecipeLoader = (ref) =>
  loadCliRecipe(ref.recipe, { sets: ref.sets, engine: ref.engine });

/** A connection failure as a readable error (other errors unchanged). */
export function unreachable(url: string, e: unknown): unknown {
  const message = messageOf(e);
  return /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|max retries|Connection is closed|connect/i.test(message)
    ? new QueueUnreachableError(
      `cannot reach Redis at ${redactedUrl(url)} (${message}); is redis-server running there?`,
    )
    : e;
}
