/** `render <recipe>`: validate, plan and run a recipe. */
import process from "node:process";
import { CacheStore, DEFAULT_CACHE_DIR } from "../pipeline/cache.ts";
import { planRecipe } from "../pipeline/plan.ts";
import { runPlan } from "../pipeline/run.ts";
import { parseCommandArgs, recipeArg, RUN_OPTIONS } from "./args.ts";
import { EXIT, reportError } from "./errors.ts";
import { loadCliRecipe } from "./load.ts";
import { ProgressPrinter } from "./progress.ts";

const HELP = `Usage: deno task render <recipe.yaml> [options]

Runs a recipe: steps whose inputs and parameters are unchanged come from the cache.

Options:
  --set name=value   override a variable (value parsed as YAML: 256, [a, b], text); repeatable
  --engine NAME      engine (auto, cuda, onnx, wasm, cpu, webgpu, tfjs-node, tfjs-node-gpu)
  --out-dir DIR      output directory (default out/)
  --cache-dir DIR    cache directory (default ${DEFAULT_CACHE_DIR})
  --no-cache         neither read nor write the cache
  --json             one JSON event per line instead of progress output
  --debug            stack traces on errors
  -h, --help         this help

Exit codes: 0 success, 1 runtime failure, 2 invalid recipe or usage, 130 interrupted.`;

/** Runs the `render` command; returns the exit code. */
export async function renderCommand(args: string[]): Promise<number> {
  let json = args.includes("--json");
  const debug = args.includes("--debug");
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error("interrupted"));
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    const { values, positionals } = parseCommandArgs("render", args, {
      ...RUN_OPTIONS,
      "no-cache": { type: "boolean" },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    json = !!values.json;
    const recipe = await loadCliRecipe(recipeArg("render", positionals), {
      sets: values.set,
      engine: values.engine,
    });
    const plan = await planRecipe(recipe, { outDir: values["out-dir"] });
    const printer = json ? undefined : new ProgressPrinter();
    await runPlan(plan, {
      cache: values["no-cache"] ? null : new CacheStore(values["cache-dir"] ?? DEFAULT_CACHE_DIR),
      signal: controller.signal,
      onEvent: printer?.onEvent ?? ((e) => process.stdout.write(JSON.stringify(e) + "\n")),
    });
    return EXIT.ok;
  } catch (e) {
    return reportError(e, { debug, json });
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}
