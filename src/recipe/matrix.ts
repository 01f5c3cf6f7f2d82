/**
 * `matrix:` — render every combination of some variables in one plan.
 *
 * ```yaml
 * matrix:
 *   content: [tubingen.jpg, shipwreck.jpg]   # a list…
 *   style: "styles/*.jpg"                    # …or a glob (recipe folder, then $STYLEPIPE_IMAGES)
 * steps:
 *   - { id: final, use: save, from: out, with: { path: "${content_name}-${style_name}.png" } }
 * ```
 *
 * Each key becomes a variable (`${content}`), plus `${<key>_name}`: the file name without folder
 * and extension. The steps are interpolated once per combination; a step whose interpolated stage,
 * parameters and inputs are the same in several combinations becomes ONE step (so a style's Gram
 * targets are computed once per style, not once per content × style), and steps that differ get
 * ids suffixed with the matrix values they depend on (`features-starry_night`).
 */
import { glob } from "node:fs/promises";
import { basename, extname, isAbsolute, join } from "node:path";
import { defaultImageDirs } from "../pipeline/locations.ts";
import type { ExtensionContext, RecipeExtension } from "./extensions.ts";
import {
  type ExpansionBudget,
  ExpansionLimitError,
  interpolate,
  type UndefinedVar,
} from "./interpolate.ts";
import type { DataPath } from "./parse.ts";
import { MAX_COMBINATIONS, MAX_NAME_LENGTH, MAX_STEPS } from "./limits.ts";
import type { RawStep } from "./recipe.ts";
import { suggester } from "./suggest.ts";

/** One matrix variable and its values, in order. */
export interface MatrixAxis {
  readonly key: string;
  readonly values: readonly unknown[];
}

/** One combination: matrix key → value. */
export type Combination = Readonly<Record<string, unknown>>;

const GLOB_CHARS = /[*?[{]/;
const KEY = /^[A-Za-z_][\w-]*$/;

/**
 * Reads `matrix:` into axes. A string with glob characters is expanded (sorted) against the first
 * of `dirs` where it matches; a plain string is one value; a list is taken as is. Problems are
 * passed to `report` with the data path they concern.
 */
export async function matrixAxes(
  value: unknown,
  dirs: readonly string[],
  report: (path: DataPath, message: string) => void,
): Promise<MatrixAxis[]> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    report(["matrix"], `"matrix:" must be a map of variable: list of values (or a glob)`);
    return [];
  }
  const axes: MatrixAxis[] = [];
  if (Object.keys(value).length === 0) report(["matrix"], `"matrix:" has no variables`);
  for (const [key, v] of Object.entries(value)) {
    const path = ["matrix", key];
    if (!KEY.test(key) || key.length > MAX_NAME_LENGTH) {
      report(
        path,
        `matrix variable "${key.slice(0, 64)}" must be a name of letters, digits, "_" or "-" ` +
          `(at most ${MAX_NAME_LENGTH})`,
      );
    } else if (Array.isArray(v)) {
      if (v.length === 0) report(path, `matrix variable "${key}" has no values`);
      else axes.push({ key, values: v });
    } else if (typeof v === "string" && GLOB_CHARS.test(v)) {
      if (isAbsolute(v) || /^[A-Za-z]:/.test(v) || v.split(/[\\/]/).includes("..")) {
        report(
          path,
          `"${v.slice(0, 200)}" leaves the recipe's folder: a matrix glob is relative to the ` +
            `recipe's folder (or $STYLEPIPE_IMAGES) and has no "..": list files outside by name`,
        );
        continue;
      }
      const values = await expandGlob(v, dirs);
      if (values.length === 0) {
        report(path, `"${v}" matches no file (looked in ${dirs.join(", ")})`);
      } else axes.push({ key, values });
    } else if (v !== null && typeof v !== "object") {
      axes.push({ key, values: [v] });
    } else {
      report(path, `matrix variable "${key}" must be a list of values or a glob`);
    }
  }
  return axes;
}

