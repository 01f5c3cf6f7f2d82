/**
 * Measures workload W on one engine at one size, in this process: median time per step after
 * warm-up, effective GFLOP/s, peak resident memory and the time of a full L-BFGS render.
 */
import type { Engine } from "../neural/engines/engine.ts";
import { createEngine } from "../neural/engines/providers.ts";
import { lbfgs } from "../neural/optim/lbfgs.ts";
import { stepFlops, workloadImage, workloadSpec, workloadWeights } from "./workload.ts";

/** One benchmark result (the JSON line `deno task bench --json` prints). */
export interface BenchResult {
  readonly engine: string;
  readonly size: number;
  /** Median milliseconds per forward+backward step after warm-up. */
  readonly ms_per_step: number;
  /** Convolution FLOPs of a step divided by the median step time, in GFLOP/s. */
  readonly gflops: number;
  /** Peak resident memory of the process (MB = 10⁶ bytes). */
  readonly peak_rss_mb: number;
  /** Peak device memory the engine held (cuda; MB = 10⁶ bytes); null for engines that do not say. */
  readonly peak_gpu_mb: number | null;
  /** Seconds for an L-BFGS render of `renderIterations` iterations; null when skipped. */
  readonly render_50_s: number | null;
}

/** How much to measure. */
export interface MeasureOptions {
  /** Timed steps (the median is reported). */
  readonly steps: number;
  /** Untimed steps first (session build, allocation, JIT). */
  readonly warmup: number;
  /** L-BFGS iterations of the render; 0 skips it. */
  readonly renderIterations: number;
  /** L-BFGS history size of the render (the optimizer's default when absent). */
  readonly historySize?: number;
}

/** Runs W on engine `engineName` at size × size. */
export async function measure(
  engineName: string,
  size: number,
  options: MeasureOptions,
): Promise<BenchResult> {
  const rss = new PeakRss();
  const engine = await createEngine(engineName);
  try {
    const spec = await workloadSpec(engine, workloadWeights(), size);
    const objective = await engine.objective(spec);
    try {
      const x = engine.vec.fromArray(workloadImage(size, 1));
      const times: number[] = [];
      for (let i = 0; i < options.warmup + options.steps; i++) {
        const t0 = performance.now();
        const e = await objective.evaluate(x);
        await engine.vec.toArray(e.grad); // a GPU engine must finish, not just enqueue
        const t = performance.now() - t0;
        engine.vec.dispose(e.grad);
        rss.sample();
        if (i >= options.warmup) times.push(t);
      }
      let render: number | null = null;
      if (options.renderIterations > 0) {
        render = await timeRender(engine, objective, x, options, rss);
      }
      engine.vec.dispose(x);
      const ms = median(times);
      return {
        engine: engine.name,
        size,
        ms_per_step: round(ms, 1),
        gflops: round(stepFlops(size, size) / (ms * 1e6), 1),
        peak_rss_mb: round(rss.peakBytes() / 1e6, 0),
        peak_gpu_mb: devicePeakMb(engine),
        render_50_s: render === null ? null : round(render, 2),
      };
    } finally {
      objective.dispose();
    }
  } finally {
    await engine.dispose();
  }
}

async function timeRender<V>(
  engine: Engine<V>,
  objective: Parameters<typeof lbfgs<V>>[0],
  x0: V,
  options: MeasureOptions,
  rss: PeakRss,
): Promise<number> {
  const t0 = performance.now();
  const { state } = await lbfgs(objective, engine.vec, x0, {
    maxIterations: options.renderIterations,
    historySize: options.historySize,
    tolerance: 0,
    gradTolerance: 0,
  }, { onIteration: () => void rss.sample() });
  await engine.vec.toArray(state.x);
  const seconds = (performance.now() - t0) / 1000;
  for (const v of [state.x, state.g, ...state.s, ...state.y]) engine.vec.dispose(v);
  return seconds;
}

/**
 * Peak resident set size: the kernel's high-water mark (VmHWM in /proc/self/status) where it
 * exists, else the largest `Deno.memoryUsage().rss` sampled.
 */
export class PeakRss {
  #sampled = 0;

  /** Records the current resident size. */
  sample(): void {
    this.#sampled = Math.max(this.#sampled, Deno.memoryUsage().rss);
  }

  /** The peak so far, bytes. */
  peakBytes(): number {
    this.sample();
    try {
      const status = Deno.readTextFileSync("/proc/self/status");
      const kb = /^VmHWM:\s+(\d+) kB/m.exec(status);
      if (kb) return Math.max(this.#sampled, Number(kb[1]) * 1024);
    } catch {
      // not Linux: the samples are all we have
    }
    return this.#sampled;
  }
}

/** The engine's peak device memory in MB, where it reports one (`memory()`, as the cuda engine). */
function devicePeakMb(engine: Engine): number | null {
  const memory = (engine as { memory?: () => { peak: number } }).memory;
  return memory ? round(memory.call(engine).peak / 1e6, 0) : null;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
