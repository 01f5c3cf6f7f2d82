/** `SHA256SUMS` files (the `sha256sum` tool's format: `<64 hex>  <name>` per line). */
import { WeightsError } from "./weights_error.ts";

/**
 * Parses `SHA256SUMS` text into file name → lowercase hex digest. Accepts both the text (`  name`)
 * and binary (` *name`) markers; blank lines and `#` comments are skipped.
 */
export function parseSha256Sums(text: string, source: string): Map<string, string> {
  const sums = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "" || line.startsWith("#")) return;
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new WeightsError(`${source}:${i + 1}: not a "<sha256>  <file>" line: ${line}`);
    sums.set(m[2], m[1].toLowerCase());
  });
  return sums;
}

/** Formats file name → hex digest as `SHA256SUMS` text, in the given order. */
export function formatSha256Sums(sums: Iterable<[string, string]>): string {
  let text = "";
  for (const [name, hex] of sums) text += `${hex}  ${name}\n`;
  return text;
}
