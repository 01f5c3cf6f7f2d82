/** Argument parsing shared by the commands (node:util parseArgs; usage errors exit with code 2). */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.ts";

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
  debug: { type: "boolean" },
  json: { type: "boolean" },
} as const;

/** Options of the commands that run a recipe (render, plan, schedule). */
export const RUN_OPTIONS = {
  set: { type: "string", multiple: true },
  engine: { type: "string" },
  "out-dir": { type: "string" },
  "cache-dir": { type: "string" },
} as const;

/** Parses `args` strictly; unknown options become a {@link UsageError} naming the command. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  args: string[],
  options: T,
) {
  try {
    return parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message} (see --help)`);
  }
}

/** The single recipe argument of a command, or a {@link UsageError}. */
export function recipeArg(command: string, positionals: string[]): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      `${command}: expected one recipe file, got ${positionals.length} (see --help)`,
    );
  }
  return positionals[0];
}
