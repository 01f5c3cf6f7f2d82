/** `render <recipe>`: validate, plan and run a recipe. */
import process from "node:process";
import { join } from "node:path";
import { encodePng } from "../image/codecs.ts";
import type { RgbImage } from "../image/image.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { CacheStore, DEFAULT_CACHE_DIR } from "../pipeline/cache.ts";
import type { Plan } from "../pipeline/plan.ts";
import { RecipeError } from "../recipe/errors.ts";
import { RunAbortedError, runPlan } from "../pipeline/run.ts";
import { OUTPUT_OPTIONS, parseCommandArgs, recipeArg, RUN_OPTIONS } from "./args.ts";
import { EXIT, exitCodeOf, reportError, UsageError } from "./errors.ts";
import { planCliRecipe } from "./load.ts";
import { memoryOption } from "./memory_option.ts";
import { ProgressPrinter } from "./progress.ts";

const HELP = `Usage: deno task render <recipe.yaml> [options]

Runs a recipe: steps whose inputs and parameters are unchanged come from the cache.

Options:
  --set name=value   override a variable (value parsed as YAML: 256, [a, b], text); repeatable
  --engine NAME      engine (auto, cuda, cuda-fp32, cuda-tf32, onnx, wasm, cpu, webgpu, tfjs-node,
                     tfjs-node-gpu)
  --out-dir DIR      output directory (default out/)
  --cache-dir DIR    cache directory (default ${DEFAULT_CACHE_DIR})
  --no-cache         neither read nor write the cache
  --memory SIZE      memory budget, e.g. 4GiB: neural steps that would exceed it are evaluated
                     tile by tile (default: this machine's memory, or the GPU's for a GPU engine)
  --force            start steps whose memory estimate exceeds the budget even when tiled
  --json             one JSON event per line instead of progress output
  --preview          keep <out-dir>/preview.png, the optimizing step's current image
  --preview-every N  refresh it every N iterations (default 10)
  -q, --quiet        print only errors and the files written
  -v, --verbose      also each step's start and cache key (progress lines off a terminal)
  --debug            stack traces on errors
  -h, --help         this help

Exit codes: 0 success, 1 runtime failure, 2 invalid recipe or usage, 130 interrupted.`;

/** The --preview-every value: a whole number of iterations ≥ 1. */
function previewEvery(text: string | undefined): number {
  if (text === undefined) return 10;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`render: --preview-every needs a whole number ≥ 1, got "${text}"`);
  }
  return n;
}

/** Keeps one PNG file showing the latest preview; writes are atomic and never overlap. */
class PreviewFile {
  #writing: Promise<void> = Promise.resolve();
  #latest?: RgbImage;

  /** @param path the preview file @param every iterations between previews */
  constructor(readonly path: string, readonly every: number) {}

  /** Takes a preview (the runner's callback); only the newest waiting one is written. */
  onPreview = (_step: string, image: RgbImage): void => {
    const idle = this.#latest === undefined;
    this.#latest = image;
    if (idle) {
      this.#writing = this.#writing.then(async () => {
        const next = this.#latest!;
        this.#latest = undefined;
        await atomicWrite(this.path, await encodePng(next));
      });
    }
  };

  /** Resolves when every taken preview is on disk. */
  settled(): Promise<void> {
    return this.#writing;
  }
}

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
      ...OUTPUT_OPTIONS,
      "no-cache": { type: "boolean" },
      preview: { type: "boolean" },
      "preview-every": { type: "string" },
      force: { type: "boolean" },
      memory: { type: "string" },
    });
    if (values.quiet && values.verbose) {
      throw new UsageError("render: --quiet and --verbose exclude each other");
    }
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    json = !!values.json;
    const plan = await planCliRecipe(recipeArg("render", positionals), {
      sets: values.set,
      engine: values.engine,
      outDir: values["out-dir"],
      memory: memoryOption(values.memory, "render"),
    });
    const cache = values["no-cache"]
      ? null
      : new CacheStore(values["cache-dir"] ?? DEFAULT_CACHE_DIR);
    if (!values.force) await refuseOversized(plan, cache);
    const printer = json ? undefined : new ProgressPrinter({
      verbosity: values.quiet ? "quiet" : values.verbose ? "verbose" : "normal",
    });
    const preview = values.preview || values["preview-every"] !== undefined
      ? new PreviewFile(
        join(plan.paths.outDir, "preview.png"),
        previewEvery(values["preview-every"]),
      )
      : undefined;
    try {
      await runPlan(plan, {
        cache,
        signal: controller.signal,
        onEvent: printer?.onEvent ?? ((e) => process.stdout.write(JSON.stringify(e) + "\n")),
        preview,
      });
    } finally {
      await preview?.settled();
    }
    return EXIT.ok;
  } catch (e) {
    // The progress printer has already said "cancelled" (and how to go on): no error line too.
    if (e instanceof RunAbortedError && !json) return exitCodeOf(e);
    return reportError(e, { debug, json });
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

/**
 * Throws a {@link RecipeError} (exit 2) naming every step that would run and whose memory estimate
 * exceeds the budget at its smallest tiling: starting it would only end in swapping or an
 * out-of-memory kill.
 */
async function refuseOversized(plan: Plan, cache: CacheStore | null): Promise<void> {
  const memory = plan.memory;
  const issues = [];
  for (const p of plan.steps) {
    const bytes = p.estimate?.bytes;
    if (bytes === undefined || bytes <= memory) continue;
    if (cache && await cache.has(p.key)) continue;
    issues.push({
      file: plan.recipe.file,
      pos: p.step.pos,
      step: p.step.id,
      message: `needs about ${gib(bytes)} GiB of memory even tiled, more than the budget of ` +
        `${gib(memory)} GiB; lower its size (or the last of scales:), raise --memory, or pass ` +
        `--force to start it anyway`,
    });
  }
  if (issues.length) throw new RecipeError(issues);
}

function gib(bytes: number): string {
  return (bytes / 1024 ** 3).toFixed(1);
}
