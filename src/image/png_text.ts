/**
 * PNG text chunks on encoded PNG bytes: read `tEXt` / `iTXt` entries and add (or replace) an
 * uncompressed `iTXt` entry, keeping every other chunk byte-for-byte (provenance records); insert
 * other chunks after `IHDR` (colour profile and EXIF for the codecs).
 *
 * Chunk layout (PNG spec §5.3, §11.3.4): length (u32 BE) · type (4 ASCII) · data · CRC-32 over
 * type + data. `iTXt` data: keyword · 0 · compression flag · method · language · 0 ·
 * translated keyword · 0 · UTF-8 text. `tEXt` data: keyword · 0 · Latin-1 text.
 */
import { concatBytes } from "../util/bytes.ts";
import { StylepipeError } from "../util/errors.ts";
import { crc32 } from "node:zlib";

/** The eight bytes every PNG file starts with. */
const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10] as const;

/** A PNG that cannot be parsed (bad signature, truncated chunk, CRC mismatch). */
export class PngFormatError extends StylepipeError {}

/** One chunk as found in the file, with its offsets. */
interface ChunkSpan {
  readonly type: string;
  /** Offset of the length field. */
  readonly start: number;
  /** Offset just past the CRC. */
  readonly end: number;
  readonly data: Uint8Array;
}

/** Whether `bytes` begin with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

function* chunks(png: Uint8Array): Generator<ChunkSpan> {
  if (!isPng(png)) throw new PngFormatError("not a PNG file (bad signature)");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8;
  while (pos < png.length) {
    if (pos + 12 > png.length) throw new PngFormatError(`truncated chunk header at byte ${pos}`);
    const length = view.getUint32(pos);
    const end = pos + 12 + length;
    if (end > png.length) throw new PngFormatError(`truncated chunk at byte ${pos}`);
    const typeBytes = png.subarray(pos + 4, pos + 8);
    const type = String.fromCharCode(...typeBytes);
    const data = png.subarray(pos + 8, pos + 8 + length);
    const crc = view.getUint32(pos + 8 + length);
    if (crc32(png.subarray(pos + 4, pos + 8 + length)) !== crc) {
      throw new PngFormatError(`CRC mismatch in ${type} chunk at byte ${pos}`);
    }
    yield { type, start: pos, end, data };
    pos = end;
    if (type === "IEND") return;
  }
  throw new PngFormatError("missing IEND chunk");
}

/** One PNG chunk: length, type, data and CRC. */
export function encodeChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function checkKeyword(keyword: string): void {
  if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(keyword) || /^ | $| {2}/.test(keyword)) {
    throw new RangeError(`invalid PNG text keyword ${JSON.stringify(keyword)}`);
  }
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The keyword of a text chunk's data (up to the first NUL). */
function keywordOf(data: Uint8Array): string {
  const nul = data.indexOf(0);
  return latin1.decode(data.subarray(0, nul < 0 ? data.length : nul));
}

/** Decodes a text chunk into keyword and text; `undefined` for compressed or malformed entries. */
function decodeText(type: string, data: Uint8Array): [string, string] | undefined {
  const nul = data.indexOf(0);
  if (nul < 1) return undefined;
  const keyword = latin1.decode(data.subarray(0, nul));
  if (type === "tEXt") return [keyword, latin1.decode(data.subarray(nul + 1))];
  // iTXt: compression flag, method, language\0, translated keyword\0, text
  if (data[nul + 1] !== 0) return undefined; // compressed iTXt: we never write it
  const langEnd = data.indexOf(0, nul + 3);
  const transEnd = langEnd < 0 ? -1 : data.indexOf(0, langEnd + 1);
  if (transEnd < 0) return undefined;
  try {
    return [keyword, utf8.decode(data.subarray(transEnd + 1))];
  } catch {
    return undefined;
  }
}

/** All uncompressed `tEXt` and `iTXt` entries of a PNG, keyword → text (first occurrence wins). */
export function readPngText(png: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of chunks(png)) {
    if (c.type !== "tEXt" && c.type !== "iTXt") continue;
    const entry = decodeText(c.type, c.data);
    if (entry && !out.has(entry[0])) out.set(entry[0], entry[1]);
  }
  return out;
}

/**
 * Returns a PNG with an uncompressed `iTXt` chunk `keyword` → `text` (UTF-8) inserted just before
 * `IEND`; existing text chunks with the same keyword are removed. All other chunks are kept as is.
 */
export function writePngText(png: Uint8Array, keyword: string, text: string): Uint8Array {
  checkKeyword(keyword);
  const kw = new Uint8Array([...keyword].map((ch) => ch.charCodeAt(0)));
  const body = new TextEncoder().encode(text);
  // keyword \0 flag=0 method=0 language="" \0 translated="" \0 text
  const data = new Uint8Array(kw.length + 5 + body.length);
  data.set(kw, 0);
  data.set(body, kw.length + 5);
  return rebuild(png, keyword, encodeChunk("iTXt", data));
}

/**
 * Returns a PNG with `chunks` (e.g. `iCCP`, `eXIf`, which must precede the image data) inserted
 * right after `IHDR`; all other chunks are kept as they are.
 */
export function addPngChunks(
  png: Uint8Array,
  extra: readonly { readonly type: string; readonly data: Uint8Array }[],
): Uint8Array {
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  for (const c of chunks(png)) {
    parts.push(png.subarray(c.start, c.end));
    if (c.type === "IHDR") parts.push(...extra.map((e) => encodeChunk(e.type, e.data)));
  }
  return concatBytes(parts);
}

/** Copies the chunks, dropping the text chunks of `keyword` and inserting `extra` before IEND. */
function rebuild(png: Uint8Array, keyword: string, extra: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  for (const c of chunks(png)) {
    const isText = c.type === "tEXt" || c.type === "iTXt" || c.type === "zTXt";
    if (isText && keywordOf(c.data) === keyword) continue;
    if (c.type === "IEND") parts.push(extra);
    parts.push(png.subarray(c.start, c.end));
  }
  return concatBytes(parts);
}
