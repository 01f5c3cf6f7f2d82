/** How the CLI turns errors into one readable message and an exit code (no stack trace unless --debug). */
import { StylepipeError } from "../util/errors.ts";
import { RecipeError } from "../recipe/errors.ts";
import { RunAbortedError, StepFailedError } from "../pipeline/run.ts";
import { StageError } from "../stages/stage.ts";

/** Exit codes. */
export const EXIT = { ok: 0, failure: 1, invalid: 2, interrupted: 130 } as const;

/** Wrong command-line usage (exit code 2). */
export class UsageError extends StylepipeError {}

/** The exit code for an error. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof RecipeError || e instanceof UsageError) return EXIT.invalid;
  if (e instanceof RunAbortedError) return EXIT.interrupted;
  return EXIT.failure;
}

/** The message lines for an error (stack traces only with `debug`). */
export function messagesOf(e: unknown, debug: boolean): string[] {
  if (e instanceof RecipeError) return e.issues.length ? e.message.split("\n") : [e.message];
  const known = e instanceof UsageError || e instanceof StepFailedError ||
    e instanceof RunAbortedError || e instanceof StageError;
  const message = e instanceof Error ? e.message : String(e);
  const lines = [`error: ${message}`];
  if (debug && e instanceof Error) {
    lines.push(e.stack ?? "");
    if (e.cause instanceof Error) lines.push(`caused by: ${e.cause.stack ?? e.cause.message}`);
  } else if (!known) lines.push("(run with --debug for details)");
  return lines;
}

/** Prints an error to stderr (or as a JSON line on stdout with `json`) and returns its exit code. */
export function reportError(e: unknown, options: { debug: boolean; json: boolean }): number {
  const code = exitCodeOf(e);
  const messages = messagesOf(e, options.debug);
  if (options.json) {
    const issues = e instanceof RecipeError ? e.issues : undefined;
    console.log(JSON.stringify({ type: "error", exitCode: code, messages, issues }));
  } else {
    for (const m of messages) console.error(m);
  }
  return code;
}