/** Files matching `pattern` in the first folder of `dirs` that has any, relative to it, sorted. */
async function expandGlob(pattern: string, dirs: readonly string[]): Promise<string[]> {
  for (const dir of dirs) {
    const found: string[] = [];
    try {
      for await (const f of glob(pattern, { cwd: dir })) {
        found.push(f);
        if (found.length > MAX_COMBINATIONS) break; // more is an error anyway (too many combinations)
      }
    } catch {
      continue; // folder missing or unreadable: try the next one
    }
    const files = [];
    for (const f of found) {
      const info = await Deno.stat(join(dir, f)).catch(() => undefined);
      if (info?.isFile) files.push(f);
    }
    if (files.length) return files.sort();
  }
  return [];
}

/** Every combination of the axes' values (first axis varies slowest). */
export function combinations(axes: readonly MatrixAxis[]): Combination[] {
  let out: Record<string, unknown>[] = [{}];
  for (const axis of axes) {
    out = out.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.key]: v })));
  }
  return out;
}

/** The variables a combination adds: each key's value and `<key>_name` (file name sans extension). */
export function combinationVars(combination: Combination): Record<string, unknown> {
  const vars: Record<string, unknown> = { ...combination };
  for (const [k, v] of Object.entries(combination)) {
    const text = typeof v === "string" ? v : JSON.stringify(v);
    vars[`${k}_name`] = basename(text, extname(text));
  }
  return vars;
}

/** A step of one combination after interpolation. */
interface Instance {
  readonly use: unknown;
  readonly from: unknown;
  readonly with: unknown;
}

/**
 * Expands (un-interpolated) steps over the combinations, merging identical instances. Undefined
 * variables are reported once per place through `missing`.
 */
export function expandSteps(
  steps: readonly RawStep[],
  vars: Readonly<Record<string, unknown>>,
  combos: readonly Combination[],
  missing: (m: UndefinedVar, stepId: string | undefined) => void,
  budget?: ExpansionBudget,
): RawStep[] {
  const ids = steps.map((s) => (typeof s.id === "string" ? s.id : undefined));
  const index = new Map<string, number>();
  ids.forEach((id, i) => id !== undefined && !index.has(id) && index.set(id, i));
  const reported = new Set<string>();

  const instances: Instance[][] = steps.map((s, i) =>
    combos.map((c) => {
      const gaps: UndefinedVar[] = [];
      const all = { ...vars, ...combinationVars(c) };
      const inst = {
        use: interpolate(s.use, all, [...s.path, "use"], gaps, undefined, budget),
        from: interpolate(s.from, all, [...s.path, "from"], gaps, undefined, budget),
        with: interpolate(s.with, all, [...s.path, "with"], gaps, undefined, budget),
      };
      for (const m of gaps) {
        const key = `${m.path.join("\0")}\0${m.name}`;
        if (!reported.has(key)) missing(m, ids[i]);
        reported.add(key);
      }
      return inst;
    })
  );

  // Signature of step i in combination c: its stage, parameters and its inputs' signatures.
  // Computed without recursion (a long chain of steps cannot overflow the stack).
  const memo = new Map<string, string>();
  const active = new Set<string>(); // roots being computed (a gathered cycle stops here)
  const signature = (root: number, c: number): string => {
    active.add(`${root}:${c}`);
    const stack = [root];
    const onStack = new Set([root]);
    while (stack.length) {
      const i = stack[stack.length - 1];
      const inst = instances[i][c];
      const pending: number[] = [];
      mapFrom(inst.from, (ref) => {
        const base = gathered(ref);
        const j = index.get(base ?? ref);
        if (j === undefined) return;
        if (base === undefined) {
          if (!memo.has(`${j}:${c}`) && !onStack.has(j)) pending.push(j);
          return;
        }
        // A gathered reference depends on the step in every combination (nesting is shallow).
        combos.forEach((_, k) => {
          if (!memo.has(`${j}:${k}`) && !active.has(`${j}:${k}`)) signature(j, k);
        });
      });
      if (pending.length) {
        onStack.add(pending[0]); // one at a time: the stack is the path from the root
        stack.push(pending[0]);
        continue;
      }
      const from = mapFrom(inst.from, (ref) => {
        const base = gathered(ref);
        const j = index.get(base ?? ref);
        if (j === undefined) return `?${ref}`;
        // A cycle (validation reports it): keep the combinations apart.
        const sig = (k: number) => memo.get(`${j}:${k}`) ?? `cycle:${c}`;
        return base === undefined ? sig(c) : combos.map((_, k) => sig(k)).join("|");
      });
      memo.set(`${i}:${c}`, JSON.stringify([inst.use, stable(inst.with), from]));
      stack.pop();
      onStack.delete(i);
    }
    active.delete(`${root}:${c}`);
    return memo.get(`${root}:${c}`)!;
  };

  // Group each step's combinations by signature and name the groups.
  const groupOf: number[][] = steps.map((_, i) => {
    const sigs = combos.map((_, c) => signature(i, c));
    const distinct = [...new Set(sigs)];
    return sigs.map((s) => distinct.indexOf(s));
  });
  const taken = new Set(ids.filter((id): id is string => id !== undefined));
  const names: string[][] = steps.map((_, i) => {
    const groups = Math.max(...groupOf[i]) + 1;
    if (ids[i] === undefined || groups === 1) return [ids[i] ?? ""];
    return groupNames(ids[i]!, groupOf[i], groups, combos, taken);
  });

  const out: RawStep[] = [];
  steps.forEach((s, i) => {
    const emitted = new Set<number>();
    combos.forEach((_, c) => {
      const g = groupOf[i][c];
      if (emitted.has(g)) return;
      emitted.add(g);
      const inst = instances[i][c];
      const rename = (ref: string): string | string[] => {
        const base = gathered(ref);
        const j = index.get(base ?? ref);
        if (j === undefined) return ref;
        // `id[*]`: every distinct instance of the step, in combination order.
        if (base !== undefined) return [...new Set(groupOf[j].map((g) => names[j][g]))];
        return names[j][groupOf[j][c]] ?? ref;
      };
      out.push({
        ...s,
        id: ids[i] === undefined ? s.id : names[i][g],
        use: inst.use,
        from: mapFrom(inst.from, rename),
        with: inst.with,
      });
    });
  });
  return out;
}

