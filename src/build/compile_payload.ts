/**
 * What `deno task compile` leaves out of the single binary: `deno compile` embeds the whole
 * node_modules folder, which holds every platform's onnxruntime library (darwin, win32 and
 * linux-arm64 beside linux-x64: 288 MB of 430), sharp's musl builds beside the glibc ones, type
 * declarations and source maps, none of which a linux-x64 (glibc) binary loads.
 */
import { join, relative, sep } from "node:path";

/** One file or folder `deno compile --exclude` drops, with its size and why. */
export interface Exclusion {
  /** Relative to the project root, forward slashes. */
  readonly path: string;
  readonly bytes: number;
  readonly reason: string;
}

/** The payload of a binary: what is left out and what the embedded files add up to. */
export interface CompilePayload {
  readonly exclusions: readonly Exclusion[];
  /** Bytes of the node_modules files that stay in. */
  readonly keptBytes: number;
  /** The onnxruntime native files that stay in (relative paths), for the report. */
  readonly onnxruntimeKept: readonly string[];
}

/** The platform the binary is for, as onnxruntime-node names its folders (`linux`, `x64`). */
export interface TargetPlatform {
  readonly os: string;
  readonly arch: string;
}

/** linux-x64 with glibc: the one target `deno task compile` builds. */
export const LINUX_X64: TargetPlatform = { os: "linux", arch: "x64" };

/**
 * Walks `root`/node_modules and lists what a binary for `target` does not need: onnxruntime-node's
 * `bin/napi-v6/<os>/<arch>` folders of other platforms, `@img/sharp-*linuxmusl*` packages, `@types`
 * packages and `*.map` files. Paths are sorted, so the command line is the same on every run.
 */
export async function compilePayload(
  root: string,
  target: TargetPlatform = LINUX_X64,
): Promise<CompilePayload> {
  const exclusions: Exclusion[] = [];
  const onnxruntimeKept: string[] = [];
  let keptBytes = 0;
  const rel = (path: string) => relative(root, path).split(sep).join("/");

  async function walk(dir: string): Promise<number> {
    let total = 0;
    const entries = [];
    for await (const entry of Deno.readDir(dir)) entries.push(entry);
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isSymlink) continue; // node_modules/<name> links into .deno/: counted there
      const reason = exclusionReason(rel(path), entry.isDirectory, target);
      if (entry.isDirectory) {
        const bytes = await sizeOf(path, reason !== undefined);
        if (reason) exclusions.push({ path: rel(path), bytes, reason });
        else total += bytes;
      } else {
        const { size } = await Deno.stat(path);
        if (reason) exclusions.push({ path: rel(path), bytes: size, reason });
        else {
          total += size;
          if (/\/onnxruntime-node\/bin\//.test(rel(path))) onnxruntimeKept.push(rel(path));
        }
      }
    }
    return total;
  }

  // A kept folder is walked for what it excludes; an excluded one only measured.
  async function sizeOf(dir: string, excluded: boolean): Promise<number> {
    if (!excluded) return await walk(dir);
    let total = 0;
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isSymlink) continue;
      total += entry.isDirectory ? await sizeOf(path, true) : (await Deno.stat(path)).size;
    }
    return total;
  }

  keptBytes = await walk(join(root, "node_modules"));
  return { exclusions, keptBytes, onnxruntimeKept };
}

/** Why `path` (relative, forward slashes) stays out of a `target` binary, or undefined. */
export function exclusionReason(
  path: string,
  isDirectory: boolean,
  target: TargetPlatform,
): string | undefined {
  const platform = /\/onnxruntime-node\/bin\/napi-v\d+\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (platform && isDirectory) {
    const [, os, arch] = platform;
    if (os !== target.os) return `onnxruntime for ${os}`;
    if (arch !== undefined && arch !== target.arch) return `onnxruntime for ${os}-${arch}`;
    return undefined;
  }
  const last = path.slice(path.lastIndexOf("/") + 1);
  if (isDirectory && /^@img\+sharp-(libvips-)?linuxmusl-/.test(last)) return "sharp for musl libc";
  if (isDirectory && /^@types\+/.test(last)) return "type declarations";
  if (!isDirectory && last.endsWith(".map")) return "source map";
  return undefined;
}
