/**
 * `deno task cache [list | size | prune]`: what the step cache holds and how much space it takes,
 * and pruning by age and total size (never an entry a running render has locked).
 */
import { didYouMean } from "../recipe/suggest.ts";
import { DEFAULT_CACHE_DIR, listCache, pruneCache } from "../pipeline/cache.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError, UsageError } from "./errors.ts";

const HELP = `Usage: deno task cache [list | size | prune] [--cache-dir D] [--json]
       deno task cache prune [--older-than D] [--max-size S] [--dry-run]

  size (default)  number of entries and checkpoint folders, and their total size
  list            every entry, least recently used first: key, kind, size, last use
  prune           remove entries not used for --older-than (e.g. 30m, 12h, 7d, 2w), then the
                  least recently used until the total is at most --max-size (e.g. 500MB, 2GB).
                  Entries locked by a running render, or used in the last minute, are kept.
--cache-dir defaults to ${DEFAULT_CACHE_DIR}.`;

const ACTIONS = ["list", "size", "prune"];

const OPTIONS = {
  "cache-dir": { type: "string" },
  "older-than": { type: "string" },
  "max-size": { type: "string" },
  "dry-run": { type: "boolean" },
} as const;

/** Runs the `cache` command; returns the exit code. */
export async function cacheCommand(args: string[]): Promise<number> {
  let json = false;
  let debug = false;
  try {
    const { values, positionals } = parseCommandArgs("cache", args, OPTIONS);
    json = !!values.json;
    debug = !!values.debug;
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    const [action = "size", ...extra] = positionals;
    if (extra.length || !ACTIONS.includes(action)) {
      const hint = extra.length ? "" : didYouMean(action, ACTIONS);
      throw new UsageError(
        `cache: expected list, size or prune, got "${positionals.join(" ")}"${hint}`,
      );
    }
    const dir = values["cache-dir"] ?? DEFAULT_CACHE_DIR;
    if (action !== "prune" && (values["older-than"] || values["max-size"] || values["dry-run"])) {
      throw new UsageError(`cache: --older-than, --max-size and --dry-run go with prune`);
    }
    if (action === "list") {
      const items = await listCache(dir);
      for (const i of items) {
        const row = { key: i.key, kind: i.kind, bytes: i.bytes, used: i.used.toISOString() };
        console.log(
          json ? JSON.stringify(row) : `${i.key.slice(0, 16)}  ${i.kind.padEnd(11)} ` +
            `${formatBytes(i.bytes).padStart(9)}  ${row.used}`,
        );
      }
      return EXIT.ok;
    }
    if (action === "size") {
      const items = await listCache(dir);
      const bytes = items.reduce((n, i) => n + i.bytes, 0);
      const entries = items.filter((i) => i.kind === "entry").length;
      console.log(
        json
          ? JSON.stringify({ dir, entries, checkpoints: items.length - entries, bytes })
          : `${dir}: ${entries} entries, ${items.length - entries} checkpoint folders, ` +
            `${formatBytes(bytes)}`,
      );
      return EXIT.ok;
    }
    if (values["older-than"] === undefined && values["max-size"] === undefined) {
      throw new UsageError(`cache prune: give --older-than and/or --max-size (see --help)`);
    }
    const result = await pruneCache(dir, {
      olderThanMs: values["older-than"] === undefined
        ? undefined
        : parseDuration(values["older-than"]),
      maxBytes: values["max-size"] === undefined ? undefined : parseSize(values["max-size"]),
      dryRun: !!values["dry-run"],
    });
    const freed = result.removed.reduce((n, i) => n + i.bytes, 0);
    const left = result.kept.reduce((n, i) => n + i.bytes, 0);
    console.log(
      json
        ? JSON.stringify({
          removed: result.removed.length,
          freed,
          kept: result.kept.length,
          left,
          locked: result.locked,
          dryRun: !!values["dry-run"],
        })
        : `${values["dry-run"] ? "would remove" : "removed"} ${result.removed.length} ` +
          `(${formatBytes(freed)}); kept ${result.kept.length} (${formatBytes(left)}` +
          `${result.locked ? `, ${result.locked} in use by a running render` : ""})`,
    );
    return EXIT.ok;
  } catch (e) {
    return reportError(e, { debug, json });
  }
}

const DURATION_UNITS: Record<string, number> = {
  s: 1e3,
  m: 60e3,
  h: 3600e3,
  d: 86400e3,
  w: 7 * 86400e3,
};
const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** `30m`, `12h`, `7d`, `2w` (also `s`) → milliseconds; a {@link UsageError} otherwise. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(text.trim());
  if (!m) throw new UsageError(`cache: --older-than "${text}": expected e.g. 30m, 12h, 7d, 2w`);
  return Number(m[1]) * DURATION_UNITS[m[2].toLowerCase()];
}

/**
 * `500MB`, `2GB`, `100k`, `1GiB`, plain bytes → bytes; a {@link UsageError} naming `option`
 * otherwise.
 */
export function parseSize(text: string, option = "cache: --max-size"): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new UsageError(`${option} "${text}": expected e.g. 500MB, 2GB, 1GiB`);
  }
  return Math.floor(Number(m[1]) * unit);
}

function formatBytes(n: number): string {
  return n >= 1e9
    ? `${(n / 1e9).toFixed(2)} GB`
    : n >= 1e6
    ? `${(n / 1e6).toFixed(1)} MB`
    : n >= 1e3
    ? `${(n / 1e3).toFixed(1)} kB`
    : `${n} B`;
}
