/**
 * `deno task schedule <recipe>…`: a long-running process that renders each recipe on its
 * `schedule:` (cron). Each run writes under `<out-dir>/<recipe name>/<UTC timestamp>/`; a run whose
 * inputs did not change (every step that does not write files is in the cache) is skipped. Logs one
 * JSON object per line. SIGTERM / SIGINT: the step in progress finishes (or, for style-transfer,
 * writes a checkpoint the next start resumes from), then the process exits 0.
 */
import { join } from "node:path";
import { confineOutput } from "../pipeline/paths.ts";
import { engineNames } from "../neural/engines/providers.ts";
import { CacheStore, DEFAULT_CACHE_DIR } from "../pipeline/cache.ts";
import type { RunEvent } from "../pipeline/events.ts";
import { planRecipe } from "../pipeline/plan.ts";
import { RunAbortedError, runPlan } from "../pipeline/run.ts";
import {
  nothingToRender,
  runSchedule,
  scheduleExtension,
  timestampName,
} from "../pipeline/schedule.ts";
import { loadRecipe } from "../recipe/load.ts";
import { matrixExtension } from "../recipe/matrix.ts";
import { scalesExtension } from "../recipe/scales.ts";
import type { Recipe } from "../recipe/recipe.ts";
import { builtinStages } from "../stages/builtin.ts";
import { parseCommandArgs, RUN_OPTIONS } from "./args.ts";
import { EXIT, messagesOf, reportError, UsageError } from "./errors.ts";
import { farmKeyArg, QUEUE_OPTION, queueUrlArg, redisOptionsArg, TRUST_HELP } from "./farm_args.ts";

const HELP = `Usage: deno task schedule <recipe.yaml>… [options]

Renders each recipe whenever its "schedule:" cron expression is due (croner syntax: five fields,
or six with seconds first, e.g. schedule: "0 3 * * *" for 03:00 every day). Each run writes under
<out-dir>/<recipe name>/<UTC timestamp>/. A run whose inputs did not change (the cache holds every
step) is skipped. Logs one JSON object per line. SIGTERM or Ctrl-C stops after the current step
(style-transfer checkpoints; the next start resumes).

Options:
  --set name=value   override a variable (repeatable)
  --engine NAME      engine (${engineNames.join(", ")})
  --out-dir DIR      base output directory (default out/)
  --cache-dir DIR    cache directory (default ${DEFAULT_CACHE_DIR})
  --queue URL        instead of rendering here, register each recipe's schedule as a job
                     scheduler in the render farm's queue (deno task worker renders each tick
                     once, whatever the number of workers), then exit
  --remove           with --queue: remove the recipes' job schedulers
${TRUST_HELP}
  --debug            stack traces in error lines
  -h, --help         this help`;

/** Options of {@link runScheduledRecipes}. */
export interface ScheduleCommandOptions {
  readonly sets?: readonly string[];
  readonly engine?: string;
  readonly outDir: string;
  readonly cacheDir: string;
  /** Ends the schedule (the render in progress stops after its step). */
  readonly signal: AbortSignal;
  /** Receives each log line's object. */
  readonly log: (entry: Record<string, unknown>) => void;
  readonly debug?: boolean;
}

