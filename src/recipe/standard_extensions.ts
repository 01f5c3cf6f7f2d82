/** The recipe extensions stylepipe ships: `matrix:`, `scales:` and `schedule:`. */
import { scheduleExtension } from "../pipeline/schedule.ts";
import type { RecipeExtension } from "./extensions.ts";
import { matrixExtension } from "./matrix.ts";
import { scalesExtension } from "./scales.ts";

/** New instances of the shipped extensions, in the order they apply. */
export function standardExtensions(): RecipeExtension[] {
  return [matrixExtension(), scalesExtension(), scheduleExtension()];
}
