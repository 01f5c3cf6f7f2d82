/**
 * Human-readable run output: a line per step, a progress bar (cli-progress) for steps that report
 * progress, with ETA and iteration/loss figures, and a per-step timing table at the end. Bars are
 * drawn only on a terminal; elsewhere the step lines and the table remain.
 */
import cliProgress from "cli-progress";
import process from "node:process";
import type { RunEvent, StepSummary } from "../pipeline/events.ts";

/** Receives run events and prints them for a person. */
export class ProgressPrinter {
  readonly #multi = new cliProgress.MultiBar({
    stream: process.stderr,
    clearOnComplete: true,
    hideCursor: true,
    format: "  {step} [{bar}] {percentage}% | ETA {eta_formatted} | {figures}",
    barsize: 30,
  }, cliProgress.Presets.shades_classic);
  readonly #bars = new Map<string, cliProgress.SingleBar>();

  /** Handles one event. */
  onEvent = (e: RunEvent): void => {
    switch (e.type) {
      case "run-started":
        this.#log(`▶ ${e.recipe}: ${e.steps.length} steps`);
        break;
      case "step-started":
        this.#log(`  … ${e.step} (${e.stage})`);
        break;
      case "step-progress": {
        const p = e.progress;
        const total = p.total ?? 100;
        const value = p.iteration ?? Math.round((p.fraction ?? 0) * total);
        const figures = [
          p.iteration !== undefined ? `it ${p.iteration}${p.total ? `/${p.total}` : ""}` : "",
          p.loss !== undefined ? `loss ${p.loss.toPrecision(4)}` : "",
          p.message ?? "",
        ].filter(Boolean).join(" | ");
        let bar = this.#bars.get(e.step);
        if (!bar) {
          bar = this.#multi.create(total, value, { step: e.step, figures });
          this.#bars.set(e.step, bar);
        }
        bar.setTotal(total);
        bar.update(value, { step: e.step, figures });
        break;
      }
      case "step-finished":
        this.#endBar(e.step);
        this.#log(`  ✓ ${e.step} (${e.stage}) ${e.seconds.toFixed(2)} s → ${e.output}`);
        break;
      case "step-cached":
        this.#log(`  = ${e.step} (${e.stage}) cached${e.output ? ` → ${e.output}` : ""}`);
        break;
      case "step-failed":
        this.#endBar(e.step);
        this.#log(`  ✗ ${e.step} (${e.stage}): ${e.message}`);
        break;
      case "step-warning":
        this.#log(`  ! ${e.step}: ${e.message}`);
        break;
      case "run-finished":
        this.#multi.stop();
        console.log(timingTable(e.steps, e.seconds));
        for (const o of e.outputs) console.log(`wrote ${o}`);
        break;
    }
  };

  #endBar(step: string) {
    const bar = this.#bars.get(step);
    if (bar) {
      bar.stop();
      this.#multi.remove(bar);
      this.#bars.delete(step);
    }
  }

  #log(line: string) {
    if (this.#bars.size) this.#multi.log(line + "\n");
    else console.error(line);
  }
}

/** The per-step timing table printed after a run. */
export function timingTable(steps: readonly StepSummary[], totalSeconds: number): string {
  const rows = steps.map((s) => [
    s.step,
    s.stage,
    s.status,
    s.status === "ran" || s.status === "failed" ? s.seconds.toFixed(3) : "-",
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
