/**
 * `deno task recipe <output>`: prints the recipe that made an output (from its provenance record:
 * variables and `--set` values applied, only the steps the output depends on), as YAML that
 * `deno task render` accepts, so a shared image can be rendered again.
 */
import { stringify } from "npm:yaml@2.9.1";
import { readProvenance } from "../pipeline/provenance.ts";
import { originalPlugins, recordedRecipe } from "../pipeline/reproduce.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError, UsageError } from "./errors.ts";

const HELP = `Usage: deno task recipe <output> [--json]

Prints the recipe that made <output> (PNG with an embedded record, or any output with its
NAME.json sidecar), with every variable and --set value applied, as YAML (--json: as JSON).
Save it as the original recipe's file name and render it to make the same bytes again:
  deno task recipe out/tubingen-starry-conv3.png > tubingen-starry-conv3.yaml
Its inputs are listed with their SHA-256 in comments; they are looked up as usual. The
plugins: list comes from the original recipe file, when the sidecar names one that still exists.`;

/** Runs the `recipe` command; returns the exit code. */
export async function recipeCommand(args: string[]): Promise<number> {
  let json = false;
  let debug = false;
  try {
    const { values, positionals } = parseCommandArgs("recipe", args, {});
    json = !!values.json;
    debug = !!values.debug;
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    if (positionals.length !== 1) {
      throw new UsageError(`recipe: expected one output file, got ${positionals.length}`);
    }
    const record = await readProvenance(positionals[0]);
    const { dir, plugins } = await originalPlugins(positionals[0]);
    const { steps, ...head } = recordedRecipe(record);
    const recipe = { ...head, ...(plugins.length ? { plugins } : {}), steps };
    if (json) {
      console.log(JSON.stringify(recipe));
      return EXIT.ok;
    }
    const header = [
      `# The recipe that made ${positionals[0]} (originally ${record.recipe.file}; ` +
      `recipe hash ${record.recipe.hash.slice(0, 16)}…).`,
      ...record.inputs.map((i) => `# input ${i.path}: sha256 ${i.sha256}`),
      ...(plugins.length ? [`# plugins are relative to the original recipe's folder ${dir}`] : []),
    ];
    console.log(`${header.join("\n")}\n${stringify(recipe, { lineWidth: 100 })}`.trimEnd());
    return EXIT.ok;
  } catch (e) {
    return reportError(e, { debug, json });
  }
}
