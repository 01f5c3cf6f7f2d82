/** The `stylepipe` command line: dispatches to the commands. */
import { benchCommand } from "./bench.ts";
import { planCommand } from "./plan.ts";
import { renderCommand } from "./render.ts";
import { scheduleCommand } from "./schedule.ts";
import { scoreCommand } from "./score.ts";
import { schemaCommand } from "./schema.ts";
import { stagesCommand } from "./stages.ts";
import { validateCommand } from "./validate.ts";
import { verifyCommand } from "./verify.ts";
import { weightsCommand } from "./weights.ts";
import { EXIT } from "./errors.ts";

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  render: { run: renderCommand, summary: "run a recipe (cached steps are reused)" },
  validate: { run: validateCommand, summary: "check a recipe; errors as file:line:col" },
  plan: { run: planCommand, summary: "order, cache state and estimates of a recipe's steps" },
  stages: { run: stagesCommand, summary: "list stages and their parameters" },
  schema: { run: schemaCommand, summary: "write pipelines/recipe.schema.json" },
  weights: {
    run: (args) => weightsCommand(args),
    summary: "list, fetch or import model weights",
  },
  bench: { run: benchCommand, summary: "benchmark the engines" },
  verify: {
    run: verifyCommand,
    summary: "re-render an output from its provenance",
  },
  score: {
    run: scoreCommand,
    summary: "content and style distances of an image (fixed definition)",
  },
  schedule: {
    run: scheduleCommand,
    summary: "render recipes on their cron schedule",
  },
};

const HELP = `Usage: deno task <command> [args]   (or: deno run -A mod.ts <command> [args])

Commands:
${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(9)} ${c.summary}`).join("\n")}

Run a command with --help for its options.`;

/** Runs the CLI with `args` (without the program name); returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(HELP);
    return name === undefined ? EXIT.invalid : EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`error: unknown command "${name}"\n\n${HELP}`);
    return EXIT.invalid;
  }
  return await command.run(rest);
}
