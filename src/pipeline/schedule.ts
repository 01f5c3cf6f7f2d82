/**
 * Scheduled renders: a recipe's `schedule:` (a cron expression, croner syntax — five fields, or six
 * with seconds first) and the loop that waits for each occurrence and calls a render callback.
 *
 * Renders never overlap: when one outlasts the next occurrence, the missed occurrences are skipped
 * and the loop waits for the first one in the future. Aborting the signal stops the wait at once;
 * a render in progress is the callback's to finish or checkpoint (it receives the same signal).
 */
import { messageOf, StylepipeError } from "../util/errors.ts";
import { Cron } from "npm:croner@11.0.1";
import type { ExtensionContext, RecipeExtension } from "../recipe/extensions.ts";
import type { Plan } from "./plan.ts";
import type { StepStore } from "./store.ts";

/** A cron expression croner cannot use. */
export class ScheduleError extends StylepipeError {}

/** Parses a cron expression; throws {@link ScheduleError} when invalid or never due. */
export function parseCron(expression: string, timezone?: string): Cron {
  let cron: Cron;
  try {
    cron = new Cron(expression, { paused: true, timezone });
  } catch (e) {
    throw new ScheduleError(`invalid cron expression "${expression}": ${messageOf(e)}`);
  }
  if (!cron.nextRun()) throw new ScheduleError(`cron expression "${expression}" is never due`);
  return cron;
}

/** A file-name-safe UTC timestamp, e.g. `20261126T083005Z` (sortable, one per second). */
export function timestampName(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
}

/** Options for {@link runSchedule}. */
export interface ScheduleLoopOptions {
  /** Cron expression (croner syntax; six fields = with seconds). */
  readonly cron: string;
  /** IANA time zone of the expression (default: local time). */
  readonly timezone?: string;
  /** Aborting it ends the loop after the render in progress returns. */
  readonly signal: AbortSignal;
  /** Renders once, for the occurrence `due`. Errors are the callback's to report; a throw ends the loop. */
  render(due: Date, signal: AbortSignal): Promise<void>;
  /** Stop after this many renders (default: until aborted or the expression has no more dates). */
  readonly maxRuns?: number;
}

/** Runs `render` at every occurrence of the cron expression until aborted; returns the number of renders. */
export async function runSchedule(options: ScheduleLoopOptions): Promise<number> {
  const cron = parseCron(options.cron, options.timezone);
  const { signal } = options;
  let runs = 0;
  let last = 0;
  while (!signal.aborted && runs < (options.maxRuns ?? Infinity)) {
    // Strictly after both now and the last occurrence (a timer may fire a little early).
    const due = cron.nextRun(new Date(Math.max(Date.now(), last)));
    if (!due) break;
    last = due.getTime();
    if (!(await sleepUntil(due, signal))) break;
    await options.render(due, signal);
    runs++;
  }
  return runs;
}

/** Resolves true at `time`, or false as soon as `signal` aborts. */
function sleepUntil(time: Date, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, Math.max(0, time.getTime() - Date.now()));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The `schedule:` recipe key: checks the cron expression at load time and hands it to `record`
 * (the `schedule` command keeps it; `render` ignores it).
 */
export function scheduleExtension(record: (cron: string) => void = () => {}): RecipeExtension {
  return {
    key: "schedule",
    apply(value: unknown, ctx: ExtensionContext) {
      if (typeof value !== "string") {
        ctx.issues.add(ctx.at(["schedule"]), `"schedule:" must be a cron expression in quotes`);
        return;
      }
      try {
        parseCron(value);
        record(value);
      } catch (e) {
        ctx.issues.add(ctx.at(["schedule"]), messageOf(e));
      }
    },
  };
}

/**
 * Whether a scheduled run would change nothing: every step that does not write files is in the
 * store. (A file-writing step's key includes the output folder, new for each run by design.)
 */
export async function nothingToRender(plan: Plan, store: StepStore): Promise<boolean> {
  for (const p of plan.steps) {
    if (!p.step.stage.writesFiles && !(await store.has(p.key))) return false;
  }
  return true;
}
