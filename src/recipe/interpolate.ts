/**
 * `${name}` variable interpolation. A string that is exactly `${name}` takes the variable's value
 * with its type (number, list, map); inside a longer string the value is formatted as text.
 * `$${` writes a literal `${`.
 */
import type { DataPath } from "./parse.ts";

/** A reference to a variable that has no value. */
export interface UndefinedVar {
  /** Where the reference is. */
  readonly path: DataPath;
  /** The variable name. */
  readonly name: string;
}

const WHOLE = /^\$\{\s*([A-Za-z_][\w.-]*)\s*\}$/;
const PART = /\$\$\{|\$\{\s*([A-Za-z_][\w.-]*)\s*\}/g;

/**
 * Replaces variable references in `value` (recursively). Undefined variables are reported through
 * `missing` and left as written; `used` receives every variable name referenced.
 */
export function interpolate(
  value: unknown,
  vars: Readonly<Record<string, unknown>>,
  path: DataPath = [],
  missing: UndefinedVar[] = [],
  used: Set<string> = new Set(),
): unknown {
  if (typeof value === "string") return interpolateString(value, vars, path, missing, used);
  if (Array.isArray(value)) {
    return value.map((v, i) => interpolate(v, vars, [...path, i], missing, used));
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, vars, [...path, k], missing, used)]),
    );
  }
  return value;
}

function interpolateString(
  s: string,
  vars: Readonly<Record<string, unknown>>,
  path: DataPath,
  missing: UndefinedVar[],
  used: Set<string>,
): unknown {
  const whole = WHOLE.exec(s);
  if (whole) {
    const name = whole[1];
    used.add(name);
    if (!Object.hasOwn(vars, name)) {
      missing.push({ path, name });
      return s;
    }
    return vars[name];
  }
  return s.replace(PART, (match, name: string | undefined) => {
    if (name === undefined) return "${";
    used.add(name);
    if (!Object.hasOwn(vars, name)) {
      missing.push({ path, name });
      return match;
    }
    const v = vars[name];
    return typeof v === "string" ? v : JSON.stringify(v);
  });
}

/** The variable names `value` refers to (`${name}` in any string inside it). */
export function referencedVars(value: unknown): Set<string> {
  const names = new Set<string>();
  const pending = [value];
  while (pending.length) {
    const v = pending.pop();
    if (typeof v === "string") {
      for (const m of v.matchAll(PART)) if (m[1] !== undefined) names.add(m[1]);
    } else if (Array.isArray(v)) pending.push(...v);
    else if (v !== null && typeof v === "object") pending.push(...Object.values(v));
  }
  return names;
}

/** A problem found while resolving variables that use other variables. */
export interface VarProblem {
  /** The variable whose value has the problem. */
  readonly name: string;
  /** What is wrong. */
  readonly message: string;
  /** The undefined variable it uses, if that is the problem. */
  readonly undefinedName?: string;
}

/**
 * Resolves variables whose values use other variables (`out: "${stem}.png"`), each once, in
 * dependency order (linear in the size of `vars`). A cycle or an undefined name is reported per
 * variable and the variable is left as written.
 */
export function resolveVars(
  vars: Readonly<Record<string, unknown>>,
  report: (p: VarProblem) => void,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const refs = new Map<string, string[]>();
  const state = new Map<string, "visiting" | "done">();
  for (const root of Object.keys(vars)) {
    if (state.has(root)) continue;
    // Iterative depth-first search: a long chain of variables cannot overflow the stack.
    const stack: { name: string; i: number }[] = [{ name: root, i: 0 }];
    state.set(root, "visiting");
    while (stack.length) {
      const top = stack[stack.length - 1];
      let deps = refs.get(top.name);
      if (!deps) refs.set(top.name, deps = [...referencedVars(vars[top.name])]);
      if (top.i < deps.length) {
        const d = deps[top.i++];
        if (!Object.hasOwn(vars, d) || state.get(d) === "done") continue;
        if (state.get(d) === "visiting") {
          const cycle = stack.slice(stack.findIndex((f) => f.name === d)).map((f) => f.name);
          report({
            name: top.name,
            message: `variables form a cycle: ${[...cycle, d].join(" → ")}`,
          });
          continue;
        }
        state.set(d, "visiting");
        stack.push({ name: d, i: 0 });
        continue;
      }
      stack.pop();
      const missing: UndefinedVar[] = [];
      const known = Object.fromEntries(
        deps.filter((d) => Object.hasOwn(out, d)).map((d) => [d, out[d]]),
      );
      const inCycle = deps.some((d) => Object.hasOwn(vars, d) && !Object.hasOwn(out, d));
      out[top.name] = inCycle ? vars[top.name] : interpolate(vars[top.name], known, [], missing);
      for (const m of missing) {
        if (!Object.hasOwn(vars, m.name)) {
          report({
            name: top.name,
            message: `undefined variable "${m.name}"`,
            undefinedName: m.name,
          });
        }
      }
      state.set(top.name, "done");
    }
  }
  return out;
}
