/** `plan <recipe>`: the execution order, what is cached, output sizes and estimates. */
import { CacheStore, DEFAULT_CACHE_DIR, isFileKind } from "../pipeline/cache.ts";
import type { PlannedStep } from "../pipeline/plan.ts";
import { parseCommandArgs, recipeArg, RUN_OPTIONS } from "./args.ts";
import { EXIT, reportError } from "./errors.ts";
import { planCliRecipe } from "./load.ts";
import { table } from "./progress.ts";
import { memoryOption } from "./memory_option.ts";
import type { Estimate } from "../stages/stage.ts";

const HELP = `Usage: deno task plan <recipe.yaml> [options]

Shows the steps in execution order, whether each is cached, and output sizes and resource
estimates where the stages can give them. Runs nothing.

Options:
  --set name=value   override a variable; repeatable
  --engine NAME      engine (part of the cache key)
  --memory SIZE      memory budget, e.g. 4GiB: neural steps that would exceed it are evaluated
                     tile by tile (default: this machine's memory, or the GPU's for a GPU engine)
  --out-dir DIR      output directory (default out/)
  --cache-dir DIR    cache directory (default ${DEFAULT_CACHE_DIR})
  --allow-plugins    load the recipe's plugins (code that runs with your permissions)
  --json             the plan as JSON
  --debug            stack traces on errors`;

/** Runs the `plan` command; returns the exit code. */
export async function planCommand(args: string[]): Promise<number> {
  const debug = args.includes("--debug");
  let json = args.includes("--json");
  try {
    const { values, positionals } = parseCommandArgs("plan", args, {
      ...RUN_OPTIONS,
      "allow-plugins": { type: "boolean" },
      memory: { type: "string" },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    json = !!values.json;
    const plan = await planCliRecipe(recipeArg("plan", positionals), {
      sets: values.set,
      engine: values.engine,
      plugins: values["allow-plugins"] ? "load" : "refuse",
      outDir: values["out-dir"],
      memory: memoryOption(values.memory, "plan"),
    });
    const cache = new CacheStore(values["cache-dir"] ?? DEFAULT_CACHE_DIR);
    const rows = await Promise.all(plan.steps.map((p) => describe(p, cache)));
    const warnings = rows.filter((r) => !r.cached && r.bytes !== undefined && r.bytes > plan.memory)
      .map((r) =>
        `step "${r.step}" needs about ${formatBytes(r.bytes!)} of memory, more than the ` +
        `budget of ${formatBytes(plan.memory)} even at the smallest tile: lower its size (or ` +
        `the last of scales:), or raise --memory`
      );
    if (json) {
      console.log(
        JSON.stringify({
          recipe: plan.recipe.name,
          engine: plan.recipe.engine,
          memory: plan.memory,
          steps: rows,
          warnings,
        }),
      );
    } else {
      console.log(
        `${plan.recipe.name} (engine ${plan.recipe.engine}, memory budget ${
          formatBytes(plan.memory)
        })`,
      );
      console.log(table(
        ["#", "step", "stage", "from", "cached", "size", "evaluation", "memory", "time"],
        rows.map((r, i) => [
          String(i + 1),
          r.step,
          r.stage,
          r.from.join(", ") || "-",
          r.cached ? "yes" : "no",
          r.size ?? "?",
          r.evaluation ?? "-",
          r.bytes === undefined ? "?" : formatBytes(r.bytes),
          r.seconds === undefined ? "?" : `${r.upper_bound ? "≤ " : ""}${r.seconds.toFixed(1)} s`,
        ]),
      ));
      for (const w of warnings) console.error(`warning: ${w}`);
    }
    return EXIT.ok;
  } catch (e) {
    return reportError(e, { debug, json });
  }
}

async function describe(p: PlannedStep, cache: CacheStore) {
  const cached = isFileKind(p.step.stage.output)
    ? (await cache.get(p.key)).status === "hit"
    : await cache.has(p.key);
  return {
    step: p.step.id,
    stage: p.step.use,
    from: [...p.deps],
    key: p.key,
    cached,
    size: p.shape ? `${p.shape.width}×${p.shape.height}` : undefined,
    evaluation: p.step.stage.usesEngine && p.estimate ? evaluationText(p.estimate) : undefined,
    tiling: p.estimate?.tiling,
    lbfgs_pairs: p.fit?.history,
    bytes: p.estimate?.bytes,
    seconds: p.estimate?.seconds,
    upper_bound: p.estimate?.upperBound ?? false,
  };
}

/**
 * How a neural step evaluates: "whole", or "tiled 4×3, 1024 px + 80 px halo", with the L-BFGS
 * pairs where the budget lowered them.
 */
function evaluationText(e: Estimate): string {
  const pairs = e.fit?.history === undefined ? "" : `, L-BFGS ${e.fit.history} pairs`;
  const t = e.tiling;
  return (t ? `tiled ${t.cols}×${t.rows}, ${t.tile} px + ${t.halo} px halo` : "whole") + pairs;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
