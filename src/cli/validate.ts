/** `validate <recipe>`: checks a recipe (and that its input files exist) without running it. */
import { parseCommandArgs, recipeArg } from "./args.ts";
import { EXIT, reportError } from "./errors.ts";
import { planCliRecipe } from "./load.ts";

const HELP =
  `Usage: deno task validate <recipe.yaml> [--set name=value]… [--allow-plugins] [--json] [--debug]

Checks the recipe: YAML syntax, stages, parameters, "from:" wiring, cycles, variables, input files,
output paths. Prints every problem as file:line:col and exits 2 when there is any; exits 0 when the
recipe is valid. Plugins are code: they are loaded (and run) only with --allow-plugins.`;

/** Runs the `validate` command; returns the exit code. */
export async function validateCommand(args: string[]): Promise<number> {
  const debug = args.includes("--debug");
  let json = args.includes("--json");
  try {
    const { values, positionals } = parseCommandArgs("validate", args, {
      set: { type: "string", multiple: true },
      "allow-plugins": { type: "boolean" },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    json = !!values.json;
    const file = recipeArg("validate", positionals);
    const { recipe } = await planCliRecipe(file, {
      sets: values.set,
      plugins: values["allow-plugins"] ? "load" : "refuse",
      resolveEngine: false,
    });
    if (json) {
      console.log(JSON.stringify({ type: "valid", recipe: file, steps: recipe.steps.length }));
    } else console.log(`${file}: valid (${recipe.steps.length} steps)`);
    return EXIT.ok;
  } catch (e) {
    return reportError(e, { debug, json });
  }
}
