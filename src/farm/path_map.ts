/**
 * `--map /submit/path=/worker/path`: machines that mount the farm's share at different places. A
 * job carries the submitter's absolute paths; a worker rewrites each by its longest matching
 * prefix (whole path components only) before checking or reading anything.
 */
import { isAbsolute, normalize, sep } from "node:path";
import { StylepipeError } from "../util/errors.ts";
import type { RecipeRef } from "./jobs.ts";

/** A `--map` value that is not `ABSOLUTE=ABSOLUTE`. */
export class PathMapError extends StylepipeError {}

/** One prefix rewrite. */
export interface PathMapping {
  readonly from: string;
  readonly to: string;
}

/** Parses `--map FROM=TO` values (both absolute paths). */
export function parsePathMaps(values: readonly string[]): PathMapping[] {
  return values.map((v) => {
    const eq = v.indexOf("=");
    const from = eq > 0 ? v.slice(0, eq) : "";
    const to = eq > 0 ? v.slice(eq + 1) : "";
    if (!isAbsolute(from) || !isAbsolute(to)) {
      throw new PathMapError(
        `--map "${v}": expected /path/on/submitter=/path/on/this/worker (two absolute paths)`,
      );
    }
    return { from: trimSep(normalize(from)), to: trimSep(normalize(to)) };
  });
}

function trimSep(p: string): string {
  return p.length > 1 && p.endsWith(sep) ? p.slice(0, -1) : p;
}

/** `path` rewritten by the longest mapping whose `from` is it or a folder above it; else unchanged. */
export function mapPath(path: string, maps: readonly PathMapping[]): string {
  const p = normalize(path);
  let best: PathMapping | undefined;
  for (const m of maps) {
    const under = p === m.from || p.startsWith(m.from === sep ? sep : m.from + sep);
    if (under && (!best || m.from.length > best.from.length)) best = m;
  }
  if (!best) return path;
  const rest = p.slice(best.from === sep ? 0 : best.from.length).replace(/^[\\/]+/, "");
  return rest ? `${trimSep(best.to)}${best.to === sep ? "" : sep}${rest}` : best.to;
}

/** A job's recipe, image folders and output folder as this worker sees them. */
export function mapRef<T extends RecipeRef>(ref: T, maps: readonly PathMapping[]): T {
  if (maps.length === 0) return ref;
  return {
    ...ref,
    recipe: mapPath(ref.recipe, maps),
    imageDirs: ref.imageDirs.map((d) => mapPath(d, maps)),
    outDir: mapPath(ref.outDir, maps),
  };
}
