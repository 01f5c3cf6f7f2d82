/**
 * Human-readable run output. One line per step: on a terminal it is drawn in place while the step
 * runs (bar, percentage, iteration, loss, ETA) and replaced by the step's result line when it ends;
 * elsewhere only the result lines are printed. Lines that must stay (warnings, notes such as
 * "resumed from iteration 41", the cancel message) are printed above the live line. A timing
 * table and the outputs close the run. Replaces cli-progress, whose multi-bar left stale bars,
 * erased finished lines and printed a blank line when stdout was not a terminal.
 */
import type { RunEvent, StepSummary } from "../pipeline/events.ts";
import type { StageProgress } from "../stages/stage.ts";

/** How much a run prints: errors and outputs only, one line per step, or every event. */
export type Verbosity = "quiet" | "normal" | "verbose";

/** Where the printer writes (stderr for step lines, stdout for the summary). */
export interface ProgressStreams {
  /** Step lines, the live line, warnings. */
  readonly status: {
    write(text: string): void;
    readonly isTerminal: boolean;
    /** Terminal width: the live line is cut to it, since a wrapped line cannot be redrawn. */
    readonly columns?: number;
  };
  /** The timing table and the output paths. */
  readonly summary: { write(text: string): void };
}

/** The process's stderr and stdout. */
export function processStreams(): ProgressStreams {
  const encoder = new TextEncoder();
  return {
    status: {
      write: (text) => void Deno.stderr.writeSync(encoder.encode(text)),
      isTerminal: Deno.stderr.isTerminal(),
      columns: Deno.stderr.isTerminal() ? Deno.consoleSize().columns : undefined,
    },
    summary: { write: (text) => void Deno.stdout.writeSync(encoder.encode(text)) },
  };
}

const BAR_WIDTH = 24;
const CLEAR_LINE = "\r\x1b[2K";

/** The live state of the step being drawn. */
interface LiveStep {
  readonly step: string;
  readonly stage: string;
  progress?: StageProgress;
  elapsed: number;
}

/** Receives run events and prints them for a person. */
export class ProgressPrinter {
  readonly #streams: ProgressStreams;
  readonly #verbosity: Verbosity;
  /** Steps currently running, by id (usually one; the live line shows the latest). */
  readonly #running = new Map<string, LiveStep>();
  #liveDrawn = false;
  #lastVerboseDecile = new Map<string, number>();
  /** Steps whose own note already said where they were cancelled. */
  readonly #cancelNoted = new Set<string>();

  /** @param options streams (default: the process's) and verbosity (default normal) */
  constructor(options: { streams?: ProgressStreams; verbosity?: Verbosity } = {}) {
    this.#streams = options.streams ?? processStreams();
    this.#verbosity = options.verbosity ?? "normal";
  }

