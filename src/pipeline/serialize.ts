/**
 * Step values for the cache, in the one binary codec (util/checkpoint_codec.ts: a JSON header with
 * the Float32Array leaves as raw bytes, and a SHA-256 so a damaged entry is detected on read).
 * Images, features (Gram matrices, activations) and files (path + hash + written image) all use it.
 */
import type { Value } from "../stages/stage.ts";
import {
  CheckpointFormatError,
  type CheckpointValue,
  decodeCheckpoint,
  encodeCheckpoint,
} from "../util/checkpoint_codec.ts";
import { StylepipeError } from "../util/errors.ts";

/** A cache entry that failed verification (truncated, altered or of an unknown format). */
export class CorruptEntryError extends StylepipeError {}

/** A value that cannot be stored (e.g. a Map or another typed array in `info`). */
export class UnserializableValueError extends StylepipeError {}

/** Encodes a value; throws {@link UnserializableValueError} for data outside JSON + Float32Array. */
export function encodeValue(value: Value): Uint8Array {
  return encodeCheckpoint(cacheable(value), "null");
}

/** Decodes and verifies an entry; throws {@link CorruptEntryError} when it does not check out. */
export function decodeValue(bytes: Uint8Array): Value {
  try {
    return decodeCheckpoint(bytes) as unknown as Value;
  } catch (e) {
    if (e instanceof CheckpointFormatError) throw new CorruptEntryError(e.message);
    throw e;
  }
}

/** `value` as a checkpoint tree, refusing what a cache entry must not hold (only Float32Array data). */
function cacheable(value: unknown): CheckpointValue {
  if (value instanceof Float32Array) return value;
  if (ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set) {
    throw new UnserializableValueError(`cannot cache a ${value.constructor.name}`);
  }
  if (Array.isArray(value)) return value.map(cacheable);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cacheable(v)]));
  }
  return value as CheckpointValue;
}
