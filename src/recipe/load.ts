/**
 * Loading a recipe: read → parse (positions) → `--set` overrides → interpolate `${vars}` →
 * plugins → extensions (e.g. `matrix:`) → validate steps. All problems are collected and thrown
 * together as one {@link RecipeError}.
 */
import { basename, dirname, extname, resolve } from "node:path";
import { defaultImageDirs, defaultWeightsDirs } from "../pipeline/locations.ts";
import { findInput } from "../pipeline/paths.ts";
import { declaredInputFiles } from "../pipeline/plan.ts";
import { StageError } from "../stages/stage.ts";
import { builtinStages } from "../stages/builtin.ts";
import type { StageRegistry } from "../stages/registry.ts";
import { messageOf } from "../util/errors.ts";
import { IssueList, RecipeError } from "./errors.ts";
import { attributeSets } from "./set_attribution.ts";
import type { RecipeExtension } from "./extensions.ts";
import {
  ExpansionBudget,
  ExpansionLimitError,
  interpolate,
  referencedVars,
  resolveVars,
  type UndefinedVar,
} from "./interpolate.ts";
import { MAX_NAME_LENGTH, MAX_RECIPE_BYTES, MAX_STEPS, MAX_SUGGESTIONS } from "./limits.ts";
import { parseYaml } from "./parse.ts";
import { standardExtensions } from "./standard_extensions.ts";
import { loadPlugins, type PluginPolicy } from "./plugins.ts";
import type { RawStep, Recipe, RecipeStep } from "./recipe.ts";
import { didYouMean, suggester } from "./suggest.ts";
import { validateSteps } from "./validate.ts";

/** The largest seed (seeds are 32-bit). */
export const MAX_SEED = 2 ** 32 - 1;

/** The top-level keys every recipe may use. */
export const RECIPE_KEYS = [
  "version",
  "name",
  "vars",
  "seed",
  "engine",
  "plugins",
  "steps",
  "allow_outside_output",
] as const;

/** Options for {@link loadRecipe}. */
export interface LoadOptions {
  /** Stages available to the recipe (cloned; plugins register into the clone); default built-in. */
  readonly registry?: StageRegistry;
  /**
   * Variable overrides: `name=value` strings with the value parsed as YAML (`--set`), or an
   * object of name → value.
   */
  readonly sets?: readonly string[] | Readonly<Record<string, unknown>>;
  /** Overrides `engine:`. */
  readonly engine?: string;
  /** Engine names accepted (unchecked when absent). */
  readonly engineNames?: readonly string[];
  /** Handlers of extra top-level keys (default: `matrix:`, `scales:`, `schedule:`). */
  readonly extensions?: readonly RecipeExtension[];
  /** Folders searched for model weights (for stages' checks); default `$STYLEPIPE_WEIGHTS`, `./weights`. */
  readonly weightsDirs?: readonly string[];
  /** Whether plugin modules are imported (default) or only reported as not loaded. */
  readonly plugins?: PluginPolicy;
}

/**
 * Reads and validates the recipe at `file` (built-in stages, `matrix:`, `scales:` and `schedule:`
 * unless `options` says otherwise); throws {@link RecipeError} listing every problem.
 *
 * @example Load and check a recipe
 * ```ts
 * const recipe = await loadRecipe("pipelines/photo-basics.yaml");
 * console.log(recipe.name, recipe.steps.map((s) => s.id));
 * ```
 */
export async function loadRecipe(file: string, options: LoadOptions = {}): Promise<Recipe> {
  return await parseRecipe(await readRecipeText(file), file, options);
}

/**
 * A recipe file's text: at most {@link MAX_RECIPE_BYTES} read, and UTF-8 only (an invalid byte is
 * an error at its line and column, not a silent U+FFFD).
 */