  /** Handles one event. */
  onEvent = (e: RunEvent): void => {
    switch (e.type) {
      case "run-started":
        if (this.#verbosity !== "quiet") this.#line(`▶ ${e.recipe}: ${e.steps.length} steps`);
        break;
      case "step-started":
        this.#running.set(e.step, { step: e.step, stage: e.stage, elapsed: 0 });
        if (this.#verbosity === "verbose") this.#line(`  … ${e.step} (${e.stage}) key ${e.key}`);
        this.#drawLive();
        break;
      case "step-progress": {
        const live = this.#running.get(e.step);
        if (!live) break;
        live.progress = e.progress;
        live.elapsed = e.elapsed;
        if (this.#streams.status.isTerminal) this.#drawLive();
        else if (this.#verbosity === "verbose") this.#verboseProgress(live);
        break;
      }
      case "step-note":
        if (e.message.startsWith("cancelled")) this.#cancelNoted.add(e.step);
        if (this.#verbosity !== "quiet") this.#line(`  · ${e.step}: ${e.message}`);
        break;
      case "step-finished":
        this.#running.delete(e.step);
        if (this.#verbosity !== "quiet") {
          this.#line(`  ✓ ${e.step} (${e.stage}) ${formatSeconds(e.seconds)} → ${e.output}`);
        }
        this.#drawLive();
        break;
      case "step-cached":
        if (this.#verbosity !== "quiet") {
          this.#line(`  = ${e.step} (${e.stage}) cached${e.output ? ` → ${e.output}` : ""}`);
        }
        break;
      case "step-failed": {
        const live = this.#running.get(e.step);
        this.#running.delete(e.step);
        const at = live?.progress?.iteration !== undefined
          ? ` at iteration ${live.progress.iteration}${
            live.progress.total ? `/${live.progress.total}` : ""
          }`
          : "";
        this.#line(`  ✗ ${e.step} (${e.stage})${at}: ${e.message}`);
        this.#drawLive();
        break;
      }
      case "step-warning":
        this.#line(`  ! ${e.step}: ${e.message}`);
        break;
      case "run-finished":
        this.#finish(e.aborted, e.steps, e.seconds, e.outputs);
        break;
    }
  };

  #finish(
    aborted: boolean,
    steps: readonly StepSummary[],
    seconds: number,
    outputs: readonly string[],
  ) {
    if (aborted) {
      const cancelled = [...this.#running.values()];
      this.#running.clear();
      for (const live of cancelled) {
        if (!this.#cancelNoted.has(live.step)) this.#line(cancelLine(live));
      }
    }
    this.#clearLive();
    if (this.#verbosity !== "quiet") {
      this.#streams.summary.write(timingTable(steps, seconds) + "\n");
    }
    if (aborted) {
      this.#streams.summary.write(
        "finished steps are cached: run the same command to continue\n",
      );
      return;
    }
    const ranNothing = steps.every((s) => s.status === "cached" || s.status === "skipped");
    if (ranNothing && outputs.length) {
      this.#streams.summary.write(`up to date (every step cached): ${outputs.join(", ")}\n`);
    } else {
      for (const o of outputs) this.#streams.summary.write(`wrote ${o}\n`);
    }
  }

  /** A line that stays, printed above the live line. */
  #line(text: string) {
    this.#clearLive();
    this.#streams.status.write(text + "\n");
    this.#drawLive();
  }

  #clearLive() {
    if (this.#liveDrawn) this.#streams.status.write(CLEAR_LINE);
    this.#liveDrawn = false;
  }

  #drawLive() {
    if (!this.#streams.status.isTerminal || this.#verbosity === "quiet") return;
    const live = [...this.#running.values()].at(-1);
    if (!live) return this.#clearLive();
    this.#streams.status.write(CLEAR_LINE + liveLine(live, this.#streams.status.columns));
    this.#liveDrawn = true;
  }

  /** Off a terminal, --verbose prints a progress line at each tenth of a step. */
  #verboseProgress(live: LiveStep) {
    const f = fractionOf(live.progress);
    if (f === undefined) return;
    const decile = Math.floor(f * 10);
    if (decile <= (this.#lastVerboseDecile.get(live.step) ?? -1)) return;
    this.#lastVerboseDecile.set(live.step, decile);
    this.#streams.status.write(liveLine(live) + "\n");
  }
}

/** The fraction done of a step, from its fraction or its iteration count. */
function fractionOf(p: StageProgress | undefined): number | undefined {
  if (!p) return undefined;
  if (p.fraction !== undefined) return Math.min(1, Math.max(0, p.fraction));
  if (p.iteration !== undefined && p.total) return Math.min(1, p.iteration / p.total);
  return undefined;
}

/**
 * The in-place line of a running step, most useful fields first (step, iteration, ETA, loss, tile,
 * then percentage and bar, stage, message): fields that do not fit in `columns` − 1 characters are left
 * out (the bar first shrinks, then leaves the bare percentage), so the ETA shows on an 80-column terminal.
 */
export function liveLine(
  live: { step: string; stage: string; progress?: StageProgress; elapsed: number },
  columns = Infinity,
): string {
  const p = live.progress;
  const f = fractionOf(p);
  // A stage that counts iterations gives its own ETA (from this run's pace after warm-up).
  const eta = p?.eta ??
    (p?.iteration === undefined && f && f > 0 ? live.elapsed / f * (1 - f) : undefined);
  const fields: string[][] = [];
  if (p?.iteration !== undefined) fields.push([`it ${p.iteration}${p.total ? `/${p.total}` : ""}`]);
  if (eta !== undefined && f !== undefined && f < 1) fields.push([`ETA ${formatSeconds(eta)}`]);
  if (p?.loss !== undefined) fields.push([`loss ${p.loss.toPrecision(4)}`]);
  if (p?.tile !== undefined) fields.push([`tile ${p.tile}${p.tiles ? `/${p.tiles}` : ""}`]);
  if (f !== undefined) {
    const percent = `${Math.floor(f * 100)}%`;
    const bar = (width: number) => {
      const filled = Math.round(f * width);
      return `${percent} [${"█".repeat(filled)}${"░".repeat(width - filled)}]`;
    };
    fields.push([bar(BAR_WIDTH), bar(BAR_WIDTH / 2), percent]);
  }
  fields.push([`(${live.stage})`]);
  if (p?.message) fields.push([p.message]);
  const width = columns - 1;
  let line = `  … ${live.step}`;
  for (const choices of fields) {
    const fit = choices.find((c) => length(line) + 3 + length(c) <= width);
    if (fit !== undefined) line += ` | ${fit}`;
  }
  return length(line) > width ? [...line].slice(0, width).join("") : line;
}

function length(text: string): number {
  return [...text].length;
}

/** What a cancelled step says: where it stopped, and how to go on. */
function cancelLine(live: LiveStep): string {
  const p = live.progress;
  const at = p?.iteration !== undefined ? ` at ${p.iteration}${p.total ? `/${p.total}` : ""}` : "";
  return `  ✗ ${live.step} (${live.stage}) cancelled${at}`;
}

/** Seconds for a person: "850 ms", "12.3 s", "4 min 05 s". */
export function formatSeconds(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.floor(s - m * 60)).padStart(2, "0")} s`;
}

/** The per-step timing table printed after a run. */
export function timingTable(steps: readonly StepSummary[], totalSeconds: number): string {
  const rows = steps.map((s) => [
    s.step,
    s.stage,
    s.status,
    s.status === "ran" || s.status === "failed" || s.status === "cancelled"
      ? s.seconds.toFixed(3)
      : "-",
  ]);
  return table(["step", "stage", "status", "seconds"], rows) +
    `\ntotal ${totalSeconds.toFixed(3)} s`;
}

/** A plain-text table with padded columns. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
