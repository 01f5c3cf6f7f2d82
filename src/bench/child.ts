/**
 * Subprocess entry of the benchmark: measures one engine at one size and prints the result as one
 * JSON line, so that each measurement's peak resident memory is its own.
 * Usage: deno run -A src/bench/child.ts ENGINE SIZE STEPS WARMUP RENDER_ITERATIONS [HISTORY]
 */
import { measure } from "./measure.ts";

if (import.meta.main) {
  const [engine, size, steps, warmup, renderIterations, history] = Deno.args;
  const result = await measure(engine, Number(size), {
    steps: Number(steps),
    warmup: Number(warmup),
    renderIterations: Number(renderIterations),
    historySize: history ? Number(history) : undefined,
  });
  console.log(JSON.stringify(result));
}