export async function readRecipeText(file: string): Promise<string> {
  const fail = (message: string, pos = { line: 1, col: 1 }): never => {
    throw new RecipeError([{ file, pos, message }]);
  };
  let bytes: Uint8Array;
  try {
    using handle = await Deno.open(file);
    const { size, isFile } = await handle.stat();
    if (!isFile) fail(`cannot read recipe: not a file`);
    if (size > MAX_RECIPE_BYTES) {
      fail(`the recipe is ${size} bytes long; at most ${MAX_RECIPE_BYTES} are read`);
    }
    bytes = new Uint8Array(size);
    let n = 0;
    for (let r; n < size && (r = await handle.read(bytes.subarray(n))) !== null;) n += r;
    bytes = bytes.subarray(0, n);
  } catch (e) {
    if (e instanceof RecipeError) throw e;
    const why = e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied
      ? `no permission to read it (${messageOf(e).split("\n")[0]})`
      : messageOf(e);
    return fail(`cannot read recipe: ${why}`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const before = new TextDecoder().decode(bytes.subarray(0, bad));
    const line = before.split("\n").length;
    const col = before.length - before.lastIndexOf("\n");
    return fail(
      `byte ${bad} (0x${bytes[bad].toString(16).padStart(2, "0")}) is not UTF-8: save the recipe ` +
        `as UTF-8`,
      { line, col },
    );
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let lo = 0, hi = bytes.length;
  // The longest valid prefix, by bisection (each decode is linear: O(n log n) in all).
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  // A sequence cut short by the bad byte: point at its first byte.
  let start = lo;
  while (start > 0 && lo - start < 3 && (bytes[start - 1] & 0xc0) === 0x80) start--;
  return start > 0 && bytes[start - 1] >= 0xc0 ? start - 1 : lo;
}

/**
 * Validates recipe text; `file` names it in messages and anchors relative paths. A problem in a
 * value that comes from `--set` says so.
 */
export async function parseRecipe(
  text: string,
  file: string,
  options: LoadOptions = {},
): Promise<Recipe> {
  try {
    return await checkRecipe(text, file, options);
  } catch (e) {
    const sets = setStrings(options.sets);
    if (e instanceof RecipeError && sets.length) {
      throw new RecipeError(attributeSets(e.issues, text, sets));
    }
    throw e;
  }
}

async function checkRecipe(text: string, file: string, options: LoadOptions): Promise<Recipe> {
  const parsed = parseYaml(text, file);
  if (parsed.issues.length) throw new RecipeError(parsed.issues);
  const { at } = parsed.yaml;
  const issues = new IssueList(file);
  const data = parsed.yaml.data;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    issues.add(at([]), "a recipe is a map with version, steps, …");
    issues.throwIfAny();
  }
  const top = data as Record<string, unknown>;
  const extensions = options.extensions ?? standardExtensions();
  const allowed = [...RECIPE_KEYS, ...extensions.map((e) => e.key)];
  const unknown = Object.keys(top).filter((k) => !allowed.includes(k));
  for (const k of unknown.slice(0, MAX_SUGGESTIONS)) {
    issues.add(at([k], true), `unknown top-level key "${k}"${didYouMean(k, allowed)}`);
  }
  if (unknown.length > MAX_SUGGESTIONS) {
    issues.add(
      at([unknown[MAX_SUGGESTIONS]], true),
      `… and ${unknown.length - MAX_SUGGESTIONS} more unknown top-level keys`,
    );
  }
  if (top.version !== 1) {
    const got = top.version === undefined ? "missing" : JSON.stringify(top.version);
    issues.add(at(["version"]), `"version: 1" is required (got ${got})`);
  }

  const written = readVars(top.vars, issues, at);
  const setNames = applySets(setStrings(options.sets), written, issues, at);
  const suggestVar = suggester(Object.keys(written));
  const budget = new ExpansionBudget();
  const vars = resolveVars(written, ({ name, message, undefinedName }) => {
    const hint = undefinedName === undefined ? "" : suggestVar(undefinedName);
    issues.add(at(["vars", name]), `variable "${name}": ${message}${hint}`);
  }, budget);

  // Interpolate everything except `vars` itself.
  const missing: UndefinedVar[] = [];
  const used = new Set<string>();
  const resolved: Record<string, unknown> = {};
  const deferred = new Set(
    extensions.flatMap((e) => Object.hasOwn(top, e.key) ? e.defers ?? [] : []),
  );
  for (const [k, v] of Object.entries(top)) {
    if (deferred.has(k)) { for (const n of referencedVars(v)) used.add(n); }
    try {
      resolved[k] = k === "vars" || deferred.has(k)
        ? v
        : interpolate(v, vars, [k], missing, used, budget);
    } catch (e) {
      if (!(e instanceof ExpansionLimitError)) throw e;
      issues.add(at(e.path), e.message);
      issues.throwIfAny();
    }
  }
  const suggestDefined = suggester(Object.keys(vars));
  for (const m of missing) {
    issues.add(
      at(m.path),
      `undefined variable "${m.name}"${suggestDefined(m.name)}`,
      stepIdAt(resolved, m.path),
    );
  }
  const extensionVars = new Set(
    extensions.flatMap((e) => Object.hasOwn(top, e.key) ? e.variables?.(top[e.key]) ?? [] : []),
  );
  for (const name of setNames) {
    if (!used.has(name) && !Object.hasOwn(top.vars ?? {}, name) && !extensionVars.has(name)) {
      issues.add(
        at(["vars"], true),
        `--set ${name}: the recipe has no variable "${name}"` +
          didYouMean(name, Object.keys(top.vars ?? {})),
      );
    }
  }

  const engine = options.engine ?? resolved.engine ?? "auto";
  if (typeof engine !== "string") issues.add(at(["engine"]), `"engine:" must be a name`);
  else if (options.engineNames && !options.engineNames.includes(engine)) {
    issues.add(
      at(["engine"]),
      `unknown engine "${engine}"${didYouMean(engine, options.engineNames)}; ` +
        `choose one of ${options.engineNames.join(", ")}`,
    );
  }
  const seed = resolved.seed ?? 0;
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    // Seeds are used modulo 2³²: a larger one would silently repeat a smaller one's pixels.
    issues.add(
      at(["seed"]),
      `"seed:" must be a whole number from 0 to ${MAX_SEED}, got ${
        JSON.stringify(seed)?.slice(0, 40)
      }`,
    );
  }
  const allowOutside = resolved.allow_outside_output ?? false;
  if (typeof allowOutside !== "boolean") {
    issues.add(at(["allow_outside_output"]), `"allow_outside_output:" must be true or false`);
  }
  const name = resolved.name ?? basename(file, extname(file));
  if (typeof name !== "string") issues.add(at(["name"]), `"name:" must be text`);
  else if (!isFolderName(name)) {
    // `schedule` writes under <out-dir>/<name>/: the name must be one folder name.
    issues.add(
      at(["name"]),
      `"name:" must be a folder name of at most ${MAX_NAME_LENGTH} characters ` +
        `without "/", "\\", NUL or control characters, and not "." or ".."`,
    );
  }

  const dir = dirname(resolve(file));
  const registry = (options.registry ?? builtinStages()).clone();
  const plugins = await loadPlugins(resolved.plugins, dir, registry, issues, at, options.plugins);

  const ctx = {
    steps: rawSteps(resolved.steps, issues, at, extensions.length > 0),
    recipe: resolved,
    vars,
    sets: Object.fromEntries(setNames.map((n) => [n, written[n]])),
    budget,
    dir,
    issues,
    at,
  };
  for (const ext of extensions) {
    if (Object.hasOwn(resolved, ext.key)) await ext.apply(resolved[ext.key], ctx);
  }
  if (ctx.steps.length === 0 && issues.empty) issues.add(at(["steps"]), `the recipe has no steps`);
  if (ctx.steps.length > MAX_STEPS) {
    issues.add(at(["steps"]), `the recipe has ${ctx.steps.length} steps; at most ${MAX_STEPS}`);
    issues.throwIfAny();
  }

  const weightsDirs = options.weightsDirs ?? defaultWeightsDirs();
  const steps = await validateSteps(ctx.steps, {
    registry,
    issues,
    at,
    weightsDirs,
    pluginsSkipped: plugins.skipped,
  });
  // Already failing (e.g. no weights): name the missing input files too, so one run shows all.
  if (!issues.empty) await addMissingInputs(steps, dir, issues, at);
  issues.throwIfAny();
  return {
    file,
    dir,
    name: name as string,
    seed: seed as number,
    engine: engine as string,
    vars,
    allowOutsideOutput: allowOutside as boolean,
    files: [resolve(file), ...plugins.files],
    steps,
    registry,
    at,
  };
}

