/**
 * The folders the page may reach, and nothing else: recipes by name in the recipes folder, images
 * by name in the lookup folders (uploads among them), files inside the output folder. Every check
 * is made on real paths, so `..`, absolute paths and symbolic links pointing out are refused.
 */
import { isAbsolute, join, relative, resolve } from "node:path";

/** The folders of one server. */
export interface Folders {
  /** Recipes the page lists, starts and saves into. */
  readonly recipesDir: string;
  /** Where renders write (the gallery reads it). */
  readonly outDir: string;
  /** Where uploaded images go (the first lookup folder). */
  readonly uploadsDir: string;
  /** Folders searched for input images after the recipe's folder, uploads first. */
  readonly imageDirs: readonly string[];
}

/** A page-facing path error (the server answers 400 with it). */
export class FolderError extends Error {}

/** File names the page may create or name: letters, digits, `_ . -`, not starting with a dot. */
const SAFE_NAME = /^[\w-][\w.-]{0,127}$/;

/** Extensions of the images the page lists and accepts. */
export const IMAGE_EXTENSIONS = /\.(png|jpe?g|webp|tiff?|avif)$/i;

/** `path` when its real path lies inside `root` (also real), else undefined. */
export async function within(root: string, path: string): Promise<string | undefined> {
  try {
    const [realRoot, real] = await Promise.all([Deno.realPath(root), Deno.realPath(path)]);
    const rel = relative(realRoot, real);
    return rel && !rel.startsWith("..") && !isAbsolute(rel) ? real : undefined;
  } catch {
    return undefined;
  }
}

/** Checks a file name the page gives (no folder, no `..`, no leading dot, ≤ 128 characters). */
export function safeName(name: unknown, extension: RegExp, what: string): string {
  if (typeof name !== "string" || !SAFE_NAME.test(name) || !extension.test(name)) {
    throw new FolderError(
      `${what} must be a plain file name (letters, digits, _ . -) ending in ${extension.source}`,
    );
  }
  return name;
}

/** The recipe file called `name` in the recipes folder; throws when there is none. */
export async function recipeFile(folders: Folders, name: unknown): Promise<string> {
  const file = safeName(name, /\.ya?ml$/, "a recipe");
  const found = await within(folders.recipesDir, join(folders.recipesDir, file));
  if (!found) throw new FolderError(`no recipe "${file}" in the recipes folder`);
  return found;
}

/** Where "Save as" writes `name` in the recipes folder (a link or a path out is refused). */
export async function recipeTarget(folders: Folders, name: unknown): Promise<string> {
  const file = safeName(name, /\.yaml$/, "a recipe name");
  const target = join(await Deno.realPath(folders.recipesDir), file);
  const link = await Deno.lstat(target).catch(() => undefined);
  if (link?.isSymlink) throw new FolderError(`"${file}" is a link; choose another name`);
  return target;
}

/** The recipes folder's `*.yaml` names, sorted. */
export async function recipeNames(folders: Folders): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(folders.recipesDir)) {
    if (e.isFile && SAFE_NAME.test(e.name) && /\.ya?ml$/.test(e.name)) names.push(e.name);
  }
  return names.sort();
}

/** An image in a lookup folder: its name (what a recipe variable takes) and its folder. */
export interface ImageEntry {
  readonly name: string;
  readonly folder: string;
}

/** The images of the lookup folders by name (the first folder holding a name wins, as in a run). */
export async function listImages(folders: Folders): Promise<ImageEntry[]> {
  const seen = new Map<string, ImageEntry>();
  for (const folder of folders.imageDirs) {
    try {
      for await (const e of Deno.readDir(folder)) {
        if (!e.isFile || !SAFE_NAME.test(e.name) || !IMAGE_EXTENSIONS.test(e.name)) continue;
        if (!seen.has(e.name)) seen.set(e.name, { name: e.name, folder: shortPath(folder) });
      }
    } catch {
      // A lookup folder that does not exist lists nothing.
    }
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** An image of the lookup folders by name, as a file path; throws when there is none. */
export async function imageFile(folders: Folders, name: unknown): Promise<string> {
  const file = safeName(name, IMAGE_EXTENSIONS, "an image");
  for (const folder of folders.imageDirs) {
    const found = await within(folder, join(folder, file));
    if (found) return found;
  }
  throw new FolderError(`no image "${file}" in the lookup folders`);
}

/**
 * Refuses `--set` values that could name a file outside the lookup folders: from the page, a
 * value that names a file is a plain name (found in the recipe's folder or a lookup folder), never
 * a path. Returns the sets unchanged.
 */
export function checkSets(sets: unknown): string[] {
  if (sets === undefined) return [];
  if (!Array.isArray(sets) || !sets.every((s) => typeof s === "string")) {
    throw new FolderError("sets must be a list of name=value strings");
  }
  for (const s of sets as string[]) {
    const eq = s.indexOf("=");
    if (eq < 1) throw new FolderError(`"${s}" is not name=value`);
    if (/[/\\]|\.\./.test(s.slice(eq + 1))) {
      throw new FolderError(
        `${s.slice(0, eq)}: from the page a value may not be a path; name an image of the ` +
          `lookup folders (or upload one)`,
      );
    }
  }
  return sets as string[];
}

/** A file inside the output folder by its relative path, or undefined. */
export function outputFile(folders: Folders, relativePath: string): Promise<string | undefined> {
  return within(folders.outDir, resolve(folders.outDir, relativePath));
}

/** `path` relative to the working folder when inside it (short paths on the page). */
export function shortPath(path: string): string {
  const rel = relative(Deno.cwd(), resolve(path));
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}
