/**
 * The identity of a model's weights for cache keys: the SHA-256 of every file in the model's
 * folder (names and contents), so swapping in other weights — valid or not — changes every key of
 * a step that reads them. Symbolic links are followed (a folder of links is hashed by the files
 * they point to). Hashes are remembered per process while a file's inode, size, mtime and ctime hold.
 */
import { join } from "node:path";
import { findModelDir } from "../neural/models/weights.ts";
import { WeightsError } from "../neural/models/weights_error.ts";
import { sha256File, sha256Hex } from "../util/hash.ts";

const fileHashes = new Map<string, { stamp: string; sha256: string }>();

/**
 * `name → sha256` of each file in the folder of `model` (first of `dirs` that has it), or
 * `undefined` when no folder has the model (the stage's check reports that).
 */
export async function modelIdentity(
  dirs: readonly string[],
  model: string,
): Promise<string | undefined> {
  let dir: string;
  try {
    dir = await findModelDir(dirs, model);
  } catch (e) {
    if (e instanceof WeightsError) return undefined;
    throw e;
  }
  const entries: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    // Deno.stat follows links: a link to a file counts as that file, a dangling one not at all.
    if (
      e.isFile || (e.isSymlink && (await Deno.stat(join(dir, e.name)).catch(() => null))?.isFile)
    ) {
      entries.push(e.name);
    }
  }
  entries.sort();
  const parts: string[] = [];
  for (const name of entries) {
    const path = join(dir, name);
    const info = await Deno.stat(path);
    const stamp = `${info.ino}:${info.size}:${info.mtime?.getTime()}:${info.ctime?.getTime()}`;
    let known = fileHashes.get(path);
    if (known?.stamp !== stamp) {
      known = { stamp, sha256: await sha256File(path) };
      fileHashes.set(path, known);
    }
    parts.push(`${name}\u0000${known.sha256}`);
  }
  return sha256Hex(parts.join("\n"));
}