/** Adds an issue for each input file of `steps` found in none of the default lookup folders. */
async function addMissingInputs(
  steps: readonly RecipeStep[],
  recipeDir: string,
  issues: IssueList,
  at: (p: readonly (string | number)[]) => { line: number; col: number },
): Promise<void> {
  const paths = { recipeDir, imageDirs: defaultImageDirs(), outDir: ".", allowOutsideOutput: true };
  for (const step of steps) {
    if (step.params === undefined) continue; // its parameters failed validation: already reported
    for (const written of declaredInputFiles(step)) {
      try {
        await findInput(written, paths);
      } catch (e) {
        if (!(e instanceof StageError)) throw e;
        const params = (step.params ?? {}) as Record<string, unknown>;
        const param = Object.keys(params).find((k) => params[k] === written);
        issues.add(at([...step.path, "with", ...(param ? [param] : [])]), e.message, step.id);
      }
    }
  }
}

function readVars(
  raw: unknown,
  issues: IssueList,
  at: (p: readonly (string | number)[], key?: boolean) => { line: number; col: number },
): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    issues.add(at(["vars"]), `"vars:" must be a map of name: value`);
    return {};
  }
  for (const k of Object.keys(raw)) {
    if (k.length > MAX_NAME_LENGTH) {
      issues.add(at(["vars", k], true), `variable name longer than ${MAX_NAME_LENGTH} characters`);
    }
  }
  return { ...(raw as Record<string, unknown>) };
}

