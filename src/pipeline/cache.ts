/**
 * The content-addressed step cache (default `.stylepipe/cache`): one verified entry per cache key,
 * written atomically. An entry starts with the key it was stored under (`SPK1`, the key's length
 * and bytes, then the checksummed value of serialize.ts), so an entry copied or renamed under another key is
 * rejected, never served. A file value (e.g. from `save`) is valid only while the file still exists with
 * the recorded hash. Also holds each key's checkpoints (resume after a crash).
 */
import { join } from "node:path";
import type { CheckpointStore, Kind, Value } from "../stages/stage.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { sha256Hex } from "../util/hash.ts";
import { CorruptEntryError, decodeValue, encodeValue } from "./serialize.ts";

/** The default cache folder, relative to the working directory. */
export const DEFAULT_CACHE_DIR = ".stylepipe/cache";

/** Outcome of reading an entry. */
export type CacheRead =
  | { readonly status: "hit"; readonly value: Value }
  | { readonly status: "miss" }
  /** The entry existed but failed verification (it has been removed). */
  | { readonly status: "corrupt"; readonly reason: string }
  /** A file value whose file is gone or changed. */
  | { readonly status: "stale"; readonly reason: string };

/** A cache folder. */
export class CacheStore {
  /** @param dir the cache folder (created on first write) */
  constructor(readonly dir: string) {}

  /** Where the entry for `key` lives. */
  entryPath(key: string): string {
    return join(this.dir, "entries", key.slice(0, 2), `${key}.bin`);
  }

  /** Whether an entry exists for `key` (not verified; {@link get} verifies). */
  async has(key: string): Promise<boolean> {
    try {
      return (await Deno.stat(this.entryPath(key))).isFile;
    } catch {
      return false;
    }
  }

  /** Reads and verifies the entry for `key`; a corrupted entry is deleted and reported. */
  async get(key: string): Promise<CacheRead> {
    const path = this.entryPath(key);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch {
      return { status: "miss" };
    }
    let value: Value;
    try {
      value = decodeValue(unwrapKeyed(bytes, key));
    } catch (e) {
      if (!(e instanceof CorruptEntryError) && !(e instanceof SyntaxError)) throw e;
      await Deno.remove(path).catch(() => {});
      return { status: "corrupt", reason: e.message };
    }
    if (value.kind === "file") {
      const reason = await fileProblem(value.path, value.sha256);
      if (reason) return { status: "stale", reason };
    }
    return { status: "hit", value };
  }

  /** Stores `value` under `key` atomically. */
  async put(key: string, value: Value): Promise<void> {
    await atomicWrite(this.entryPath(key), wrapKeyed(encodeValue(value), key));
  }

  /** The checkpoint store of one cache key. */
  checkpoints(key: string): CheckpointStore {
    return new FolderCheckpoints(join(this.dir, "checkpoints", key));
  }
}

const KEYED_MAGIC = new TextEncoder().encode("SPK1");

/** `SPK1`, the key's length (uint32 LE) and UTF-8 bytes, then `body`. */
function wrapKeyed(body: Uint8Array, key: string): Uint8Array {
  const k = new TextEncoder().encode(key);
  const out = new Uint8Array(KEYED_MAGIC.length + 4 + k.length + body.length);
  out.set(KEYED_MAGIC, 0);
  new DataView(out.buffer).setUint32(KEYED_MAGIC.length, k.length, true);
  out.set(k, KEYED_MAGIC.length + 4);
  out.set(body, KEYED_MAGIC.length + 4 + k.length);
  return out;
}

/** The body of an entry stored under `key`; throws {@link CorruptEntryError} for another key. */
function unwrapKeyed(bytes: Uint8Array, key: string): Uint8Array {
  const k = new TextEncoder().encode(key);
  const head = KEYED_MAGIC.length + 4 + k.length;
  if (bytes.length < head || !KEYED_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new CorruptEntryError("entry does not record its key");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = bytes.subarray(KEYED_MAGIC.length + 4, head);
  if (
    view.getUint32(KEYED_MAGIC.length, true) !== k.length || !k.every((b, i) => stored[i] === b)
  ) {
    throw new CorruptEntryError("entry was stored under another key");
  }
  return bytes.subarray(head);
}

/** Whether a value of `kind` must be re-validated against the file system on every read. */
export function isFileKind(kind: Kind): boolean {
  return kind === "file";
}

async function fileProblem(path: string, sha256: string): Promise<string | undefined> {
  try {
    // Whole-file read: outputs are images of a few MB, and this is faster than streaming.
    if (sha256Hex(await Deno.readFile(path)) !== sha256) {
      return `${path} changed since it was written`;
    }
  } catch {
    return `${path} no longer exists`;
  }
  return undefined;
}

/** Checkpoints as files in a folder, each with a SHA-256 trailer (a damaged one reads as absent). */
class FolderCheckpoints implements CheckpointStore {
  constructor(readonly dir: string) {}

  #path(name: string): string {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`invalid checkpoint name "${name}"`);
    return join(this.dir, name);
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(this.#path(name));
    } catch {
      return undefined;
    }
    if (bytes.length < 64) return undefined;
    const body = bytes.subarray(0, bytes.length - 64);
    const trailer = new TextDecoder().decode(bytes.subarray(bytes.length - 64));
    return sha256Hex(body) === trailer ? body.slice() : undefined;
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    const out = new Uint8Array(bytes.length + 64);
    out.set(bytes);
    out.set(new TextEncoder().encode(sha256Hex(bytes)), bytes.length);
    await atomicWrite(this.#path(name), out);
  }

  async clear(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
}
