/**
 * Subprocess entry of the benchmark: measures one engine at one size and prints the result as one
 * JSON line, so that each measurement's peak resident memory is its own.
 * Usage: deno run -A src/bench/child.ts ENGINE SIZE STEPS WARMUP RENDER_ITERATIONS
 */
import { measure } from "./measure.ts";

if (import.meta.main) {
  const [engine, size, steps, warmup, renderIterations] = Deno.args;
  const result = await measure(engine, Number(size), {
    steps: Number(steps),
    warmup: Number(warmup),
    renderIterations: Number(renderIterations),
  });
  console.log(JSON.stringify(result));
}
