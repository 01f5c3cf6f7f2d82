/** Runs one benchmark measurement in a fresh Deno subprocess (see child.ts). */
import { StylepipeError } from "../util/errors.ts";
import type { BenchResult, MeasureOptions } from "./measure.ts";
import { runJsonChild } from "./json_child.ts";

/** A measurement that failed in its subprocess (engine unavailable, out of memory, …). */
export class BenchError extends StylepipeError {
  /** @param engine engine name @param size image size @param detail the child's last error lines */
  constructor(readonly engine: string, readonly size: number, detail: string) {
    super(`bench ${engine} at ${size}²: ${detail}`);
  }
}

/** Measures `engine` at size × size in a new process and returns its result. */
export async function measureInSubprocess(
  engine: string,
  size: number,
  options: MeasureOptions,
): Promise<BenchResult> {
  const child = new URL("./child.ts", import.meta.url);
  const args = [engine, size, options.steps, options.warmup, options.renderIterations]
    .concat(options.historySize === undefined ? [] : [options.historySize]).map(String);
  const outcome = await runJsonChild(child.href, args);
  if (!outcome.ok) {
    throw new BenchError(engine, size, `exit code ${outcome.code}: ${outcome.detail}`);
  }
  const stdout = outcome.line;
  try {
    return JSON.parse(stdout) as BenchResult;
  } catch {
    throw new BenchError(engine, size, `unreadable result line "${stdout}"`);
  }
}
