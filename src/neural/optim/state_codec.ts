/**
 * Byte format for optimizer states (checkpoints): a JSON header with the scalars, then the vectors
 * as raw float32. Numbers survive JSON exactly (shortest round-trip form) and float32 vectors are
 * copied bit for bit, so a restored run continues identically.
 *
 * Layout: "SPOS" magic, uint32 LE header length, UTF-8 JSON header, zero padding to a multiple of
 * 4, then each vector's float32 values (little-endian) in header order.
 */

const MAGIC = "SPOS";

/** Header plus named vectors, as stored. */
export interface PackedState {
  /** Scalars and metadata (must be JSON-serializable). `vectorLengths` is added by the codec. */
  readonly header: Record<string, unknown>;
  /** Vectors in a fixed order the caller knows how to read back. */
  readonly vectors: readonly Float32Array[];
}

/** A state that cannot be read (wrong format, truncated, or another optimizer's). */
export class StateFormatError extends Error {
  /** @param message what is wrong with the bytes */
  constructor(message: string) {
    super(message);
    this.name = "StateFormatError";
  }
}

/** Packs a header and vectors into bytes. */
export function packState(state: PackedState): Uint8Array {
  const header = { ...state.header, vectorLengths: state.vectors.map((v) => v.length) };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerEnd = 8 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const total = dataStart + state.vectors.reduce((n, v) => n + v.length * 4, 0);
  const bytes = new Uint8Array(total);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(bytes.buffer).setUint32(4, json.length, true);
  bytes.set(json, 8);
  let offset = dataStart;
  for (const v of state.vectors) {
    bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), offset);
    offset += v.byteLength;
  }
  return bytes;
}

/** Unpacks bytes written by {@link packState}; checks `kind` against the header's `kind`. */
export function unpackState(bytes: Uint8Array, kind: string): PackedState {
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) {
    throw new StateFormatError("not an optimizer state (bad magic)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLength = view.getUint32(4, true);
  if (8 + jsonLength > bytes.length) throw new StateFormatError("optimizer state is truncated");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + jsonLength)));
  if (header.kind !== kind) {
    throw new StateFormatError(`optimizer state is for "${header.kind}", expected "${kind}"`);
  }
  const lengths = header.vectorLengths as number[];
  let offset = Math.ceil((8 + jsonLength) / 4) * 4;
  const vectors: Float32Array[] = [];
  for (const n of lengths) {
    if (offset + n * 4 > bytes.length) throw new StateFormatError("optimizer state is truncated");
    // Copy (the source may be unaligned or shared).
    vectors.push(new Float32Array(bytes.slice(offset, offset + n * 4).buffer));
    offset += n * 4;
  }
  return { header, vectors };
}
