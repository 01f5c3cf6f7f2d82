/**
 * File lookup for a run: input files are searched in the recipe's folder, then `$STYLEPIPE_IMAGES`,
 * then `./pipelines/images`; outputs go under the output directory (default `out/`) and may not
 * leave it unless the recipe sets `allow_outside_output: true`, nor overwrite an input.
 */
import { isAbsolute, relative, resolve } from "node:path";
import { type PathResolver, StageError } from "../stages/stage.ts";

/** Where to look and where to write. */
export interface PathOptions {
  /** The recipe's folder (searched first). */
  readonly recipeDir: string;
  /** Further folders searched for inputs, in order. */
  readonly imageDirs: readonly string[];
  /** The output directory. */
  readonly outDir: string;
  /** Whether outputs may be written outside {@link outDir}. */
  readonly allowOutsideOutput: boolean;
}

/** Public sources of the example images (jcjohnson/neural-style, MIT; paintings public domain). */
const EXAMPLE_SOURCE =
  "https://raw.githubusercontent.com/jcjohnson/neural-style/master/examples/inputs/";
const EXAMPLE_IMAGES = new Set([
  "tubingen.jpg",
  "starry_night.jpg",
  "the_scream.jpg",
  "shipwreck.jpg",
  "seated-nude.jpg",
  "picasso_selfport1907.jpg",
  "woman-with-hat-matisse.jpg",
]);

/** The folders an input path is searched in, in order (absolute paths: only themselves). */
export function inputCandidates(path: string, options: PathOptions): string[] {
  if (isAbsolute(path)) return [path];
  return [options.recipeDir, ...options.imageDirs].map((d) => resolve(d, path));
}

/** Finds an input file; throws {@link StageError} saying exactly where to put it. */
export async function findInput(path: string, options: PathOptions): Promise<string> {
  const candidates = inputCandidates(path, options);
  for (const c of candidates) {
    try {
      if ((await Deno.stat(c)).isFile) return c;
    } catch {
      // try the next folder
    }
  }
  throw new StageError(missingInputMessage(path, candidates));
}

/** The message for an input file found nowhere: where it was looked for and how to provide it. */
export function missingInputMessage(path: string, looked: readonly string[]): string {
  const name = path.split(/[\\/]/).pop()!;
  const source = EXAMPLE_IMAGES.has(name)
    ? ` It is one of the example images: download ${EXAMPLE_SOURCE}${name} into ./pipelines/images/.`
    : "";
  return `input file "${path}" not found; looked in ${looked.join(", ")}. ` +
    `Put it next to the recipe or in the folder named by $STYLEPIPE_IMAGES ` +
    `(default ./pipelines/images).${source}`;
}

/** The {@link PathResolver} of one run. */
export class RunPaths implements PathResolver {
  /** @param options folders @param inputs absolute paths of the recipe's input files */
  constructor(readonly options: PathOptions, readonly inputs: ReadonlySet<string>) {}

  /** Resolves an input file (see {@link findInput}). */
  input(path: string): Promise<string> {
    return findInput(path, this.options);
  }

  /** Resolves an output path under the output directory; refuses escapes and inputs. */
  output(path: string): string {
    const outDir = resolve(this.options.outDir);
    const target = resolve(outDir, path);
    const rel = relative(outDir, target);
    const outside = rel === "" || rel.startsWith("..") || isAbsolute(rel);
    if (outside && !this.options.allowOutsideOutput) {
      throw new StageError(
        `output "${path}" is outside the output directory ${outDir}; ` +
          `use a relative path, or set "allow_outside_output: true" in the recipe`,
      );
    }
    if (this.inputs.has(target)) {
      throw new StageError(`output "${path}" would overwrite the input file ${target}`);
    }
    return target;
  }
}
