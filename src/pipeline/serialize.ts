/**
 * Binary form of step values for the cache: `SPC1`, a JSON header (the value with every
 * Float32Array replaced by a reference into the blob area), the float32 blobs, and a SHA-256 of
 * everything before it so a damaged entry is detected on read. Images, features (Gram matrices,
 * activations) and files (path + hash + written image) all use this one layout.
 */
import type { Value } from "../stages/stage.ts";
import { sha256Hex } from "../util/hash.ts";

const MAGIC = new TextEncoder().encode("SPC1");
const CHECKSUM_BYTES = 32;

/** A cache entry that failed verification (truncated, altered or of an unknown format). */
export class CorruptEntryError extends Error {
  /** @param message what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "CorruptEntryError";
  }
}

/** A value that cannot be stored (e.g. a Map or another typed array in `info`). */
export class UnserializableValueError extends Error {
  /** @param message what could not be stored */
  constructor(message: string) {
    super(message);
    this.name = "UnserializableValueError";
  }
}

/** Encodes a value; throws {@link UnserializableValueError} for data outside JSON + Float32Array. */
export function encodeValue(value: Value): Uint8Array {
  const blobs: Float32Array[] = [];
  let offset = 0;
  const header = JSON.stringify(value, function (this: unknown, _key, v: unknown) {
    if (v instanceof Float32Array) {
      blobs.push(v);
      const ref = { $f32: [offset, v.length] };
      offset += v.length;
      return ref;
    }
    if (ArrayBuffer.isView(v) || v instanceof Map || v instanceof Set) {
      throw new UnserializableValueError(`cannot cache a ${v.constructor.name}`);
    }
    return v;
  });
  const headerBytes = new TextEncoder().encode(header);
  const blobStart = align4(8 + headerBytes.length);
  const total = blobStart + offset * 4 + CHECKSUM_BYTES;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, headerBytes.length, true);
  out.set(headerBytes, 8);
  const floats = new Float32Array(out.buffer, blobStart, offset);
  let at = 0;
  for (const b of blobs) {
    floats.set(b, at);
    at += b.length;
  }
  const body = out.subarray(0, total - CHECKSUM_BYTES);
  out.set(hexToBytes(sha256Hex(body)), total - CHECKSUM_BYTES);
  return out;
}

/** Decodes and verifies an entry; throws {@link CorruptEntryError} when it does not check out. */
export function decodeValue(bytes: Uint8Array): Value {
  if (bytes.length < 8 + CHECKSUM_BYTES) throw new CorruptEntryError("entry is truncated");
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new CorruptEntryError("not a stylepipe cache entry");
  }
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
  const stored = bytes.subarray(bytes.length - CHECKSUM_BYTES);
  const actual = hexToBytes(sha256Hex(body));
  if (!actual.every((b, i) => b === stored[i])) throw new CorruptEntryError("checksum mismatch");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true);
  const blobStart = align4(8 + headerLength);
  if (blobStart > body.length) throw new CorruptEntryError("header length out of range");
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
  // Copy the blob area so it is 4-byte aligned whatever the buffer's offset.
  const blobBytes = body.slice(blobStart);
  const floats = new Float32Array(blobBytes.buffer, 0, blobBytes.byteLength / 4);
  return JSON.parse(header, (_key, v: unknown) => {
    if (v !== null && typeof v === "object" && "$f32" in v) {
      const [start, length] = (v as { $f32: [number, number] }).$f32;
      if (start + length > floats.length) throw new CorruptEntryError("blob out of range");
      return floats.slice(start, start + length);
    }
    return v;
  }) as Value;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
