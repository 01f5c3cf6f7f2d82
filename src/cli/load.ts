/** Loading a recipe for a command: built-in stages, recipe extensions, engine names, `--set`. */
import { scheduleExtension } from "../pipeline/schedule.ts";
import { RecipeError } from "../recipe/errors.ts";
import { attributeSets } from "../recipe/set_attribution.ts";
import { type Plan, planRecipe } from "../pipeline/plan.ts";
import { loadRecipe, parseRecipe, readRecipeText } from "../recipe/load.ts";
import { matrixExtension } from "../recipe/matrix.ts";
import type { PluginPolicy } from "../recipe/plugins.ts";
import type { Recipe } from "../recipe/recipe.ts";
import { scalesExtension } from "../recipe/scales.ts";
import { didYouMean } from "../recipe/suggest.ts";
import { builtinStages } from "../stages/builtin.ts";

/** What the commands may override. */
export interface CliRecipeOptions {
  readonly sets?: readonly string[];
  readonly engine?: string;
  /** Whether plugin modules are imported (default: yes; validate/plan only with --allow-plugins). */
  readonly plugins?: PluginPolicy;
  /** The recipe's text, when it is not (yet) the file's (the page's editor); `file` names it. */
  readonly text?: string;
}

/**
 * Loads, validates and plans a recipe (throws RecipeError); a problem caused by a `--set` value,
 * found while loading or planning, says so.
 */
export async function planCliRecipe(
  file: string,
  options: CliRecipeOptions & {
    readonly outDir?: string;
    readonly memory?: number;
    /** Whether `engine: auto` is resolved (probing the engines); validate needs no engine. */
    readonly resolveEngine?: boolean;
  },
): Promise<Plan> {
  const recipe = await loadCliRecipe(file, options);
  try {
    return await planRecipe(recipe, {
      outDir: options.outDir,
      memory: options.memory,
      resolveEngine: options.resolveEngine === false ? (name) => Promise.resolve(name) : undefined,
    });
  } catch (e) {
    if (!(e instanceof RecipeError) || !options.sets?.length) throw e;
    const text = await readRecipeText(file);
    throw new RecipeError(attributeSets(e.issues, text, options.sets));
  }
}

/** Loads and validates a recipe with everything the CLI knows (throws RecipeError). */
export async function loadCliRecipe(file: string, options: CliRecipeOptions = {}): Promise<Recipe> {
  const loadOptions = {
    registry: builtinStages(),
    sets: options.sets,
    engine: options.engine,
    extensions: [matrixExtension(), scalesExtension(), scheduleExtension()],
    plugins: options.plugins,
  };
  const recipe = options.text === undefined
    ? await loadRecipe(file, loadOptions)
    : await parseRecipe(options.text, file, loadOptions);
  // The engine modules load tfjs; import them only when a recipe names an engine.
  if (recipe.engine !== "auto") {
    const { engineNames } = await import("../neural/engines/providers.ts");
    if (!engineNames.includes(recipe.engine)) {
      throw new RecipeError([{
        file,
        pos: recipe.at(["engine"]),
        message: `unknown engine "${recipe.engine}"${didYouMean(recipe.engine, engineNames)}; ` +
          `choose one of ${engineNames.join(", ")}`,
      }]);
    }
  }
  return recipe;
}
