/**
 * Downloading a weights file: streamed to disk with an MD5 check against the published hash (Keras
 * publishes MD5 `file_hash` values), trying mirrors in order, with progress reports.
 */
import { createHash } from "node:crypto";
import { WeightsError } from "./weights_error.ts";

/** Bytes received so far and the expected total when the server or catalog says it. */
export interface DownloadProgress {
  readonly received: number;
  readonly total?: number;
}

/** Options for {@link downloadVerified}. */
export interface DownloadOptions {
  /** Expected size, used for progress when the server sends no Content-Length. */
  readonly expectedBytes?: number;
  /** Called as data arrives. */
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** Give up on a mirror after this long without data (default 60 s). */
  readonly idleTimeoutMs?: number;
}

/**
 * Downloads the first mirror of `urls` that answers into `dest` and checks its MD5 against `md5`.
 * On failure `dest` is removed and a {@link WeightsError} lists each mirror's problem.
 * Returns the URL used.
 */
export async function downloadVerified(
  urls: readonly string[],
  md5: string,
  dest: string,
  options: DownloadOptions = {},
): Promise<string> {
  const problems: string[] = [];
  for (const url of urls) {
    try {
      const got = await downloadOnce(url, dest, options);
      if (got === md5) return url;
      problems.push(`${url}: MD5 ${got}, expected ${md5} (damaged or different file)`);
    } catch (e) {
      problems.push(`${url}: ${reason(e)}`);
    }
    await Deno.remove(dest).catch(() => {});
  }
  throw new WeightsError(`could not download a verified copy (${problems.join("; ")})`);
}

/** The useful part of a fetch error: Deno puts the network cause (DNS, refused…) in `cause`. */
function reason(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (!(e.cause instanceof Error)) return e.message;
  return e.cause.message.replace(/^error sending request for url \([^)]*\): /, "");
}

/** Streams one URL into `dest`, returning the MD5 of what arrived. */
async function downloadOnce(url: string, dest: string, options: DownloadOptions): Promise<string> {
  const idleMs = options.idleTimeoutMs ?? 60_000;
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(new Error(`no data for ${idleMs / 1000} s`)), idleMs);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new Error(`no data for ${idleMs / 1000} s`)), idleMs);
  };
  try {
    const response = await fetch(url, { signal: abort.signal });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
    }
    const length = Number(response.headers.get("content-length"));
    const total = length > 0 ? length : options.expectedBytes;
    const hash = createHash("md5");
    let received = 0;
    using file = await Deno.open(dest, { write: true, create: true, truncate: true });
    for await (const chunk of response.body) {
      touch();
      hash.update(chunk);
      let written = 0;
      while (written < chunk.byteLength) written += await file.write(chunk.subarray(written));
      received += chunk.byteLength;
      options.onProgress?.({ received, total });
    }
    if (length > 0 && received !== length) {
      throw new Error(`connection closed after ${received} of ${length} bytes`);
    }
    return hash.digest("hex");
  } finally {
    clearTimeout(timer);
  }
}

/** MD5 of a file's contents (lowercase hex), streamed; compares with Keras' published hashes. */
export async function md5File(path: string): Promise<string> {
  const hash = createHash("md5");
  using file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}
