/** `plot OUTPUT`: the loss curve of a rendered output (from its provenance) as an SVG chart. */
import { sidecarPath } from "../pipeline/paths.ts";
import { type Json, readProvenance } from "../pipeline/provenance.ts";
import { lossChartSvg, type LossPoint } from "../report/loss_chart.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError, UsageError } from "./errors.ts";

const HELP = `Usage: deno task plot OUTPUT.png [--step ID] [--out FILE.svg]

Draws the loss curve (total and each term, log scale) recorded in OUTPUT's provenance (its
sidecar OUTPUT.json, else the PNG's own record). --step picks the optimizing step when the
render has several (default: the last). Writes OUTPUT.loss.svg unless --out says otherwise
("-" for standard output).`;

/** The loss traces in a provenance record's results, by step id, in recorded order. */
export function lossTraces(results: Readonly<Record<string, Json>>): Map<string, LossPoint[]> {
  const traces = new Map<string, LossPoint[]>();
  for (const [step, result] of Object.entries(results)) {
    if (result === null || typeof result !== "object" || Array.isArray(result)) continue;
    const trace = result.loss_trace ?? result.loss_curve;
    if (!Array.isArray(trace) || !trace.length) continue;
    traces.set(step, trace as unknown as LossPoint[]);
  }
  return traces;
}

/** Runs the `plot` command; returns the exit code. */
export async function plotCommand(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs("plot", args, {
      step: { type: "string" },
      out: { type: "string" },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    if (positionals.length !== 1) {
      throw new UsageError(`plot: expected one output image, got ${positionals.length}`);
    }
    const output = positionals[0];
    const results = await readResults(output);
    const traces = lossTraces(results);
    if (!traces.size) {
      throw new UsageError(`plot: ${output} was made without an optimizing step (no loss curve)`);
    }
    const step = values.step ?? [...traces.keys()].at(-1)!;
    const points = traces.get(step);
    if (!points) {
      throw new UsageError(
        `plot: no loss curve for step "${step}"; steps with one: ${[...traces.keys()].join(", ")}`,
      );
    }
    const svg = lossChartSvg(points, { title: `${output} — ${step}` });
    const out = values.out ?? `${output}.loss.svg`;
    if (out === "-") console.log(svg.trimEnd());
    else {
      await atomicWrite(out, svg);
      console.log(`wrote ${out}`);
    }
    return EXIT.ok;
  } catch (e) {
    return reportError(e, { debug: args.includes("--debug"), json: false });
  }
}

/** The results of the sidecar (which keeps the longest traces), else of the embedded record. */
async function readResults(output: string): Promise<Readonly<Record<string, Json>>> {
  try {
    const sidecar = JSON.parse(await Deno.readTextFile(sidecarPath(output)));
    if (sidecar?.results) return sidecar.results;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof SyntaxError)) throw e;
  }
  return (await readProvenance(output)).results;
}
