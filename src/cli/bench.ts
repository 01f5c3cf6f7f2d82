/**
 * `deno task bench [--engine E[,E…]] [--sizes 128,256,512] [--json] [--iterations 50]`: workload W
 * (src/bench/workload.ts) per engine and size, each in a fresh subprocess so that peak memory is
 * per measurement.
 */
import { didYouMean } from "../recipe/suggest.ts";
import type { BenchResult } from "../bench/measure.ts";
import { measureInSubprocess } from "../bench/run.ts";
import {
  measureTiledInSubprocess,
  TILED_WORKLOADS,
  type TiledResult,
  type TiledWorkload,
} from "../bench/tiled.ts";
import { engineNames } from "../neural/engines/providers.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError, UsageError } from "./errors.ts";

const USAGE =
  `Usage: deno task bench [--engine E[,E…]] [--sizes 128,256,512] [--json] [--iterations 50]
       deno task bench --tiled [--sizes 1024] [--tile N] [--workloads conv3,relu5_1]

Workload W: VGG19 to relu5_1 (synthetic weights), Gram style on relu1_1…relu5_1, content on
relu4_2; one step = loss + gradient. Per engine and size: median ms per step after warm-up,
effective GFLOP/s (convolution FLOPs), peak resident memory, and an L-BFGS render's time.

  --engine E      engines, comma-separated (default onnx; any of ${engineNames.join(", ")})
  --sizes S       square image sizes, comma-separated (default 128,256,512)
  --iterations N  L-BFGS iterations of the timed render (default 50; 0 skips the render)
  --history N     L-BFGS history size of the render (default: the optimizer's, 100)
  --steps N       timed steps, median reported (default 5)
  --warmup N      untimed steps first (default 2; 1 with --tiled)
  --tiled         the tiled evaluation instead (objective/tiled.ts): per workload (--workloads
                  conv3 = tubingen-starry-conv3's layers, relu5_1 = up to relu5_1, synthetic
                  weights) and size (--sizes 1024 or 8192x6144), one evaluation whole and tiled
                  with --tile px tiles (default: half the size, 2×2): ms, the ratio, the first
                  pass's share, peak RSS; --tiled-only skips the whole evaluation,
                  --placeholder-targets uses zero/identity targets instead of extracting them
  --json          one JSON object per line:
                  {"engine","size","ms_per_step","gflops","peak_rss_mb","peak_gpu_mb","render_50_s"}
`;

/** Runs the benchmark; returns the exit code. */
export async function benchCommand(args: string[]): Promise<number> {
  let json = false, debug = false;
  try {
    const { values } = parseCommandArgs("bench", args, {
      engine: { type: "string", default: "onnx" },
      sizes: { type: "string", default: "128,256,512" },
      iterations: { type: "string", default: "50" },
      steps: { type: "string", default: "5" },
      warmup: { type: "string" },
      history: { type: "string" },
      tiled: { type: "boolean" },
      "tiled-only": { type: "boolean" },
      tile: { type: "string" },
      workloads: { type: "string", default: "conv3,relu5_1" },
      "placeholder-targets": { type: "boolean" },
    });
    json = values.json ?? false;
    debug = values.debug ?? false;
    if (values.help) {
      console.log(USAGE);
      return EXIT.ok;
    }
    const engines = values.engine.split(",").map((e) => e.trim());
    for (const e of engines) {
      if (!engineNames.includes(e)) {
        throw new UsageError(
          `bench: unknown engine "${e}"${didYouMean(e, engineNames)}; engines: ${
            engineNames.join(", ")
          }`,
        );
      }
    }
    if (values.tiled || values["tiled-only"]) {
      return await tiledBench(engines, values, json);
    }
    const sizes = values.sizes.split(",").map((s) => positiveInt("--sizes", s));
    const options = {
      renderIterations: nonNegativeInt("--iterations", values.iterations),
      steps: positiveInt("--steps", values.steps),
      warmup: nonNegativeInt("--warmup", values.warmup ?? "2"),
      historySize: values.history === undefined
        ? undefined
        : positiveInt("--history", values.history),
    };
    const results: BenchResult[] = [];
    let failed = false;
    for (const engine of engines) {
      for (const size of sizes) {
        if (!json) console.error(`bench: ${engine} at ${size}×${size} …`);
        try {
          const r = await measureInSubprocess(engine, size, options);
          results.push(r);
          if (json) console.log(JSON.stringify(r));
        } catch (e) {
          failed = true;
          reportError(e, { debug, json });
        }
      }
    }
    if (!json) console.log(table(results, options.renderIterations));
    return failed ? EXIT.failure : EXIT.ok;
  } catch (e) {
    return reportError(e, { debug, json });
  }
}

