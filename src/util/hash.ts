/** SHA-256 helpers (hex) for cache keys, weights verification and provenance. */
import { createHash } from "node:crypto";

/** SHA-256 of bytes or a string, as lowercase hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** SHA-256 of a file's contents, as lowercase hex (streamed). */
export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) h.update(chunk);
  return h.digest("hex");
}

/** Incremental SHA-256 over several parts (strings, bytes, float arrays). */
export function sha256Parts(parts: readonly (string | Uint8Array | Float32Array)[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    if (typeof p === "string") h.update(p);
    else h.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    h.update("\u0000");
  }
  return h.digest("hex");
}
