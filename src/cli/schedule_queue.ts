/**
 * `schedule --queue URL <recipe>…`: registers, updates (same recipe file → same scheduler) or, with
 * `--remove`, removes the recipes' job schedulers in the render farm's queue, then exits.
 */
import { join } from "node:path";
import { openQueue, type RedisOptions } from "../farm/connection.ts";
import { removeSchedule, schedulerId, upsertSchedule } from "../farm/schedulers.ts";
import { confineOutput } from "../pipeline/paths.ts";
import type { Recipe } from "../recipe/recipe.ts";
import { EXIT, UsageError } from "./errors.ts";
import { recipeRefOf, unreachable } from "./farm_args.ts";

/** Options of {@link queueSchedules}. */
export interface QueueScheduleOptions {
  readonly url: string;
  readonly sets?: readonly string[];
  readonly engine?: string;
  readonly outDir?: string;
  readonly remove: boolean;
  /** The farm key the schedulers' jobs are signed with (undefined: `--insecure-no-key`). */
  readonly key: CryptoKey | undefined;
  /** TLS options of the Redis connection. */
  readonly redis?: RedisOptions;
  /** Loads a recipe, passing its `schedule:` to `onCron`. */
  load(file: string, onCron: (cron: string) => void): Promise<Recipe>;
}

/** Upserts (or removes) one scheduler per recipe; logs one JSON line each; returns the exit code. */
export async function queueSchedules(
  files: readonly string[],
  options: QueueScheduleOptions,
): Promise<number> {
  if (files.length === 0) {
    throw new UsageError("schedule: expected one or more recipe files (see --help)");
  }
  const entries: { file: string; recipe: Recipe; cron: string }[] = [];
  for (const file of files) {
    let cron: string | undefined;
    const recipe = await options.load(file, (c) => cron = c);
    if (!cron) throw new UsageError(`${file}: no "schedule:" cron expression in the recipe`);
    // As the local `schedule`: OUT/NAME checked on real paths (a symlinked out/NAME is refused).
    confineOutput(join(recipe.name, "tick"), {
      recipeDir: recipe.dir,
      imageDirs: [],
      outDir: options.outDir ?? "out",
      allowOutsideOutput: false,
    }, recipe.files);
    entries.push({ file, recipe, cron });
  }
  const farm = openQueue(options.url, options.redis);
  try {
    for (const { file, recipe, cron } of entries) {
      const ref = recipeRefOf(file, options);
      const id = schedulerId(recipe.name, ref.recipe);
      if (options.remove) {
        const removed = await removeSchedule(farm.queue, id);
        console.log(JSON.stringify({ type: "scheduler-removed", recipe: file, id, removed }));
      } else {
        await upsertSchedule(farm.queue, id, cron, ref, options.key);
        console.log(JSON.stringify({ type: "scheduler-upserted", recipe: file, id, cron }));
      }
    }
  } catch (e) {
    throw unreachable(options.url, e);
  } finally {
    await farm.close();
  }
  return EXIT.ok;
}
