/**
 * Signed farm jobs: an HMAC-SHA256, with the farm's shared key, over the canonical JSON of the whole
 * job payload. Submitters sign, workers verify before reading anything the job names, so whoever
 * can write to Redis but lacks the key cannot make a worker run a recipe or touch a path.
 */
import { canonicalJson } from "../pipeline/canonical_json.ts";
import { messageOf, StylepipeError } from "../util/errors.ts";
import type { FarmJobData } from "./jobs.ts";

/** The environment variable holding the farm's key (the key itself, not a file name). */
export const FARM_KEY_ENV = "STYLEPIPE_FARM_KEY";
/** Shortest key accepted (characters): 32 random characters are well past guessing. */
export const MIN_KEY_LENGTH = 32;
/** Prefix of the signed text, so a farm signature is never valid for anything else. */
const DOMAIN = "stylepipe-farm-job-v1\n";

/** No key, a short key or an unreadable key file. */
export class FarmKeyError extends StylepipeError {}

/** A job refused because its signature is missing or wrong. */
export class JobSignatureError extends StylepipeError {}

/**
 * The farm key from `--key-file` (its contents, surrounding white space trimmed) or else
 * `$STYLEPIPE_FARM_KEY`; undefined when neither is given.
 */
export async function readFarmKey(keyFile?: string): Promise<CryptoKey | undefined> {
  let text: string | undefined;
  let source = `$${FARM_KEY_ENV}`;
  if (keyFile !== undefined) {
    source = keyFile;
    try {
      text = (await Deno.readTextFile(keyFile)).trim();
    } catch (e) {
      throw new FarmKeyError(`cannot read --key-file ${keyFile}: ${messageOf(e)}`);
    }
  } else {
    text = Deno.env.get(FARM_KEY_ENV)?.trim() || undefined;
  }
  if (text === undefined) return undefined;
  if (text.length < MIN_KEY_LENGTH) {
    throw new FarmKeyError(
      `the farm key in ${source} is ${text.length} characters long; use at least ` +
        `${MIN_KEY_LENGTH} random ones (e.g. openssl rand -hex 32)`,
    );
  }
  return await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(text),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/** The text signed for `data`: every member except the signature, keys sorted. */
function signedBytes(data: FarmJobData): Uint8Array<ArrayBuffer> {
  const { signature: _, ...rest } = data;
  return new TextEncoder().encode(DOMAIN + canonicalJson(rest));
}

/** `data` with its `signature` (hex HMAC-SHA256) set. */
export async function signJob<T extends FarmJobData>(data: T, key: CryptoKey): Promise<T> {
  const mac = await crypto.subtle.sign("HMAC", key, signedBytes(data));
  return { ...data, signature: toHex(new Uint8Array(mac)) };
}

/** Throws {@link JobSignatureError} unless `data` carries a valid signature made with `key`. */
export async function verifyJob(data: FarmJobData, key: CryptoKey): Promise<void> {
  const sig = typeof data?.signature === "string" ? data.signature : undefined;
  if (sig === undefined) {
    throw new JobSignatureError(
      "the job is not signed; this worker runs only jobs signed with the farm key " +
        `(submit with $${FARM_KEY_ENV} or --key-file)`,
    );
  }
  const mac = /^[0-9a-f]{64}$/.test(sig) ? fromHex(sig) : undefined;
  // crypto.subtle.verify compares in constant time.
  if (!mac || !await crypto.subtle.verify("HMAC", key, mac, signedBytes(data))) {
    throw new JobSignatureError(
      "the job's signature does not match its content and this worker's farm key " +
        "(tampered with, or signed with another key)",
    );
  }
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
