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
