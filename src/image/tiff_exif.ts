/**
 * EXIF into a TIFF file. libvips' TIFF writer has no EXIF block, so `save`'s `metadata: keep` adds
 * the source's tags itself: IFD0's descriptive tags (Make, Model, Artist, DateTime, Copyright…) and
 * the Exif sub-IFD (DateTimeOriginal, exposure…), appended after the file's data with a new IFD0
 * holding libvips' own entries plus these. Where both have a tag, libvips' entry stays.
 */

/** Bytes per value of each TIFF field type (BYTE … DOUBLE). */
const TYPE_SIZE: Readonly<Record<number, number>> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
};
/** Bytes per number inside a value (a RATIONAL is two LONGs): the unit of a byte-order swap. */
const SWAP_UNIT: Readonly<Record<number, number>> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 4,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 4,
  11: 4,
  12: 8,
};
const EXIF_IFD = 0x8769;
/** IFD0 tags about the image data or pointing at other IFDs: libvips writes its own; never copied. */
const STRUCTURAL = new Set([
  0x00fe,
  0x0100,
  0x0101,
  0x0102,
  0x0103,
  0x0106,
  0x0111,
  0x0112,
  0x0115,
  0x0116,
  0x0117,
  0x011a,
  0x011b,
  0x011c,
  0x0128,
  0x013d,
  0x0140,
  0x0142,
  0x0143,
  0x0144,
  0x0145,
  0x014a,
  0x0152,
  0x0153,
  0x0201,
  0x0202,
  0x02bc,
  0x8773,
  EXIF_IFD,
  0x8825,
  0xa005,
]);

/** An IFD entry with its value in little-endian order. */
interface Entry {
  readonly tag: number;
  readonly type: number;
  readonly count: number;
  readonly value: Uint8Array;
}

/**
 * `tiff` (as libvips writes it: little-endian, classic TIFF) with the tags of `exif` (a TIFF-form
 * EXIF block, either byte order) added. Input it cannot read is returned unchanged.
 */
export function addExifToTiff(tiff: Uint8Array, exif: Uint8Array): Uint8Array {
  const file = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const source = new DataView(exif.buffer, exif.byteOffset, exif.byteLength);
  const little = byteOrder(source);
  if (byteOrder(file) !== true || little === undefined) return tiff;
  const own = readIfd(file, true, file.getUint32(4, true));
  const exifIfd0 = readIfd(source, little, source.getUint32(4, little));
  if (!own || !exifIfd0) return tiff;
  const ownTags = new Set(own.entries.map((e) => e.tag));
  const added = exifIfd0.entries.filter((e) => !STRUCTURAL.has(e.tag) && !ownTags.has(e.tag));
  const pointer = exifIfd0.entries.find((e) => e.tag === EXIF_IFD);
  const sub = pointer &&
    readIfd(source, little, new DataView(pointer.value.buffer).getUint32(0, true));
  const subEntries = sub?.entries.filter((e) => e.tag !== 0xa005) ?? [];
  if (!added.length && !subEntries.length) return tiff;

  const out = new Writer(tiff);
  const entries: Entry[] = [...own.entries, ...added];
  if (subEntries.length) {
    const at = out.ifd(subEntries, 0);
    entries.push({ tag: EXIF_IFD, type: 4, count: 1, value: u32(at) });
  }
  // Own entries' out-of-line values stay where they are: the file is only appended to.
  const ifd0 = out.ifd(entries.sort((a, b) => a.tag - b.tag), own.next);
  const bytes = out.bytes();
  new DataView(bytes.buffer).setUint32(4, ifd0, true);
  return bytes;
}

function byteOrder(view: DataView): boolean | undefined {
  if (view.byteLength < 8) return undefined;
  const order = view.getUint16(0);
  const little = order === 0x4949 ? true : order === 0x4d4d ? false : undefined;
  return little !== undefined && view.getUint16(2, little) === 42 ? little : undefined;
}

/** The entries of the IFD at `offset` (values little-endian), or undefined when out of bounds. */
function readIfd(
  view: DataView,
  little: boolean,
  offset: number,
): { entries: Entry[]; next: number } | undefined {
  if (offset + 2 > view.byteLength) return undefined;
  const count = view.getUint16(offset, little);
  if (offset + 2 + count * 12 + 4 > view.byteLength) return undefined;
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + 2 + i * 12;
    const type = view.getUint16(at + 2, little);
    const n = view.getUint32(at + 4, little);
    const size = (TYPE_SIZE[type] ?? 0) * n;
    if (!size) continue; // an unknown type: its size is unknown, so it is left out
    const start = size <= 4 ? at + 8 : view.getUint32(at + 8, little);
    if (start + size > view.byteLength) continue;
    const raw = new Uint8Array(view.buffer, view.byteOffset + start, size).slice();
    entries.push({
      tag: view.getUint16(at, little),
      type,
      count: n,
      value: toLittle(raw, type, little),
    });
  }
  return { entries, next: view.getUint32(offset + 2 + count * 12, little) };
}

function toLittle(raw: Uint8Array, type: number, little: boolean): Uint8Array {
  const unit = SWAP_UNIT[type];
  if (little || unit === 1) return raw;
  for (let i = 0; i + unit <= raw.length; i += unit) raw.subarray(i, i + unit).reverse();
  return raw;
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

/** Appends IFDs (values, then the directory, word-aligned) to a copy of the file. */
class Writer {
  #chunks: Uint8Array[];
  #length: number;

  constructor(start: Uint8Array) {
    this.#chunks = [start];
    this.#length = start.length;
  }

  /** Writes an IFD of `entries` (sorted by tag) whose next-IFD offset is `next`; its offset. */
  ifd(entries: readonly Entry[], next: number): number {
    const offsets = entries.map((e) => e.value.length > 4 ? this.#append(e.value) : -1);
    const dir = new Uint8Array(2 + entries.length * 12 + 4);
    const view = new DataView(dir.buffer);
    view.setUint16(0, entries.length, true);
    entries.forEach((e, i) => {
      const at = 2 + i * 12;
      view.setUint16(at, e.tag, true);
      view.setUint16(at + 2, e.type, true);
      view.setUint32(at + 4, e.count, true);
      if (offsets[i] >= 0) view.setUint32(at + 8, offsets[i], true);
      else dir.set(e.value, at + 8);
    });
    view.setUint32(2 + entries.length * 12, next, true);
    return this.#append(dir);
  }

  #append(bytes: Uint8Array): number {
    if (this.#length % 2) this.#push(new Uint8Array(1)); // TIFF offsets are word-aligned
    const at = this.#length;
    this.#push(bytes);
    return at;
  }

  #push(bytes: Uint8Array) {
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
