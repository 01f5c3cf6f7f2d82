/**
 * Re-rendering an output from its provenance record and comparing the result with the file:
 * the core of `deno task verify`. The recorded steps (parameters already resolved) become a recipe
 * again. Each input is found by its SHA-256: where the sidecar says it was, by its recorded path
 * (beside the recipe, in the lookup folders), or by searching those folders for the hash; the
 * recipe is anchored so inputs resolve as they did. It runs with the cache bypassed into a
 * temporary output folder, and the new file is compared byte for byte, then pixel by pixel.
 */
import { parse as parseYaml } from "npm:yaml@2.9.1";
import { dirname, join, resolve } from "node:path";
import { decodeImage } from "../image/codecs.ts";
import type { RgbImage } from "../image/image.ts";
import { parseRecipe } from "../recipe/load.ts";
import type { StageRegistry } from "../stages/registry.ts";
import { sha256File } from "../util/hash.ts";
import { planRecipe } from "./plan.ts";
import type { MemoryFit } from "../stages/stage.ts";
import {
  ProvenanceError,
  type ProvenanceRecord,
  readProvenance,
  type RecordedInput,
  type RecordedStep,
} from "./provenance.ts";
import type { PluginPolicy } from "../recipe/plugins.ts";
import { sidecarPath } from "./paths.ts";
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
  /** Whether the original recipe's plugins are imported (default: refused, reported as not loaded). */
  readonly plugins?: PluginPolicy;
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
  const located = await locateInputs(output, record, options.imageDirs ?? [], notes);
  const engine = record.engine?.name ?? "auto";
  const recipeFile = join(located.recipeDir, record.recipe.file);
  const text = JSON.stringify({
    ...recordedRecipe(record, located.renamed),
    plugins: await recipePlugins(recipeFile),
  });
  const recipe = await parseRecipe(text, recipeFile, {
    registry: options.registry,
    weightsDirs: options.weightsDirs,
    plugins: options.plugins ?? "refuse",
  });
  for (const s of record.recipe.steps) {
    const now = recipe.registry.get(s.use)?.version;
    if (now !== s.version) {
      notes.push(`stage "${s.use}" is version ${now}, the render used ${s.version}`);
    }
  }

  const tmp = await Deno.makeTempDir({ prefix: "stylepipe-verify-" });
  try {
    const plan = await planRecipe(recipe, {
      outDir: tmp,
      imageDirs: located.imageDirs,
      fits: recordedFits(record),
    });
    const result = await runPlan(plan, {
      cache: null,
      signal: options.signal,
      engineFactory: options.engineFactory,
      weightsDirs: options.weightsDirs,
    });
    const value = result.values.get(record.output.step);
    if (value?.kind !== "file") {
      throw new ProvenanceError(`the re-render produced no file at step "${record.output.step}"`);
    }
    const [original, again] = [await Deno.readFile(output), await Deno.readFile(value.path)];
    const comparison = compareImages(await decodeImage(original), await decodeImage(again));
    if (located.changedInputs.length) {
      notes.push(
        comparison.identicalPixels
          ? `the changed ${located.changedInputs.join(", ")} gives the same pixels: only what ` +
            `does not reach them (EXIF or other metadata) differs from the render's`
          : `${
            located.changedInputs.join(", ")
          } changed since the render: it may explain the difference`,
      );
    }
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

/**
 * The memory fits (tile, L-BFGS pairs) the render's steps ran with, from their results: the
 * re-render evaluates alike whatever this machine's budget, since tiling changes the bytes.
 */
function recordedFits(record: ProvenanceRecord): Map<string, MemoryFit> {
  const fits = new Map<string, MemoryFit>();
  for (const [id, result] of Object.entries(record.results)) {
    const fit = (result as { memory_fit?: MemoryFit } | null)?.memory_fit;
    if (fit) fits.set(id, fit);
  }
  return fits;
}

/**
 * The recipe a record describes, ready to render again: name, seed, the engine used and the steps
 * the output depends on, with every variable and `--set` value already applied.
 */
export function recordedRecipe(
  record: ProvenanceRecord,
  renamed: ReadonlyMap<string, string> = new Map(),
) {
  return {
    version: 1,
    name: record.recipe.name,
    seed: record.recipe.seed,
    engine: record.engine?.name ?? "auto",
    steps: record.recipe.steps.map((s) => recipeStep(s, renamed)),
  };
}

/**
 * A recorded step as a recipe step (single inputs as a plain id); a `path` parameter naming an
 * input found only under another name is replaced by where it was found.
 */
function recipeStep(s: RecordedStep, renamed: ReadonlyMap<string, string> = new Map()) {
  const from = Object.fromEntries(
    Object.entries(s.from).map(([name, ids]) => [name, ids.length === 1 ? ids[0] : ids]),
  );
  const path = (s.with as Record<string, unknown> | null)?.path;
  const params = typeof path === "string" && renamed.has(path)
    ? { ...s.with as Record<string, unknown>, path: renamed.get(path) }
    : s.with;
  return { id: s.id, use: s.use, ...(Object.keys(from).length ? { from } : {}), with: params };
}

/** Where the re-render finds its inputs. */
interface LocatedInputs {
  /** The folder the recipe is anchored at. */
  readonly recipeDir: string;
  /** Lookup folders: those the inputs were found in first, then the usual ones. */
  readonly imageDirs: readonly string[];
  /** Recorded path → absolute path, for inputs found only under another name. */
  readonly renamed: ReadonlyMap<string, string>;
  /** Recorded paths of inputs found under their name with other bytes (edited since). */
  readonly changedInputs: readonly string[];
}

/** Files searched by hash per folder tree at most (a bound on the search, not on correctness). */
const HASH_SEARCH_LIMIT = 5000;

/**
 * Finds every recorded input by its SHA-256: at the path the sidecar recorded on this machine, at
 * its recorded path beside the recipe or in a lookup folder (or beside the output), else by
 * searching those folders (three levels deep) for a file with that hash. Adds a note for each
 * input found elsewhere or not at all.
 */
export async function locateInputs(
  output: string,
  record: ProvenanceRecord,
  imageDirs: readonly string[],
  notes: string[],
): Promise<LocatedInputs> {
  const run = await sidecarRun(output);
  const recipeFile = run?.recipe;
  let recipeDir = recipeFile && await exists(recipeFile) ? dirname(recipeFile) : undefined;
  const outputDir = dirname(resolve(output));
  const foundIn: string[] = [];
  const renamed = new Map<string, string>();
  const changedInputs: string[] = [];
  const searched = [...new Set([recipeDir ?? outputDir, ...imageDirs, outputDir, Deno.cwd()])];
  for (const input of record.inputs as readonly RecordedInput[]) {
    const candidates = [
      run?.inputs?.[input.path],
      ...searched.map((d) => resolve(d, input.path)),
    ].filter((c): c is string => c !== undefined);
    let found: string | undefined;
    for (const c of candidates) {
      if (await hashOf(c) === input.sha256) {
        found = c;
        break;
      }
    }
    found ??= await searchByHash(searched, input.sha256);
    const changed = found === undefined ? await firstExisting(candidates) : undefined;
    if (changed !== undefined) {
      // The file is there under its name, with other bytes: it was edited after the render.
      notes.push(
        `input ${input.path} changed since the render (sha256 ${input.sha256.slice(0, 12)}… ` +
          `then, ${(await hashOf(changed))?.slice(0, 12)}… now: ${changed}); re-rendered from it`,
      );
      changedInputs.push(input.path);
      continue;
    }
    if (found === undefined) {
      notes.push(
        `input ${input.path} (sha256 ${input.sha256.slice(0, 12)}…) not found in ` +
          `${searched.join(", ")}`,
      );
      continue;
    }
    const folder = found.endsWith(input.path) &&
        resolve(found.slice(0, -input.path.length), input.path) === found
      ? found.slice(0, -input.path.length)
      : undefined;
    if (folder === undefined) {
      renamed.set(input.path, found);
      notes.push(`input ${input.path} found by its hash as ${found}`);
    } else if (input.found === "recipe") {
      recipeDir ??= folder;
    } else {
      foundIn.push(folder);
    }
  }
  return {
    recipeDir: recipeDir ?? outputDir,
    imageDirs: [...new Set([...foundIn, ...imageDirs])],
    renamed,
    changedInputs,
  };
}

async function firstExisting(paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths) if (await exists(p)) return p;
  return undefined;
}

