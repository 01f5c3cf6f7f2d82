/**
 * The interface the runner sees of the content-addressed step store: entries by cache key (verified
 * on read) and each key's checkpoints. {@link CacheStore} keeps them in a folder (local, or one that
 * several render-farm workers mount); an S3-compatible store would implement the same five methods
 * with objects under `entries/`, `checkpoints/` and `locks/` prefixes, and the runner would not change.
 * Output files are not in the store: stages write them under the run's output folder.
 */
import type { CheckpointStore, Value } from "../stages/stage.ts";

/** Outcome of reading an entry. */
export type CacheRead =
  | { readonly status: "hit"; readonly value: Value }
  | { readonly status: "miss" }
  /** The entry existed but failed verification (it has been removed). */
  | { readonly status: "corrupt"; readonly reason: string }
  /** A file value whose file is gone or changed. */
  | { readonly status: "stale"; readonly reason: string };

/** Where a run reads and writes step values and checkpoints, by cache key. */
export interface StepStore {
  /** Whether an entry exists for `key` (not verified; {@link get} verifies). */
  has(key: string): Promise<boolean>;
  /** Reads and verifies the entry for `key`; a damaged entry is removed and reported. */
  get(key: string): Promise<CacheRead>;
  /** Stores `value` under `key` atomically (readers see the whole entry or none). */
  put(key: string, value: Value): Promise<void>;
  /** The checkpoint store of one cache key (writes atomic, shared by every worker on the key). */
  checkpoints(key: string): CheckpointStore;
  /** Marks `keys` as in use (pruning skips them) until the returned function is called. */
  lock(keys: readonly string[]): Promise<() => Promise<void>>;
}
