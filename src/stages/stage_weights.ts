/**
 * The one path from the weights lookup to a stage: a {@link WeightsError} (no weights folder, a
 * damaged file, a layer the weights lack) becomes the {@link StageError} or problem a user sees.
 */
import { WeightsError } from "../neural/models/weights_error.ts";
import { availableConvs, loadVggWeights, requireLayers } from "../neural/models/weights.ts";
import type { VggWeights } from "../neural/models/weights_types.ts";
import { StageError } from "./stage.ts";

/**
 * What is wrong with using `model` for `layers`, or undefined when nothing is (validation time:
 * reads only the folder listing and headers).
 */
export async function weightsProblem(
  weightsDirs: readonly string[],
  model: string,
  layers: readonly string[],
): Promise<string | undefined> {
  try {
    return requireLayers(await availableConvs(weightsDirs, model), layers);
  } catch (e) {
    if (e instanceof WeightsError) return e.message;
    throw e;
  }
}

/** Loads `model`'s weights, first checking they have `layers`; throws {@link StageError}. */
export async function stageWeights(
  weightsDirs: readonly string[],
  model: string,
  layers: readonly string[] = [],
): Promise<VggWeights> {
  const problem = layers.length > 0 ? await weightsProblem(weightsDirs, model, layers) : undefined;
  if (problem) throw new StageError(problem);
  try {
    return await loadVggWeights(weightsDirs, model);
  } catch (e) {
    if (e instanceof WeightsError) throw new StageError(e.message);
    throw e;
  }
}
