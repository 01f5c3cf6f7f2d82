/** Atomic file writes: write to a temporary file beside the target, then rename over it. */
import { dirname } from "node:path";

/**
 * Writes `data` to `path` atomically (never leaves a partial file at `path`). Creates parent folders.
 * Chunks are written one after another, so a large file need not be joined in memory first.
 */
export async function atomicWrite(
  path: string,
  data: Uint8Array | string | readonly Uint8Array[],
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else if (data instanceof Uint8Array) await Deno.writeFile(tmp, data);
    else await Deno.writeFile(tmp, ReadableStream.from(data));
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