/** Names for a step's groups: id + the varying matrix values constant within each group (else an index). */
function groupNames(
  id: string,
  groupOf: readonly number[],
  groups: number,
  combos: readonly Combination[],
  taken: Set<string>,
): string[] {
  // Keys that take more than one value in the matrix (a single-valued key names nothing).
  const keys = Object.keys(combos[0] ?? {}).filter((k) =>
    combos.some((c) => !same(c[k], combos[0][k]))
  );
  const names: string[] = [];
  for (let g = 0; g < groups; g++) {
    const members = combos.filter((_, c) => groupOf[c] === g);
    const constant = keys.filter((k) => members.every((m) => same(m[k], members[0][k])));
    const label = constant
      .map((k) => combinationVars({ [k]: members[0][k] })[`${k}_name`] as string)
      .join("-")
      .replace(/[^\w-]+/g, "_");
    names.push(label ? `${id}-${label}` : `${id}-${g + 1}`);
  }
  const unique = new Set(names).size === names.length && names.every((n) => !taken.has(n));
  const final = unique ? names : names.map((_, g) => `${id}-${g + 1}`);
  final.forEach((n) => taken.add(n));
  return final;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(stable(a)) === JSON.stringify(stable(b));
}

/** The step id of a gathering reference `id[*]` (all of a step's matrix instances), else undefined. */
export function gathered(ref: string): string | undefined {
  return ref.endsWith("[*]") ? ref.slice(0, -3) : undefined;
}

/**
 * Applies `f` to every step id in a `from:` value (id, list of ids, or map of name → id(s)); a
 * list result of `f` (a gathered reference) is spliced into the list it stands in.
 */
