/**
 * The content-addressed step cache (default `.stylepipe/cache`): one verified entry per cache key,
 * written atomically. An entry starts with the key it was stored under (`SPK1`, the key's length
 * and bytes, then the checksummed value of serialize.ts), so an entry copied or renamed under
 * another key is rejected, never served. A file value (e.g. from `save`) is valid only while the
 * file still exists with the recorded hash. Also holds each key's checkpoints (resume after a
 * crash), and the locks of running renders; {@link listCache} and {@link pruneCache} serve
 * `deno task cache`.
 */
import { join } from "node:path";
import type { CheckpointStore, Kind, Value } from "../stages/stage.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { messageOf, StylepipeError } from "../util/errors.ts";
import { sha256Hex } from "../util/hash.ts";
import { CorruptEntryError, decodeValue, encodeValue } from "./serialize.ts";
import type { CacheRead, StepStore } from "./store.ts";

/** The default cache folder, relative to the working directory. */
export const DEFAULT_CACHE_DIR = ".stylepipe/cache";

/** A cache folder that cannot be written (e.g. `--cache-dir` names a file). */
export class CacheFolderError extends StylepipeError {}

/** A cache folder (the {@link StepStore} on a local or shared file system). */
export class CacheStore implements StepStore {
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
    const now = new Date();
    await Deno.utime(path, now, now).catch(() => {}); // last use, for `cache prune`
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

  /**
   * Marks `keys` as in use until the returned function is called: `cache prune` never removes an
   * entry or checkpoint of a live lock. The lock file's time is refreshed every
   * {@link LOCK_HEARTBEAT_MS}, so a lock stays live only while its process does, on this machine
   * or on another sharing the folder (a process id could be checked on neither).
   */
  async lock(keys: readonly string[]): Promise<() => Promise<void>> {
    const path = join(this.dir, "locks", `${Deno.pid}-${crypto.randomUUID()}.json`);
    try {
      await atomicWrite(path, JSON.stringify({ pid: Deno.pid, keys }));
    } catch (e) {
      throw new CacheFolderError(`cannot use the cache folder ${this.dir}: ${messageOf(e)}`, {
        cause: e,
      });
    }
    const heartbeat = setInterval(() => {
      const now = new Date();
      Deno.utime(path, now, now).catch(() => {});
    }, LOCK_HEARTBEAT_MS);
    Deno.unrefTimer(heartbeat);
    return async () => {
      clearInterval(heartbeat);
      await Deno.remove(path).catch(() => {});
    };
  }
}

/** One item in a cache folder: a step's value, or the checkpoints of a step in progress. */
export interface CacheItem {
  readonly key: string;
  readonly kind: "entry" | "checkpoints";
  readonly path: string;
  readonly bytes: number;
  /** Last written or read. */
  readonly used: Date;
}

/** Every entry and checkpoint folder in the cache folder `dir`, least recently used first. */
export async function listCache(dir: string): Promise<CacheItem[]> {
  const items: CacheItem[] = [];
  for (const shard of await readDir(join(dir, "entries"))) {
    for (const file of await readDir(join(dir, "entries", shard.name))) {
      if (!file.isFile || !file.name.endsWith(".bin")) continue;
      const path = join(dir, "entries", shard.name, file.name);
      const info = await Deno.stat(path).catch(() => undefined);
      if (!info) continue;
      const key = file.name.slice(0, -4);
      items.push({ key, kind: "entry", path, bytes: info.size, used: info.mtime ?? new Date(0) });
    }
  }
  for (const folder of await readDir(join(dir, "checkpoints"))) {
    const path = join(dir, "checkpoints", folder.name);
    let bytes = 0;
    let used = new Date(0);
    for (const f of await readDir(path)) {
      const info = await Deno.stat(join(path, f.name)).catch(() => undefined);
      bytes += info?.size ?? 0;
      if (info?.mtime && info.mtime > used) used = info.mtime;
    }
    items.push({ key: folder.name, kind: "checkpoints", path, bytes, used });
  }
  return items.sort((a, b) => a.used.getTime() - b.used.getTime() || (a.key < b.key ? -1 : 1));
}

/** What {@link pruneCache} removes. */
export interface PruneOptions {
  /** Remove items not used for longer than this (milliseconds). */
  readonly olderThanMs?: number;
  /** Then remove the least recently used items until the total is at most this (bytes). */
  readonly maxBytes?: number;
  /** Only report what would be removed. */
  readonly dryRun?: boolean;
}

/**
 * Items used in the last minute are never pruned, even without a lock (a render that has not
 * locked yet, or a lock from another machine sharing the folder).
 */
const PRUNE_MIN_AGE_MS = 60_000;
/** How often a held lock's file time is refreshed. */
export const LOCK_HEARTBEAT_MS = 20_000;
/** A lock not refreshed for this long belongs to a process that is gone. */
const LOCK_STALE_MS = 6 * LOCK_HEARTBEAT_MS;

/**
 * Removes cache items by age and total size, never one locked by a running render (see
 * {@link CacheStore.lock}) or used in the last minute; stale locks are removed. Returns the items
 * removed and those kept.
 */
export async function pruneCache(
  dir: string,
  options: PruneOptions,
): Promise<{ removed: CacheItem[]; kept: CacheItem[]; locked: number }> {
  const inUse = await lockedKeys(dir, !options.dryRun);
  const now = Date.now();
  const items = await listCache(dir);
  const removable = (i: CacheItem) =>
    !inUse.has(i.key) && now - i.used.getTime() >= PRUNE_MIN_AGE_MS;
  const remove = new Set<CacheItem>();
  if (options.olderThanMs !== undefined) {
    for (const i of items) {
      if (now - i.used.getTime() > options.olderThanMs && removable(i)) remove.add(i);
    }
  }
  if (options.maxBytes !== undefined) {
    let total = items.reduce((n, i) => n + (remove.has(i) ? 0 : i.bytes), 0);
    for (const i of items) { // least recently used first
      if (total <= options.maxBytes) break;
      if (remove.has(i) || !removable(i)) continue;
      remove.add(i);
      total -= i.bytes;
    }
  }
  if (!options.dryRun) {
    for (const i of remove) await Deno.remove(i.path, { recursive: true }).catch(() => {});
  }
  return {
    removed: items.filter((i) => remove.has(i)),
    kept: items.filter((i) => !remove.has(i)),
    locked: items.filter((i) => inUse.has(i.key)).length,
  };
}

/** Keys held by live locks; stale lock files are removed when `clean`. */
async function lockedKeys(dir: string, clean: boolean): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const f of await readDir(join(dir, "locks"))) {
    const path = join(dir, "locks", f.name);
    try {
      const lock = JSON.parse(await Deno.readTextFile(path)) as { keys: string[] };
      const age = Date.now() - ((await Deno.stat(path)).mtime?.getTime() ?? 0);
      if (age < LOCK_STALE_MS) lock.keys.forEach((k) => keys.add(k));
      else if (clean) await Deno.remove(path).catch(() => {});
    } catch {
      // a lock being written or removed right now: skip it
    }
  }
  return keys;
}

async function readDir(path: string): Promise<Deno.DirEntry[]> {
  try {
    return await Array.fromAsync(Deno.readDir(path));
  } catch {
    return [];
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
    // Two chunks, not one joined copy: an L-BFGS checkpoint at 1024 px with 20 pairs is 400 MB.
    const trailer = new TextEncoder().encode(sha256Hex(bytes));
    await atomicWrite(this.#path(name), [bytes, trailer]);
  }

  async clear(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
}