/** Runs the `schedule` command; returns the exit code when stopped. */
export async function scheduleCommand(args: string[]): Promise<number> {
  const debug = args.includes("--debug");
  const stop = new AbortController();
  const onSignal = () => stop.abort(new Error("stopped by signal"));
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    const { values, positionals } = parseCommandArgs("schedule", args, {
      ...RUN_OPTIONS,
      ...QUEUE_OPTION,
      remove: { type: "boolean" },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    if (positionals.length === 0) {
      throw new UsageError("schedule: expected one or more recipe files (see --help)");
    }
    if (values.queue !== undefined || values.remove) {
      const { queueSchedules } = await import("./schedule_queue.ts");
      return await queueSchedules(positionals, {
        url: queueUrlArg("schedule", values.queue),
        key: values.remove ? undefined : await farmKeyArg("schedule", values),
        redis: redisOptionsArg("schedule", values),
        sets: values.set,
        engine: values.engine,
        outDir: values["out-dir"],
        remove: !!values.remove,
        load: (file, onCron) => load(file, { sets: values.set, engine: values.engine }, onCron),
      });
    }
    await runScheduledRecipes(positionals, {
      sets: values.set,
      engine: values.engine,
      outDir: values["out-dir"] ?? "out",
      cacheDir: values["cache-dir"] ?? DEFAULT_CACHE_DIR,
      signal: stop.signal,
      log: (entry) => console.log(JSON.stringify(entry)),
      debug,
    });
    return EXIT.ok;
  } catch (e) {
    // Errors before the schedule starts are for the person at the terminal; logs stay JSON.
    return reportError(e, { debug, json: !Deno.stdout.isTerminal() });
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

/**
 * Validates every recipe (all must have `schedule:`), then runs their schedules until `signal`
 * aborts. Renders are serialized (one at a time). Throws RecipeError / UsageError before starting.
 */
export async function runScheduledRecipes(
  files: readonly string[],
  options: ScheduleCommandOptions,
): Promise<void> {
  const cache = new CacheStore(options.cacheDir);
  const crons = new Map<string, string>();
  for (const file of files) {
    let cron: string | undefined;
    await load(file, options, (c) => cron = c);
    if (!cron) throw new UsageError(`${file}: no "schedule:" cron expression in the recipe`);
    crons.set(file, cron);
  }
  const log = (file: string, type: string, fields: Record<string, unknown> = {}) =>
    options.log({ time: new Date().toISOString(), recipe: file, type, ...fields });
  let queue = Promise.resolve();
  const serialized = (task: () => Promise<void>) => {
    const run = queue.then(task);
    queue = run.catch(() => {});
    return run;
  };

  for (const [file, cron] of crons) log(file, "scheduled", { cron });
  await Promise.all([...crons].map(([file, cron]) =>
    runSchedule({
      cron,
      signal: options.signal,
      render: (due, signal) =>
        serialized(async () => {
          if (signal.aborted) return;
          try {
            await renderOnce(file, due, cache, options, signal, log);
          } catch (e) {
            const stopped = e instanceof RunAbortedError;
            log(file, stopped ? "interrupted" : "failed", {
              due: due.toISOString(),
              messages: messagesOf(e, !!options.debug),
            });
          }
        }),
    })
  ));
  for (const file of crons.keys()) log(file, "stopped");
}

/** One scheduled occurrence: reload, skip when unchanged, else render into a timestamped folder. */
async function renderOnce(
  file: string,
  due: Date,
  cache: CacheStore,
  options: ScheduleCommandOptions,
  signal: AbortSignal,
  log: (file: string, type: string, fields?: Record<string, unknown>) => void,
): Promise<void> {
  const recipe = await load(file, options);
  // `name:` is validated as one folder name; the real path is checked too (links under out-dir).
  const folder = join(recipe.name, timestampName(due));
  const outDir = confineOutput(folder, {
    recipeDir: recipe.dir,
    imageDirs: [],
    outDir: options.outDir,
    allowOutsideOutput: false,
  }, recipe.files);
  const plan = await planRecipe(recipe, { outDir });
  if (await nothingToRender(plan, cache)) {
    log(file, "skipped", { due: due.toISOString(), reason: "inputs unchanged (all steps cached)" });
    return;
  }
  log(file, "render-started", { due: due.toISOString(), outDir });
  const result = await runPlan(plan, {
    cache,
    signal,
    onEvent: (e: RunEvent) => {
      if (e.type === "step-finished" || e.type === "step-failed" || e.type === "step-warning") {
        const { type, ...fields } = e;
        log(file, type, fields);
      }
    },
  });
  log(file, "rendered", {
    due: due.toISOString(),
    seconds: result.seconds,
    outputs: result.outputs,
    ran: result.steps.filter((s) => s.status === "ran").map((s) => s.step),
  });
}

function load(
  file: string,
  options: Pick<ScheduleCommandOptions, "sets" | "engine">,
  onCron?: (cron: string) => void,
): Promise<Recipe> {
  return loadRecipe(file, {
    registry: builtinStages(),
    sets: options.sets,
    engine: options.engine,
    engineNames,
    extensions: [matrixExtension(), scalesExtension(), scheduleExtension(onCron)],
  });
}