function mapFrom<T>(from: unknown, f: (id: string) => T): unknown {
  if (typeof from === "string") return f(from);
  if (Array.isArray(from)) return from.flatMap((v) => (typeof v === "string" ? f(v) : [v]));
  if (from !== null && typeof from === "object") {
    return Object.fromEntries(
      Object.entries(from).map(([k, v]) => [k, mapFrom(v, f)]),
    );
  }
  return from;
}

/** A copy with object keys sorted (stable signatures). */
function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, stable((v as never)[k])]));
  }
  return v;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * The `matrix:` recipe extension. It interpolates `steps:` itself (once per combination), so the
 * loader must leave `steps` un-interpolated when `matrix:` is present (`defers`).
 * `imageDirs` are searched for globs after the recipe's folder (default `$STYLEPIPE_IMAGES`, …).
 */
export function matrixExtension(
  imageDirs: readonly string[] = defaultImageDirs(),
): RecipeExtension {
  return {
    key: "matrix",
    defers: ["steps"],
    variables: (value) => isMap(value) ? Object.keys(value) : [],
    async apply(value: unknown, ctx: ExtensionContext) {
      let invalid = false;
      // `--set key=…` for a matrix key replaces that axis (a batch over other files).
      const overridden = new Set(
        isMap(value) ? Object.keys(value).filter((k) => Object.hasOwn(ctx.sets, k)) : [],
      );
      const report = (path: DataPath, message: string) => {
        invalid = true;
        const fromSet = path[0] === "matrix" && overridden.has(String(path[1]));
        ctx.issues.add(ctx.at(path), fromSet ? `${message} (from --set ${path[1]})` : message);
      };
      const merged = isMap(value)
        ? { ...value, ...Object.fromEntries([...overridden].map((k) => [k, ctx.sets[k]])) }
        : value;
      const axes = await matrixAxes(merged, [ctx.dir, ...imageDirs], report);
      const written = isMap(ctx.recipe.vars) ? ctx.recipe.vars : {};
      const clash = axes.find((a) => Object.hasOwn(written, a.key));
      if (clash) {
        report(["matrix", clash.key], `"${clash.key}" is both a matrix key and a var; rename one`);
      }
      const count = axes.reduce((n, a) => n * a.values.length, 1);
      if (count > MAX_COMBINATIONS) {
        report(
          ["matrix"],
          `"matrix:" makes ${count > 1e15 ? "over 10^15" : count} combinations ` +
            `(${axes.map((a) => `${a.key}: ${a.values.length}`).join(" × ")}); ` +
            `at most ${MAX_COMBINATIONS}`,
        );
      } else if (count * ctx.steps.length > MAX_STEPS * 10) {
        report(
          ["matrix"],
          `"matrix:" makes ${count} combinations of ${ctx.steps.length} steps; ` +
            `at most ${MAX_STEPS * 10} step instances`,
        );
      }
      if (invalid || axes.length === 0) {
        // Un-expanded steps would only add noise (undefined matrix variables): fix the matrix first.
        ctx.steps = [];
        return;
      }
      // Duplicate ids before expansion: instances get distinct names, so validation cannot tell.
      const firstAt = new Map<string, number>();
      ctx.steps = ctx.steps.filter((st) => {
        if (typeof st.id !== "string") return true;
        const first = firstAt.get(st.id);
        if (first === undefined) {
          firstAt.set(st.id, ctx.at([...st.path, "id"]).line);
          return true;
        }
        ctx.issues.add(
          ctx.at([...st.path, "id"]),
          `duplicate step id (first used at line ${first})`,
          st.id,
        );
        return false;
      });
      const combos = combinations(axes);
      const suggest = suggester([
        ...Object.keys(ctx.vars),
        ...Object.keys(combinationVars(combos[0])),
      ]);
      try {
        ctx.steps = expandSteps(ctx.steps, ctx.vars, combos, (m, step) => {
          const hint = suggest(m.name);
          ctx.issues.add(ctx.at(m.path), `undefined variable "${m.name}"${hint}`, step);
        }, ctx.budget);
      } catch (e) {
        if (!(e instanceof ExpansionLimitError)) throw e;
        ctx.issues.add(ctx.at(e.path), e.message);
        ctx.steps = [];
      }
    },
  };
}