function positiveInt(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`bench: ${option} expects positive integers, got "${text}"`);
  }
  return n;
}

function nonNegativeInt(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    throw new UsageError(`bench: ${option} expects a non-negative integer, got "${text}"`);
  }
  return n;
}

/** The results as a markdown table (with ×4 scaling ratios between consecutive doubled sizes). */
function table(results: readonly BenchResult[], iterations: number): string {
  const head =
    `| engine | size | ms/step | ×prev | GFLOP/s | peak RSS MB | peak GPU MB | render ${iterations} it s |`;
  const lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"];
  results.forEach((r, i) => {
    const prev = results[i - 1];
    const ratio = prev && prev.engine === r.engine && prev.size * 2 === r.size
      ? (r.ms_per_step / prev.ms_per_step).toFixed(2)
      : "";
    lines.push(
      `| ${r.engine} | ${r.size} | ${r.ms_per_step} | ${ratio} | ${r.gflops} | ${r.peak_rss_mb} | ` +
        `${r.peak_gpu_mb ?? "–"} | ${r.render_50_s ?? "–"} |`,
    );
  });
  return lines.join("\n");
}

/** `--tiled`: whole and tiled evaluations per engine, workload and size; returns the exit code. */
async function tiledBench(
  engines: readonly string[],
  values: {
    sizes: string;
    steps: string;
    warmup?: string;
    tile?: string;
    workloads: string;
    "tiled-only"?: boolean;
    "placeholder-targets"?: boolean;
  },
  json: boolean,
): Promise<number> {
  const sizes = values.sizes.split(",").map((s) => {
    const [h, w = h] = s.split("x").map((v) => positiveInt("--sizes", v));
    return [h, w] as const;
  });
  const workloads = values.workloads.split(",").map((w) => {
    if (!(w in TILED_WORKLOADS)) {
      throw new UsageError(`bench: unknown workload "${w}"; workloads: conv3, relu5_1`);
    }
    return w as TiledWorkload;
  });
  const steps = positiveInt("--steps", values.steps);
  const warmup = nonNegativeInt("--warmup", values.warmup ?? "1");
  const parts = !values["tiled-only"];
  const results: TiledResult[] = [];
  for (const engine of engines) {
    for (const [height, width] of sizes) {
      const tile = values.tile === undefined
        ? Math.ceil(Math.max(height, width) / 2)
        : positiveInt("--tile", values.tile);
      for (const workload of workloads) {
        const tiles = values["tiled-only"] ? [tile] : [null, tile];
        for (const t of tiles) {
          const placeholderTargets = values["placeholder-targets"] ?? false;
          const c = {
            ...{ engine, workload, height, width, tile: t, steps, warmup, parts },
            placeholderTargets,
          };
          if (!json) console.error(`bench: ${engine} ${workload} ${height}×${width} tile ${t}…`);
          const r = await measureTiledInSubprocess(c);
          results.push(r);
          if (json) console.log(JSON.stringify(r));
        }
      }
    }
  }
  if (!json) console.log(tiledTable(results));
  return EXIT.ok;
}

/** The tiled results as a markdown table; a tiled row follows its whole row and gives ratios. */
function tiledTable(results: readonly TiledResult[]): string {
  const lines = [
    "| engine | workload | size | tiling | ms/eval | ×whole | first pass ms (×whole) | halo etc. (×whole) | peak RSS MB | MP/s |",
    "|---|---|---:|---|---:|---:|---:|---:|---:|---:|",
  ];
  results.forEach((r, i) => {
    const whole = r.tiling && results[i - 1]?.tiling === null ? results[i - 1] : undefined;
    const ratio = (ms: number) => (whole ? ` (${(ms / whole.ms_per_eval).toFixed(2)})` : "");
    const tiling = r.tiling
      ? `${r.tiling.rows}×${r.tiling.cols}, ${r.tiling.tile} + ${r.tiling.halo} px`
      : "whole";
    const first = r.ms_first_pass === null ? "–" : `${r.ms_first_pass}${ratio(r.ms_first_pass)}`;
    const rest = whole && r.ms_first_pass !== null
      ? ((r.ms_per_eval - r.ms_first_pass - whole.ms_per_eval) / whole.ms_per_eval).toFixed(2)
      : "–";
    const mp = (r.height * r.width / 1e6) / (r.ms_per_eval / 1000);
    lines.push(
      `| ${r.engine} | ${r.workload} | ${r.height}×${r.width} | ${tiling} | ${r.ms_per_eval} | ` +
        `${whole ? (r.ms_per_eval / whole.ms_per_eval).toFixed(2) : ""} | ${first} | ${rest} | ` +
        `${r.peak_rss_mb} | ${mp.toFixed(3)} |`,
    );
  });
  return lines.join("\n");
}
