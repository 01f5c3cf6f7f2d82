/** Runs one benchmark measurement in a fresh Deno subprocess (see child.ts). */
import { StylepipeError } from "../util/errors.ts";
import type { BenchResult, MeasureOptions } from "./measure.ts";

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
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", child.href, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1) ?? "";
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n");
    const detail = stderr.find((l) => /error/i.test(l)) ?? stderr.at(-1) ?? "";
    throw new BenchError(engine, size, `exit code ${output.code}: ${detail}`);
  }
  try {
    return JSON.parse(stdout) as BenchResult;
  } catch {
    throw new BenchError(engine, size, `unreadable result line "${stdout}"`);
  }
}
