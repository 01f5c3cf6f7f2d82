/** Loading a recipe for a command: built-in stages, recipe extensions, engine names, `--set`. */
import { engineNames } from "../neural/engines/providers.ts";
import { scheduleExtension } from "../pipeline/schedule.ts";
import { loadRecipe } from "../recipe/load.ts";
import { matrixExtension } from "../recipe/matrix.ts";
import type { Recipe } from "../recipe/recipe.ts";
import { builtinStages } from "../stages/builtin.ts";

/** What the commands may override. */
export interface CliRecipeOptions {
  readonly sets?: readonly string[];
  readonly engine?: string;
}

/** Loads and validates a recipe with everything the CLI knows (throws RecipeError). */
export async function loadCliRecipe(file: string, options: CliRecipeOptions = {}): Promise<Recipe> {
  return await loadRecipe(file, {
    registry: builtinStages(),
    sets: options.sets,
    engine: options.engine,
    engineNames,
    extensions: [matrixExtension(), scheduleExtension()],
  });
}