/** The `run` section of the output's sidecar, when there is one. */
async function sidecarRun(
  output: string,
): Promise<{ recipe?: string; inputs?: Record<string, string> } | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(sidecarPath(output)))?.run;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isFile, () => false);
}

async function hashOf(path: string): Promise<string | undefined> {
  return (await exists(path)) ? await sha256File(path).catch(() => undefined) : undefined;
}

/** The first file under `dirs` (three levels deep) whose SHA-256 is `sha256`. */
async function searchByHash(dirs: readonly string[], sha256: string): Promise<string | undefined> {
  for (const dir of dirs) {
    let budget = HASH_SEARCH_LIMIT;
    const walk = async (folder: string, depth: number): Promise<string | undefined> => {
      let entries: Deno.DirEntry[];
      try {
        entries = [...Deno.readDirSync(folder)].sort((a, b) => a.name < b.name ? -1 : 1);
      } catch {
        return undefined;
      }
      for (const e of entries) {
        if (budget <= 0) return undefined;
        const path = join(folder, e.name);
        if (e.isFile) {
          budget--;
          if (await sha256File(path).catch(() => undefined) === sha256) return path;
        } else if (e.isDirectory && depth < 3 && !SKIPPED.has(e.name)) {
          const hit = await walk(path, depth + 1);
          if (hit) return hit;
        }
      }
      return undefined;
    };
    const hit = await walk(resolve(dir), 0);
    if (hit) return hit;
  }
  return undefined;
}

