/**
 * File lookup for a run: input files are searched in the recipe's folder, then `$STYLEPIPE_IMAGES`,
 * then `./pipelines/images`; outputs go under the output directory (default `out/`) and may not
 * leave it unless the recipe sets `allow_outside_output: true`, nor overwrite an input, the recipe
 * or a plugin. Containment is decided on real paths (symbolic links resolved), once when the plan
 * is made and again just before each write.
 */
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
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
  /** Files never written whatever the path: the recipe file and its plugins' modules. */
  readonly protectedFiles?: readonly string[];
  /**
   * Folders that every input and output must lie in on real paths, whatever the recipe allows
   * (a farm worker's `--root`); absent: no such bound.
   */
  readonly roots?: readonly string[];
}

/** Longest output path accepted, and longest single name in it (bytes, as most file systems). */
const MAX_PATH_BYTES = 4096;
const MAX_NAME_BYTES = 255;

/** Symbolic links followed before a path is refused as a loop (as most systems' limit). */
const MAX_LINK_HOPS = 40;

/**
 * `path` resolved with every symbolic link followed, also when its last parts do not exist yet
 * (the deepest existing folder is resolved and the rest appended) and through dangling links
 * (a link to a file not yet written is followed to where the write would land).
 */
export function realPathOf(path: string): string {
  let existing = resolve(path);
  const rest: string[] = [];
  for (let hops = 0; hops <= MAX_LINK_HOPS;) {
    try {
      return join(Deno.realPathSync(existing), ...rest);
    } catch (e) {
      if (e instanceof Deno.errors.FilesystemLoop) break;
      if (!(e instanceof Deno.errors.NotFound) && !(e instanceof Deno.errors.NotADirectory)) {
        throw e;
      }
    }
    const link = danglingLink(existing);
    if (link !== undefined) {
      existing = resolve(dirname(existing), link);
      hops++;
      continue;
    }
    const parent = dirname(existing);
    if (parent === existing) return join(existing, ...rest);
    rest.unshift(basename(existing));
    existing = parent;
  }
  throw new StageError(`${path}: too many symbolic links (a loop?)`);
}

/** The target of `path` when it is a symbolic link (that could not be resolved), else undefined. */
function danglingLink(path: string): string | undefined {
  try {
    return Deno.lstatSync(path).isSymlink ? Deno.readLinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

function inside(folder: string, target: string): boolean {
  const rel = relative(folder, target);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

/**
 * Throws {@link StageError} unless `path`, with every symbolic link resolved, is one of `roots` or
 * lies below one (on real paths); `what` names the path in the message. No roots: no bound.
 */
export function confineToRoots(path: string, roots: readonly string[] | undefined, what: string) {
  if (!roots) return;
  const real = realPathOf(path);
  if (roots.some((r) => real === realPathOf(r) || inside(realPathOf(r), real))) return;
  const shown = real === resolve(path) ? real : `${resolve(path)} (really ${real})`;
  throw new StageError(
    `${what} ${shown} is outside this worker's --root folders (${roots.join(", ")})`,
  );
}

/**
 * Where an output `path` (relative to the output directory) is written; throws {@link StageError}
 * when it is not a usable name, leaves the output directory (also through a symbolic link) and the
 * recipe does not allow that, or is one of `protectedFiles` (inputs, recipe, plugins).
 */
export function confineOutput(
  path: string,
  options: PathOptions,
  protectedFiles: Iterable<string>,
): string {
  if (path.includes("\0")) throw new StageError(`output path contains a NUL character`);
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_PATH_BYTES) {
    throw new StageError(`output path is ${bytes} bytes long; at most ${MAX_PATH_BYTES}`);
  }
  const longest = path.split(/[\\/]/).find((n) =>
    new TextEncoder().encode(n).length > MAX_NAME_BYTES
  );
  if (longest !== undefined) {
    throw new StageError(
      `output path has a name of more than ${MAX_NAME_BYTES} bytes ("${longest.slice(0, 40)}…")`,
    );
  }
  const outDir = resolve(options.outDir);
  const target = resolve(outDir, path);
  const real = realPathOf(target);
  if (!options.allowOutsideOutput) {
    if (!inside(outDir, target)) {
      throw new StageError(
        `output "${path}" is outside the output directory ${outDir}; ` +
          `use a relative path, or set "allow_outside_output: true" in the recipe`,
      );
    }
    const realOut = realPathOf(outDir);
    if (!inside(realOut, real)) {
      throw new StageError(
        `output "${path}" leads through a symbolic link to ${real}, outside the output ` +
          `directory ${realOut}; remove the link, or set "allow_outside_output: true" in the recipe`,
      );
    }
  }
  confineToRoots(target, options.roots, `output "${path}" at`);
  for (const f of protectedFiles) {
    if (target === resolve(f) || real === realPathOf(f)) {
      throw new StageError(`output "${path}" would overwrite ${resolve(f)}; choose another path`);
    }
  }
  return target;
}

/** Public sources of the example images (jcjohnson/neural-style, MIT; paintings public domain). */
const EXAMPLE_SOURCE =
  "https://raw.githubusercontent.com/jcjohnson/neural-style/master/examples/inputs/";
/** The example photo and paintings (jcjohnson/neural-style's inputs), by file name. */
export const EXAMPLE_IMAGES: ReadonlySet<string> = new Set([
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
      if (!(await Deno.stat(c)).isFile) continue;
    } catch {
      continue; // try the next folder
    }
    confineToRoots(c, options.roots, `input "${path}" at`);
    return c;
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

/** The sidecar path of an output: `NAME.png` → `NAME.png.json`. */
export function sidecarPath(output: string): string {
  return `${output}.json`;
}

/** The {@link PathResolver} of one run. */
export class RunPaths implements PathResolver {
  /** @param options folders @param inputs absolute paths of the recipe's input files */
  constructor(readonly options: PathOptions, readonly inputs: ReadonlySet<string>) {}

  /** Resolves an input file (see {@link findInput}). */
  input(path: string): Promise<string> {
    return findInput(path, this.options);
  }

  /**
   * Resolves an output path under the output directory, checked on real paths just before the
   * write (see {@link confineOutput}).
   */
  output(path: string): string {
    return confineOutput(path, this.options, [
      ...this.inputs,
      ...this.options.protectedFiles ?? [],
    ]);
  }
}
