/**
 * `deno task dev <tool> [args]`: the development tools (measurements, sweeps, GPU sessions) behind
 * one entry point, so that `deno task` lists only what users run. Each tool is its own script, run
 * in a child process with the same flags the tasks use; `--help` after a tool name is the tool's.
 *
 * To add a tool, add one entry to {@link TOOLS}: its name, the script (a .ts file run with
 * `deno run -A --deny-import`, or a .sh file run with bash) and a one-line summary.
 */
import { fileURLToPath } from "node:url";
import { didYouMean } from "../src/recipe/suggest.ts";

/** A development tool: the script it runs and what it is for. */
interface Tool {
  /** Path from the repository root. */
  readonly script: string;
  readonly summary: string;
}

/** Every development tool, by name. */
export const TOOLS: Readonly<Record<string, Tool>> = {
  sweep: {
    script: "src/bench/quality_sweep.ts",
    summary: "old vs current defaults over every photo × painting: distances, contact sheet",
  },
  "ema-sweep": {
    script: "src/bench/ema_sweep.ts",
    summary: "content / style distance by ema decay and optimizer",
  },
  border: {
    script: "src/bench/border_sweep.ts",
    summary: "border darkening of a render per first-conv padding",
  },
  "farm-bench": {
    script: "src/bench/queue_bench.ts",
    summary: "the render farm's queue alone: jobs per second through N workers (needs redis)",
  },
  "serve-bench": {
    script: "src/bench/serve_bench.ts",
    summary: "the web page's latency while a render runs (needs Chromium)",
  },
  fuzz: {
    script: "src/bench/fuzz.ts",
    summary:
      "mutated recipes, --set values, job payloads and page requests: no crash, hang or blow-up",
  },
  "decode-memory": {
    script: "src/bench/decode_memory.ts",
    summary: "peak memory per decoded pixel, per format and depth (sets decodeBytesPerPixel)",
  },
  "release-memory": {
    script: "src/bench/release_memory.ts",
    summary: "peak memory of a chain of image steps, intermediates released or kept",
  },
  "gpu-smoke": {
    script: "src/bench/gpu_smoke.ts",
    summary: "the cuda engine's first GPU run, staged: every call named (see docs/gpu.md)",
  },
  "gpu-check": {
    script: "src/bench/gpu_check.ts",
    summary: "the cuda engine against onnx on a GPU machine (skips without a GPU)",
  },
  "gpu-session": {
    script: "src/bench/gpu_session.sh",
    summary: "a GPU machine's session: gpu-check, then the cuda/webgpu benchmarks",
  },
};

const ROOT = fileURLToPath(new URL("../", import.meta.url));

const HELP = `Usage: deno task dev <tool> [args]   (deno task dev <tool> --help: the tool's options)

Development tools (measurements for docs/, GPU sessions); users run the other tasks.

${Object.entries(TOOLS).map(([n, t]) => `  ${n.padEnd(12)} ${t.summary}`).join("\n")}`;

/** The command line that runs `tool` with `args`, from the repository root. */
export function toolCommand(name: string, args: readonly string[]): string[] {
  const tool = TOOLS[name];
  const script = `${ROOT}${tool.script}`;
  return tool.script.endsWith(".sh")
    ? ["bash", script, ...args]
    : [Deno.execPath(), "run", "-A", "--deny-import", script, ...args];
}

/** Runs `deno task dev` with `args`; returns the exit code. */
export async function dev(args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(HELP);
    return name === undefined ? 2 : 0;
  }
  if (!Object.hasOwn(TOOLS, name)) {
    console.error(`error: dev: unknown tool "${name}"${didYouMean(name, Object.keys(TOOLS))}\n`);
    console.error(HELP);
    return 2;
  }
  const [program, ...programArgs] = toolCommand(name, rest);
  const child = new Deno.Command(program, { args: programArgs }).spawn();
  return (await child.status).code;
}

if (import.meta.main) Deno.exit(await dev(Deno.args));