/** Folders never searched for inputs (dependencies, caches, version control). */
const SKIPPED = new Set(["node_modules", ".git", ".stylepipe"]);

/**
 * The `plugins:` of the recipe that made `output` (as written, relative to that recipe's folder),
 * read from the recipe file the sidecar names; `[]` when there is none or it is gone.
 */
export async function originalPlugins(
  output: string,
): Promise<{ dir?: string; plugins: unknown[] }> {
  const recipe = (await sidecarRun(output))?.recipe;
  return recipe ? { dir: dirname(recipe), plugins: await recipePlugins(recipe) } : { plugins: [] };
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

/** Largest 8-bit sample difference between two images (colour and alpha). */
export function compareImages(
  a: RgbImage,
  b: RgbImage,
): Pick<Reproduction, "identicalPixels" | "maxDifference" | "at" | "size"> {
  const size = { original: `${a.width}×${a.height}`, reproduced: `${b.width}×${b.height}` };
  if (a.width !== b.width || a.height !== b.height) {
    return { identicalPixels: false, maxDifference: -1, size };
  }
  let max = 0;
  let pixel = -1;
  const q = (v: number) => Math.round(v * 255);
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(q(a.data[i]) - q(b.data[i]));
    if (d > max) [max, pixel] = [d, Math.floor(i / 3)];
  }
  if (a.alpha || b.alpha) { // a missing alpha plane is opaque
    for (let p = 0; p < a.width * a.height; p++) {
      const d = Math.abs(q(a.alpha?.[p] ?? 1) - q(b.alpha?.[p] ?? 1));
      if (d > max) [max, pixel] = [d, p];
    }
  }
  return {
    identicalPixels: max === 0,
    maxDifference: max,
    at: pixel < 0 ? undefined : { x: pixel % a.width, y: Math.floor(pixel / a.width) },
    size,
  };
}