/** Overrides as `name=value` strings (an object's values written as JSON, which YAML reads back). */
function setStrings(sets: LoadOptions["sets"]): readonly string[] {
  if (!sets) return [];
  if (Array.isArray(sets)) return sets as readonly string[];
  return Object.entries(sets).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
}

/** Applies `name=value` overrides (value parsed as YAML); returns the names set. */
function applySets(
  sets: readonly string[],
  vars: Record<string, unknown>,
  issues: IssueList,
  at: (p: readonly (string | number)[], key?: boolean) => { line: number; col: number },
): string[] {
  const names: string[] = [];
  for (const s of sets) {
    const eq = s.indexOf("=");
    if (eq <= 0) {
      issues.add(at(["vars"], true), `--set ${s}: expected name=value`);
      continue;
    }
    const name = s.slice(0, eq);
    // The same parser and bounds as the recipe: aliases, cycles, depth and size.
    const value = parseYaml(s.slice(eq + 1), `--set ${name}`);
    if (value.issues.length) {
      const first = value.issues[0];
      issues.add(
        at(["vars"], true),
        `--set ${name}: ${first.message} (at character ${first.pos.col}` +
          `${first.pos.line > 1 ? ` of line ${first.pos.line}` : ""})`,
      );
      continue;
    }
    vars[name] = value.yaml.data ?? null;
    names.push(name);
  }
  return names;
}

function rawSteps(
  raw: unknown,
  issues: IssueList,
  at: (p: readonly (string | number)[]) => { line: number; col: number },
  optional: boolean,
): RawStep[] {
  if (raw === undefined && optional) return [];
  if (!Array.isArray(raw)) {
    issues.add(at(["steps"]), `"steps:" must be a list of steps`);
    return [];
  }
  const steps: RawStep[] = [];
  raw.forEach((s, i) => {
    if (s === null || typeof s !== "object" || Array.isArray(s)) {
      issues.add(at(["steps", i]), `a step is a map with id, use, from, with`);
      return;
    }
    const { id, use, from, with: params, ...extra } = s as Record<string, unknown>;
    steps.push({ id, use, from, with: params, path: ["steps", i], extraKeys: Object.keys(extra) });
  });
  return steps;
}

function stepIdAt(
  data: Record<string, unknown>,
  path: readonly (string | number)[],
): string | undefined {
  if (path[0] !== "steps" || typeof path[1] !== "number") return undefined;
  const step = (data.steps as Record<string, unknown>[] | undefined)?.[path[1]];
  return typeof step?.id === "string" ? step.id : undefined;
}

/** Whether `name` can be one folder name (no separators, NUL or control characters, not `.`/`..`). */
function isFolderName(name: string): boolean {
  // deno-lint-ignore no-control-regex
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && !/[/\\\x00-\x1f]/.test(name) &&
    name !== "." && name !== "..";
}
