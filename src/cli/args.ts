/** Argument parsing shared by the commands (node:util parseArgs; usage errors exit with code 2). */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { parse as parseYaml } from "npm:yaml@2.9.1";
import { didYouMean } from "../recipe/suggest.ts";
import { UsageError } from "./errors.ts";
import { messageOf } from "../util/errors.ts";

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

/** Options of the commands that print a run's progress (render, schedule). */
export const OUTPUT_OPTIONS = {
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
} as const;

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses `args` strictly. Unknown options (with a did-you-mean), a missing value and a value given
 * to a flag become a {@link UsageError} naming the command; parseArgs' own wording never reaches
 * the user.
 */
export function parseCommandArgs<T extends Options>(command: string, args: string[], options: T) {
  const all: Options = { ...COMMON_OPTIONS, ...options };
  checkOptions(command, args, all);
  try {
    return parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true });
  } catch (e) {
    throw new UsageError(`${command}: ${messageOf(e)} (see --help)`);
  }
}

/**
 * {@link parseCommandArgs} for a script run as a task (bench, build): a usage error prints the
 * message and `usage` and exits 2; `--help` prints `usage` and exits 0.
 */
export function parseScriptArgs<T extends Options>(
  command: string,
  usage: string,
  args: string[],
  options: T,
): ReturnType<typeof parseCommandArgs<T>> {
  let parsed;
  try {
    parsed = parseCommandArgs(command, args, options);
  } catch (e) {
    console.error(`error: ${messageOf(e)}\n${usage}`);
    Deno.exit(2);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    Deno.exit(0);
  }
  return parsed;
}

/** The checks parseArgs' strict mode makes, with messages a person can act on. */
function checkOptions(command: string, args: string[], options: Options): void {
  const longNames = Object.keys(options).map((n) => `--${n}`);
  const byShort = new Map(
    Object.entries(options).filter(([, o]) => o.short).map(([n, o]) => [o.short!, n]),
  );
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") return;
    if (!arg.startsWith("-") || arg === "-") continue;
    const eq = arg.indexOf("=");
    let name: string | undefined;
    if (arg.startsWith("--")) {
      name = arg.slice(2, eq < 0 ? undefined : eq);
      if (!(name in options)) {
        const hint = didYouMean(`--${name}`, longNames) ||
          ("set" in options ? setHint(name, args) : "");
        throw new UsageError(
          `${command}: unknown option "${
            arg.slice(0, eq < 0 ? undefined : eq)
          }"${hint} (see --help)`,
        );
      }
    } else {
      name = byShort.get(arg[1]);
      if (name === undefined || arg.length > 2) {
        throw new UsageError(`${command}: unknown option "${arg}" (see --help)`);
      }
    }
    const takesValue = options[name].type === "string";
    if (takesValue && eq < 0) {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) {
        throw new UsageError(`${command}: --${name} needs a value (see --help)`);
      }
      i++;
    } else if (!takesValue && eq >= 0) {
      throw new UsageError(`${command}: --${name} takes no value (see --help)`);
    }
  }
}

/**
 * For a command that takes `--set`: an unknown `--name` close to one of the recipe's variables
 * suggests `--set variable=…`; otherwise it says how variables are set.
 */
function setHint(name: string, args: readonly string[]): string {
  const file = args.find((a) => /\.ya?ml$/i.test(a));
  let vars: string[] = [];
  try {
    if (!file || Deno.statSync(file).size > 1 << 20) throw new RangeError("no small recipe");
    const doc = parseYaml(Deno.readTextFileSync(file)) as Record<string, unknown> | null;
    vars = Object.keys({ ...asRecord(doc?.vars), ...asRecord(doc?.matrix) });
  } catch {
    // No readable recipe: fall back to the general hint.
  }
  const match = didYouMean(name, vars).match(/"(.*)"/)?.[1];
  return match
    ? ` (did you mean "--set ${match}=…"?)`
    : ` (a recipe variable is set with --set ${name}=VALUE)`;
}

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : {};
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
