/** Atomic file writes: write to a temporary file beside the target, then rename over it. */
import { dirname } from "node:path";

/** Writes `data` to `path` atomically (never leaves a partial file at `path`). Creates parent folders. */
export async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
