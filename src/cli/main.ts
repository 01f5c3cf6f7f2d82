/** The `stylepipe` command line: dispatches to the commands. */
import { benchCommand } from "./bench.ts";
import { cacheCommand } from "./cache.ts";
import { queueCommand } from "./queue.ts";
import { scoreCommand } from "./score.ts";
import { submitCommand } from "./submit.ts";
import { workerCommand } from "./worker.ts";
import { recipeCommand } from "./recipe.ts";
import { planCommand } from "./plan.ts";
import { renderCommand } from "./render.ts";
import { scheduleCommand } from "./schedule.ts";
import { schemaCommand } from "./schema.ts";
import { stagesCommand } from "./stages.ts";
import { validateCommand } from "./validate.ts";
import { verifyCommand } from "./verify.ts";
import { weightsCommand } from "./weights.ts";
import { EXIT } from "./errors.ts";
import { initCommand } from "./init.ts";
import { plotCommand } from "./plot.ts";
import { serveCommand } from "./serve.ts";
import { didYouMean } from "../recipe/suggest.ts";
import { STYLEPIPE_VERSION } from "../version.ts";

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  render: { run: renderCommand, summary: "run a recipe (cached steps are reused)" },
  validate: { run: validateCommand, summary: "check a recipe; errors as file:line:col" },
  plan: { run: planCommand, summary: "order, cache state and estimates of a recipe's steps" },
  stages: { run: stagesCommand, summary: "list stages and their parameters" },
  schema: { run: schemaCommand, summary: "write pipelines/recipe.schema.json" },
  init: { run: initCommand, summary: "write a starter recipe" },
  plot: { run: plotCommand, summary: "draw an output's loss curve (SVG)" },
  serve: { run: serveCommand, summary: "web page: start renders, watch previews and loss live" },
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
    summary: "render recipes on their cron schedule (--queue: as farm schedulers)",
  },
  submit: {
    run: submitCommand,
    summary: "queue a recipe's renders for the render farm",
  },
  worker: {
    run: workerCommand,
    summary: "render jobs from the render farm's queue",
  },
  queue: {
    run: queueCommand,
    summary: "the render farm's jobs: progress, retry, remove",
  },
  recipe: {
    run: recipeCommand,
    summary: "print the recipe that made an output",
  },
  cache: {
    run: cacheCommand,
    summary: "list, size or prune the step cache",
  },
};

const HELP = `Usage: deno task <command> [args]   (or: deno run -A mod.ts <command> [args])
       deno run -A mod.ts --version

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
  const beforeDashes = args.indexOf("--") < 0 ? args : args.slice(0, args.indexOf("--"));
  if (name === "version" || beforeDashes.includes("--version") || beforeDashes.includes("-V")) {
    console.log(`stylepipe ${STYLEPIPE_VERSION} (deno ${Deno.version.deno})`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(
      `error: unknown command "${name}"${didYouMean(name, Object.keys(COMMANDS))}\n\n${HELP}`,
    );
    return EXIT.invalid;
  }
  return await command.run(rest);
}
