/** `submit <recipe> --queue URL`: validate and plan here, enqueue one render job per output. */
import { openQueue } from "../farm/connection.ts";
import { type JobStatus, submitRecipe, waitForJobs } from "../farm/submit.ts";
import type { FarmProgress } from "../farm/jobs.ts";
import { parseCommandArgs, recipeArg } from "./args.ts";
import { EXIT, reportError } from "./errors.ts";
import {
  farmKeyArg,
  loadJobRecipe,
  QUEUE_OPTION,
  queueUrlArg,
  recipeRefOf,
  redisOptionsArg,
  TRUST_HELP,
  unreachable,
} from "./farm_args.ts";

const HELP = `Usage: deno task submit <recipe.yaml> --queue redis://HOST:PORT[/DB] [options]

Validates and plans the recipe here, then queues one render job per output (a matrix: recipe gives
one job per combination) for the workers (deno task worker). A job's id is its output's cache key:
submitting the same render again adds nothing, and a render already in the shared cache completes
at once. Paths are sent as absolute paths: workers must see the recipe, its inputs and the output
folder at the same paths (a shared mount) or map them (worker --map). Jobs are signed with the farm
key; workers run no other.

Options:
  --queue URL        Redis holding the queue (required)
  --set name=value   override a variable (repeatable)
  --engine NAME      engine (auto is resolved by each worker)
  --out-dir DIR      output directory (default out/)
  --wait             follow the jobs' progress; exit 0 when all complete, 1 if one fails
  --json             one JSON object per line
${TRUST_HELP}
  --debug            stack traces on errors
  -h, --help         this help

Exit codes: 0 queued (or, with --wait, all completed), 1 failure, 2 invalid recipe or usage,
130 interrupted while waiting (the jobs go on).`;

/** Runs the `submit` command; returns the exit code. */
export async function submitCommand(args: string[]): Promise<number> {
  const json = args.includes("--json");
  const debug = args.includes("--debug");
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  let farm: ReturnType<typeof openQueue> | undefined;
  try {
    const { values, positionals } = parseCommandArgs("submit", args, {
      ...QUEUE_OPTION,
      set: { type: "string", multiple: true },
      engine: { type: "string" },
      "out-dir": { type: "string" },
      wait: { type: "boolean" },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    const url = queueUrlArg("submit", values.queue);
    const key = await farmKeyArg("submit", values);
    const ref = recipeRefOf(recipeArg("submit", positionals), {
      sets: values.set,
      engine: values.engine,
      outDir: values["out-dir"],
    });
    const recipe = await loadJobRecipe(ref);
    farm = openQueue(url, redisOptionsArg("submit", values));
    const jobs = await submitRecipe(farm.queue, recipe, ref, key).catch((e) => {
      throw unreachable(url, e);
    });
    for (const j of jobs) {
      if (json) console.log(JSON.stringify({ type: "submitted", ...j }));
      else {console.log(
          `${j.id}  ${j.output ?? "(all steps)"}  ${j.state}${
            j.existed ? " (already queued)" : ""
          }`,
        );}
    }
    if (!values.wait) return EXIT.ok;
    const final = await waitForJobs(farm.queue, jobs.map((j) => j.id), (s) => {
      if (json) console.log(JSON.stringify({ type: "job", ...s }));
      else console.error(statusLine(s));
    }, stop.signal);
    if (stop.signal.aborted) return EXIT.interrupted;
    return final.every((s) => s.state === "completed") ? EXIT.ok : EXIT.failure;
  } catch (e) {
    return reportError(e, { debug, json });
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    await farm?.close();
  }
}

/** One human-readable line for a job's status. */
function statusLine(s: JobStatus): string {
  const id = s.id.slice(0, 12);
  if (s.state === "completed") {
    const ran = s.result?.steps.filter((x) => x.status === "ran").length ?? 0;
    return `${id} completed (${ran} steps ran) ${s.result?.outputs.join(", ") ?? ""}`;
  }
  if (s.state === "failed") return `${id} failed: ${s.failedReason ?? ""}`;
  const p = s.progress as FarmProgress | number | undefined;
  if (s.state !== "active" || typeof p !== "object" || p === null) return `${id} ${s.state}`;
  return `${id} active ${progressText(p)}`;
}

/** `transfer it 12/60 loss 1.234e+5, ETA 14 s` from a job's progress (the stage's own text first). */
export function progressText(p: FarmProgress): string {
  return [
    p.step,
    p.iteration !== undefined ? `it ${p.iteration}${p.total ? `/${p.total}` : ""}` : "",
    p.message ??
      [
        p.loss !== undefined ? `loss ${p.loss.toPrecision(4)}` : "",
        p.etaSeconds !== undefined ? `ETA ${Math.round(p.etaSeconds)} s` : "",
      ].filter(Boolean).join(", "),
  ].filter(Boolean).join(" ");
}
