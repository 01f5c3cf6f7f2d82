/**
 * The one self-checking binary encoding of stylepipe: checkpoints, optimizer states
 * (neural/optim/state_codec.ts) and cache values (pipeline/serialize.ts) are all a JSON-able tree
 * in which Float32Array / Float64Array / Uint32Array / Uint8Array leaves are stored as raw
 * little-endian bytes, so restored arrays are bit-identical (JSON would round floats through text).
 *
 * Layout: magic "SPCK1\n" · u32 header length · header JSON (UTF-8) · 32-byte SHA-256 of
 * everything before it · array payloads, each 8-byte aligned. The header holds the tree with every
 * typed array replaced by `{ "$array": type, "offset": n, "length": n }`.
 */
import { createHash } from "node:crypto";
import { StylepipeError } from "./errors.ts";

/** A value a checkpoint can hold. */
export type CheckpointValue =
  | null
  | boolean
  | number
  | string
  | Float32Array
  | Float64Array
  | Uint32Array
  | Uint8Array
  | readonly CheckpointValue[]
  | { readonly [key: string]: CheckpointValue };

/** Bytes that are not a checkpoint written by {@link encodeCheckpoint} (or were damaged). */
export class CheckpointFormatError extends StylepipeError {}

const MAGIC = new TextEncoder().encode("SPCK1\n");
const ARRAY_TYPES = {
  f32: Float32Array,
  f64: Float64Array,
  u32: Uint32Array,
  u8: Uint8Array,
} as const;
type ArrayTag = keyof typeof ARRAY_TYPES;
type TypedLeaf = Float32Array | Float64Array | Uint32Array | Uint8Array;

function tagOf(v: unknown): ArrayTag | undefined {
  if (v instanceof Float32Array) return "f32";
  if (v instanceof Float64Array) return "f64";
  if (v instanceof Uint32Array) return "u32";
  if (v instanceof Uint8Array) return "u8";
  return undefined;
}

const align8 = (n: number) => (n + 7) & ~7;

/** What {@link encodeCheckpoint} does with a NaN or ±∞ number (typed-array leaves keep any value). */
export type NonFinite = "reject" | "null";

/**
 * Encodes a tree. Non-finite numbers are rejected with a RangeError by default (in a checkpoint
 * they signal a bug); with `nonFinite: "null"` they are stored as null, as JSON does.
 */
export function encodeCheckpoint(
  value: CheckpointValue,
  nonFinite: NonFinite = "reject",
): Uint8Array {
  const arrays: TypedLeaf[] = [];
  let payload = 0;
  const header = JSON.stringify(value, function (this: unknown, _key, v: unknown) {
    const tag = tagOf(v);
    if (tag) {
      const leaf = v as TypedLeaf;
      arrays.push(leaf);
      const entry = { $array: tag, offset: payload, length: leaf.length };
      payload = align8(payload + leaf.byteLength);
      return entry;
    }
    if (typeof v === "number" && !Number.isFinite(v)) {
      if (nonFinite === "null") return null;
      throw new RangeError(`checkpoint value ${v} is not finite`);
    }
    return v;
  });
  const headerBytes = new TextEncoder().encode(header);
  const prefix = MAGIC.length + 4 + headerBytes.length;
  const start = align8(prefix + 32);
  const out = new Uint8Array(start + payload);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, headerBytes.length, true);
  out.set(headerBytes, MAGIC.length + 4);
  let at = start;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at = align8(at + a.byteLength);
  }
  const digest = createHash("sha256").update(out.subarray(0, prefix)).update(out.subarray(start))
    .digest();
  out.set(digest, prefix);
  return out;
}

/** Decodes bytes from {@link encodeCheckpoint}; throws {@link CheckpointFormatError} when damaged. */
export function decodeCheckpoint(bytes: Uint8Array): CheckpointValue {
  if (bytes.length < MAGIC.length + 4 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new CheckpointFormatError("not a stylepipe checkpoint");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(MAGIC.length, true);
  const prefix = MAGIC.length + 4 + headerLength;
  const start = align8(prefix + 32);
  if (start > bytes.length) throw new CheckpointFormatError("checkpoint is truncated");
  const digest = createHash("sha256").update(bytes.subarray(0, prefix))
    .update(bytes.subarray(start)).digest();
  if (!digest.every((b, i) => b === bytes[prefix + i])) {
    throw new CheckpointFormatError("checkpoint checksum mismatch");
  }
  const header = new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, prefix));
  return JSON.parse(header, (_key, v) => {
    if (v && typeof v === "object" && typeof v.$array === "string") {
      const Ctor = ARRAY_TYPES[v.$array as ArrayTag];
      if (!Ctor) throw new CheckpointFormatError(`unknown array type ${v.$array}`);
      const byteLength = v.length * Ctor.BYTES_PER_ELEMENT;
      const from = start + v.offset;
      if (from + byteLength > bytes.length) throw new CheckpointFormatError("array out of range");
      // Copy so the result is aligned and independent of the input buffer.
      return new Ctor(bytes.slice(from, from + byteLength).buffer);
    }
    return v;
  });
}
