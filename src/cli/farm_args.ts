/**
 * What the render-farm commands share: `--queue`, the farm key (`--key-file`, `--insecure-no-key`),
 * `--ca-file`, and the job's view of a recipe.
 */
import { resolve } from "node:path";
import {
  checkQueueUrl,
  QueueUnreachableError,
  QueueUrlError,
  redactedUrl,
  type RedisOptions,
} from "../farm/connection.ts";
import type { RecipeRef } from "../farm/jobs.ts";
import { FARM_KEY_ENV, readFarmKey } from "../farm/signing.ts";
import type { RecipeLoader } from "../farm/render_job.ts";
import { defaultImageDirs } from "../pipeline/locations.ts";
import type { PluginPolicy } from "../recipe/plugins.ts";
import { UsageError } from "./errors.ts";
import { loadCliRecipe } from "./load.ts";
import { messageOf } from "../util/errors.ts";

/** The `--queue` option and the options of trust every farm command shares. */
export const QUEUE_OPTION = {
  queue: { type: "string" },
  "key-file": { type: "string" },
  "insecure-no-key": { type: "boolean" },
  "ca-file": { type: "string" },
} as const;

/** Help lines of {@link QUEUE_OPTION}'s trust options. */
export const TRUST_HELP =
  `  --key-file FILE    the farm key (default: $${FARM_KEY_ENV}); jobs are signed with it
  --insecure-no-key  run without a farm key: anyone who can write to Redis can run jobs
  --ca-file FILE     PEM certificate(s) of a private CA for a rediss:// server`;

/**
 * The farm key from `--key-file` or `$STYLEPIPE_FARM_KEY`; without one, a {@link UsageError}
 * unless `--insecure-no-key` (then undefined, with a warning on stderr).
 */
export async function farmKeyArg(
  command: string,
  values: { "key-file"?: string; "insecure-no-key"?: boolean },
): Promise<CryptoKey | undefined> {
  const key = await readFarmKey(values["key-file"]).catch((e) => {
    throw new UsageError(`${command}: ${messageOf(e)}`);
  });
  if (key) return key;
  if (!values["insecure-no-key"]) {
    throw new UsageError(
      `${command}: no farm key. Set $${FARM_KEY_ENV} or --key-file to the same secret on every ` +
        `submitter and worker (e.g. openssl rand -hex 32 > farm.key), or pass --insecure-no-key`,
    );
  }
  console.error(
    `warning: ${command} without a farm key (--insecure-no-key): jobs are not signed, and ` +
      `anyone who can write to this Redis can make workers render and write files`,
  );
  return undefined;
}

/** The Redis TLS options of `--ca-file`. */
export function redisOptionsArg(command: string, values: { "ca-file"?: string }): RedisOptions {
  const file = values["ca-file"];
  if (file === undefined) return {};
  try {
    const ca = Deno.readTextFileSync(file);
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) throw new Error("no PEM certificate in it");
    return { ca };
  } catch (e) {
    throw new UsageError(`${command}: --ca-file ${file}: ${messageOf(e)}`);
  }
}

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

/** Loads a job's recipe as the CLI loads any recipe (plugins imported). */
export const loadJobRecipe: RecipeLoader = jobRecipeLoader("load");

/** A loader of jobs' recipes with the given plugin policy (a worker imports them only when allowed). */
export function jobRecipeLoader(plugins: PluginPolicy): RecipeLoader {
  return (ref) => loadCliRecipe(ref.recipe, { sets: ref.sets, engine: ref.engine, plugins });
}

/** A connection failure as a readable error (other errors unchanged). */
export function unreachable(url: string, e: unknown): unknown {
  const message = messageOf(e);
  return /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|max retries|Connection is closed|connect/i.test(message)
    ? new QueueUnreachableError(
      `cannot reach Redis at ${redactedUrl(url)} (${message}); is redis-server running there?`,
    )
    : e;
}
