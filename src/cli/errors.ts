/** How the CLI turns errors into one readable message and an exit code (no stack trace unless --debug). */
import { EXIT, messageOf, StylepipeError } from "../util/errors.ts";
import { printable } from "../util/printable.ts";
import { RecipeError } from "../recipe/errors.ts";
import { StepFailedError } from "../pipeline/run.ts";

/** The exit codes, where every command imports them from. */
export { EXIT };

/** Wrong command-line usage (exit code 2). */
export class UsageError extends StylepipeError {
  override readonly exitCode = EXIT.invalid;
}

/** The exit code for an error: its family's, or 1 for an error outside the family. */
export function exitCodeOf(e: unknown): number {
  return e instanceof StylepipeError ? e.exitCode : EXIT.failure;
}

/**
 * Whether `e` is a fault in stylepipe rather than something the user can act on: an error outside
 * the {@link StylepipeError} family, also when a failed step wraps one.
 */
function isUnknown(e: unknown): boolean {
  return !((e instanceof StepFailedError ? e.cause : e) instanceof StylepipeError);
}

/** The message lines for an error (stack traces only with `debug`; `--debug` suggested only for unknown errors). */
export function messagesOf(e: unknown, debug: boolean): string[] {
  if (e instanceof RecipeError) return e.message.split("\n"); // every line positioned
  const lines = [`error: ${printable(messageOf(e))}`]; // no raw control characters to a terminal
  if (e instanceof Deno.errors.NotCapable) {
    lines.push("stylepipe needs Deno's permissions: run it through deno task, or deno run -A");
    return lines;
  }
  if (debug && e instanceof Error) {
    lines.push(e.stack ?? "");
    if (e.cause instanceof Error) lines.push(`caused by: ${e.cause.stack ?? e.cause.message}`);
  } else if (isUnknown(e)) lines.push("(run with --debug for details)");
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
