/**
 * stylepipe: declarative YAML image pipelines with neural style transfer.
 *
 * @example Render a recipe
 * ```ts
 * import { loadRecipe, planRecipe, runPlan } from "./mod.ts";
 * const recipe = await loadRecipe("pipelines/photo-basics.yaml", { sets: { size: 64 } });
 * const plan = await planRecipe(recipe, { outDir: await Deno.makeTempDir() });
 * const { outputs } = await runPlan(plan, { cache: null }); // or new CacheStore(".stylepipe/cache")
 * console.log(outputs);
 * ```
 *
 * Run directly (`deno run -A mod.ts <command>`, or by URL), it is the command line.
 *
 * @module
 */
export { type LoadOptions, loadRecipe, parseRecipe } from "./src/recipe/load.ts";
export { type ErrorPosition, StylepipeError } from "./src/util/errors.ts";
export { formatIssue, type Position, RecipeError, type RecipeIssue } from "./src/recipe/errors.ts";
export type { Recipe, RecipeStep } from "./src/recipe/recipe.ts";
export type { ExtensionContext, RecipeExtension } from "./src/recipe/extensions.ts";
export { recipeJsonSchema } from "./src/recipe/schema.ts";
export { type Plan, type PlannedStep, type PlanOptions, planRecipe } from "./src/pipeline/plan.ts";
export {
  type EngineFactory,
  RunAbortedError,
  type RunOptions,
  runPlan,
  type RunResult,
  StepFailedError,
} from "./src/pipeline/run.ts";
export { CacheStore, DEFAULT_CACHE_DIR } from "./src/pipeline/cache.ts";
export type { CacheRead, StepStore } from "./src/pipeline/store.ts";
export type { EventSink, RunEvent, StepSummary } from "./src/pipeline/events.ts";
export { StageRegistry } from "./src/stages/registry.ts";
export { builtinStages } from "./src/stages/builtin.ts";
export * from "./src/stages/stage.ts";
export { createImage, type RgbImage } from "./src/image/image.ts";
export {
  CodecError,
  decodeImage,
  type DecodeOptions,
  encodeImage,
  encodeJpeg,
  type EncodeOptions,
  encodePng,
  type ImageFormat,
  readImageHeader,
} from "./src/image/codecs.ts";
export { resizeImage } from "./src/image/resample.ts";
export { main } from "./src/cli/main.ts";

if (import.meta.main) {
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(Deno.args));
}
