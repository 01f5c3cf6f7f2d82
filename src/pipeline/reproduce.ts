/**
 * Re-rendering an output from its provenance record and comparing the result with the file:
 * the core of `deno task verify`. The recorded steps (parameters already resolved) become a recipe
 * again, anchored at the original recipe's folder so inputs resolve as they did; it runs with the
 * cache bypassed into a temporary output folder, and the new file is compared byte for byte, then
 * pixel by pixel.
 */
import { parse as parseYaml } from "yaml";
import { decodeImage } from "../image/codecs.ts";
import type { RgbImage } from "../image/image.ts";
import { parseRecipe } from "../recipe/load.ts";
import type { StageRegistry } from "../stages/registry.ts";
import { sha256File } from "../util/hash.ts";
import { planRecipe } from "./plan.ts";
import { readProvenance, type RecordedStep } from "./provenance.ts";
import { type EngineFactory, runPlan } from "./run.ts";

/** Options for {@link reproduce}. */
export interface ReproduceOptions {
  /** Stages available (built-ins; the original recipe's plugins are added from its file). */
  readonly registry: StageRegistry;
  /** Folders searched for inputs after the recipe's folder. */
  readonly imageDirs?: readonly string[];
  /** Folders searched for model weights. */
  readonly weightsDirs?: readonly string[];
  /** Creates the engine (default: the engine providers). */
  readonly engineFactory?: EngineFactory;
  /** Cancels the re-render. */
  readonly signal?: AbortSignal;
}

/** The outcome of a re-render. */
export interface Reproduction {
  /** Same file bytes (pixels and embedded record). */
  readonly identicalBytes: boolean;
  /** Same 8-bit pixels. */
  readonly identicalPixels: boolean;
  /** Largest difference of one 8-bit sample (0–255), and where (−1 when sizes differ). */
  readonly maxDifference: number;
  readonly at?: { readonly x: number; readonly y: number };
  /** Width × height of the original and of the re-render. */
  readonly size: { readonly original: string; readonly reproduced: string };
  /** Engine used for the re-render (as recorded). */
  readonly engine: string;
  /** Things that make a difference expected (changed inputs, other versions, stage versions). */
  readonly notes: readonly string[];
  /** Seconds the re-render took. */
  readonly seconds: number;
}

/** Re-renders `output` from its record and compares. Throws ProvenanceError / RecipeError / StepFailedError. */
export async function reproduce(output: string, options: ReproduceOptions): Promise<Reproduction> {
  const record = await readProvenance(output);
  const notes: string[] = [];
  for (const input of record.inputs) {
    const now = await sha256File(input.path).catch(() => undefined);
    if (now === undefined) notes.push(`input ${input.path} no longer exists`);
    else if (now !== input.sha256) notes.push(`input ${input.path} changed since the render`);
  }
  const engine = record.engine?.name ?? "auto";
  const text = JSON.stringify({
    version: 1,
    name: record.recipe.name,
    seed: record.recipe.seed,
    engine,
    plugins: await recipePlugins(record.recipe.file),
    steps: record.recipe.steps.map(recipeStep),
  });
  const recipe = await parseRecipe(text, record.recipe.file, {
    registry: options.registry,
    weightsDirs: options.weightsDirs,
  });
  for (const s of record.recipe.steps) {
    const now = recipe.registry.get(s.use)?.version;
    if (now !== s.version) {
      notes.push(`stage "${s.use}" is version ${now}, the render used ${s.version}`);
    }
  }

  const tmp = await Deno.makeTempDir({ prefix: "stylepipe-verify-" });
  try {
    const plan = await planRecipe(recipe, { outDir: tmp, imageDirs: options.imageDirs });
    const result = await runPlan(plan, {
      cache: null,
      signal: options.signal,
      engineFactory: options.engineFactory,
      weightsDirs: options.weightsDirs,
    });
    const value = result.values.get(record.output.step);
    if (value?.kind !== "file") {
      throw new Error(`the re-render produced no file at step "${record.output.step}"`);
    }
    const [original, again] = [await Deno.readFile(output), await Deno.readFile(value.path)];
    const comparison = compareImages(await decodeImage(original), await decodeImage(again));
    return {
      identicalBytes: equalBytes(original, again),
      ...comparison,
      engine,
      notes,
      seconds: result.seconds,
    };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** A recorded step as a recipe step (single inputs as a plain id). */
function recipeStep(s: RecordedStep) {
  const from = Object.fromEntries(
    Object.entries(s.from).map(([name, ids]) => [name, ids.length === 1 ? ids[0] : ids]),
  );
  return { id: s.id, use: s.use, ...(Object.keys(from).length ? { from } : {}), with: s.with };
}

/** The `plugins:` list of the original recipe, when its file still exists. */
async function recipePlugins(file: string): Promise<unknown[]> {
  const text = await Deno.readTextFile(file).catch(() => undefined);
  if (text === undefined) return [];
  try {
    const plugins = (parseYaml(text) as Record<string, unknown> | null)?.plugins;
    return Array.isArray(plugins) ? plugins : [];
  } catch {
    return [];
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Largest 8-bit sample difference between two images. */
export function compareImages(
  a: RgbImage,
  b: RgbImage,
): Pick<Reproduction, "identicalPixels" | "maxDifference" | "at" | "size"> {
  const size = { original: `${a.width}×${a.height}`, reproduced: `${b.width}×${b.height}` };
  if (a.width !== b.width || a.height !== b.height) {
    return { identicalPixels: false, maxDifference: -1, size };
  }
  let max = 0;
  let where = -1;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(Math.round(a.data[i] * 255) - Math.round(b.data[i] * 255));
    if (d > max) {
      max = d;
      where = i;
    }
  }
  const pixel = Math.floor(where / 3);
  return {
    identicalPixels: max === 0,
    maxDifference: max,
    at: where < 0 ? undefined : { x: pixel % a.width, y: Math.floor(pixel / a.width) },
    size,
  };
}
