/**
 * `deno run -A tools/pin_imports.ts [--check] [PATH…]`: rewrites bare npm specifiers ("yaml",
 * "@tensorflow/tfjs-core", "sharp/lib/…") in import and export statements and dynamic imports to
 * the explicit `npm:name@version` that deno.json's "imports" maps them to (and an `npm:` specifier
 * at another version than deno.json's to that one), so that every module is
 * self-contained: `mod.ts` then imports by path or URL from a project without stylepipe's
 * deno.json (`deno run --no-config`). deno.json keeps its map (tests, the plugin policy).
 *
 * PATHs default to mod.ts and src/. `--check` rewrites nothing: it lists the bare specifiers left
 * and exits 1 when there is one.
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** A specifier left bare: where, and what it would become. */
export interface BareImport {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly pinned: string;
}

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** `import … from "x"`, `export … from "x"`, `import "x"`, `import("x")`, `import type … from "x"`. */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])([^"'\n]+)\2/g;

/** deno.json's import map: bare package name → `npm:name@version`. */
export async function importMap(root = ROOT): Promise<Record<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  return config.imports ?? {};
}

/**
 * `specifier` pinned through `map` (a package or a subpath of one; an `npm:` specifier of a mapped
 * package at another version is re-pinned), or undefined when there is nothing to change.
 */
export function pin(specifier: string, map: Readonly<Record<string, string>>): string | undefined {
  const npm = /^npm:(@?[^@/]+(?:\/[^@/]+)?)@[^/]+(\/.*)?$/.exec(specifier);
  if (npm) {
    const [, name, subpath = ""] = npm;
    const to = Object.hasOwn(map, name) ? `${map[name]}${subpath}` : undefined;
    return to === specifier ? undefined : to;
  }
  if (Object.hasOwn(map, specifier)) return map[specifier];
  const name = Object.keys(map).find((n) => specifier.startsWith(`${n}/`));
  return name === undefined ? undefined : `${map[name]}${specifier.slice(name.length)}`;
}

/** `text` with every mapped bare specifier pinned, and the ones it pinned. */
export function pinText(
  text: string,
  map: Readonly<Record<string, string>>,
): { text: string; pinned: { line: number; specifier: string; pinned: string }[] } {
  const pinned: { line: number; specifier: string; pinned: string }[] = [];
  const out = text.replace(SPECIFIER, (whole, lead: string, quote: string, spec: string, at) => {
    const to = pin(spec, map);
    if (to === undefined) return whole;
    pinned.push({ line: text.slice(0, at).split("\n").length, specifier: spec, pinned: to });
    return `${lead}${quote}${to}${quote}`;
  });
  return { text: out, pinned };
}

/** The .ts files under `paths` (files or folders). */
async function* sourceFiles(paths: readonly string[]): AsyncGenerator<string> {
  for (const path of paths) {
    const info = await Deno.stat(path);
    if (info.isFile) {
      if (/\.(ts|tsx|js|mjs)$/.test(path)) yield path;
      continue;
    }
    for await (const entry of Deno.readDir(path)) yield* sourceFiles([join(path, entry.name)]);
  }
}

/** Pins (or with `check`, only finds) the bare specifiers of the files under `paths`. */
export async function pinImports(
  paths: readonly string[],
  options: { check?: boolean; root?: string } = {},
): Promise<BareImport[]> {
  const root = options.root ?? ROOT;
  const map = await importMap(root);
  const found: BareImport[] = [];
  for await (const file of sourceFiles(paths.map((p) => join(root, p)))) {
    const text = await Deno.readTextFile(file);
    const result = pinText(text, map);
    for (const p of result.pinned) found.push({ file: relative(root, file), ...p });
    if (!options.check && result.pinned.length) await Deno.writeTextFile(file, result.text);
  }
  return found;
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const paths = Deno.args.filter((a) => a !== "--check");
  const found = await pinImports(paths.length ? paths : ["mod.ts", "src"], { check });
  for (const f of found) {
    console.log(
      `${f.file}:${f.line}: "${f.specifier}"${
        check ? " is not pinned; pin it as" : " →"
      } "${f.pinned}"`,
    );
  }
  if (check && found.length) {
    console.log(`${found.length} specifiers to pin; run: deno run -A tools/pin_imports.ts`);
    Deno.exit(1);
  }
  if (!check) console.log(`pinned ${found.length} specifiers`);
}
