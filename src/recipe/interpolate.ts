/**
 * `${name}` variable interpolation. A string that is exactly `${name}` takes the variable's value
 * with its type (number, list, map); inside a longer string the value is formatted as text.
 * `$${` writes a literal `${`.
 */
import { MAX_EXPANDED_CHARS, MAX_EXPANDED_VALUES } from "./limits.ts";
import type { DataPath } from "./parse.ts";

/** What a value costs once its variables are expanded: values (keys, items, scalars) and text. */
export interface ExpandedSize {
  readonly values: number;
  readonly chars: number;
}

/** Variables that would expand past the budget: where, and the chain of variables that grows. */
export class ExpansionLimitError extends Error {
  /** @param path where the expansion was refused @param chain the variables, outermost first */
  constructor(readonly path: DataPath, readonly chain: readonly string[]) {
    super(
      `variables expand past ${MAX_EXPANDED_VALUES} values or ${MAX_EXPANDED_CHARS} characters ` +
        `(through ${chainText(chain)}); a variable used many times inside another multiplies ` +
        `its size: use fewer references`,
    );
    this.name = "ExpansionLimitError";
  }
}

function chainText(chain: readonly string[]): string {
  const shown = chain.length > 8 ? [...chain.slice(0, 4), "…", ...chain.slice(-3)] : chain;
  return shown.map((n) => n === "…" ? n : `\${${n}}`).join(" → ");
}

/**
 * The expansion budget of one recipe: every variable's expanded size, computed from the sizes of
 * the variables it uses before anything is built, and the total spent by the expansions made.
 * Past {@link MAX_EXPANDED_VALUES} values or {@link MAX_EXPANDED_CHARS} characters in all, an
 * {@link ExpansionLimitError} names the chain of variables.
 */
export class ExpansionBudget {
  readonly #sizes = new Map<string, ExpandedSize>();
  readonly #heaviest = new Map<string, string>();
  #values = 0;
  #chars = 0;

  /** Records variable `name` with its written value (the variables it uses already recorded). */
  measureVar(name: string, written: unknown): ExpandedSize {
    const { size, heaviest } = measure(written, (n) => this.#sizes.get(n));
    this.#sizes.set(name, size);
    if (heaviest !== undefined) this.#heaviest.set(name, heaviest);
    return size;
  }

  /** The variables from `name` down its heaviest references. */
  chain(name: string): string[] {
    const out = [name];
    for (let n = this.#heaviest.get(name); n !== undefined && !out.includes(n);) {
      out.push(n);
      n = this.#heaviest.get(n);
    }
    return out;
  }

  /** Whether `size` alone is past the budget. */
  tooLarge(size: ExpandedSize): boolean {
    return size.values > MAX_EXPANDED_VALUES || size.chars > MAX_EXPANDED_CHARS;
  }

  /**
   * Spends what inserting variable `name` (value `value`) at `path` costs, as text (`inText`) or
   * as a value; throws {@link ExpansionLimitError} past the budget.
   */
  spend(name: string, value: unknown, path: DataPath, inText: boolean): void {
    const size = this.#sizes.get(name) ?? cappedSize(value, {
      values: MAX_EXPANDED_VALUES - this.#values + 1,
      chars: MAX_EXPANDED_CHARS - this.#chars + 1,
    });
    this.#values += inText ? 1 : size.values;
    this.#chars += inText && typeof value !== "string" ? size.chars + 3 * size.values : size.chars;
    if (this.#values > MAX_EXPANDED_VALUES || this.#chars > MAX_EXPANDED_CHARS) {
      throw new ExpansionLimitError(path, this.chain(name));
    }
  }
}

/** The expanded size of a written value, given the sizes of the variables it names. */
function measure(
  value: unknown,
  sizeOf: (name: string) => ExpandedSize | undefined,
): { size: ExpandedSize; heaviest?: string } {
  let values = 0;
  let chars = 0;
  let heaviest: string | undefined;
  let heaviestCost = -1;
  const use = (name: string, inText: boolean) => {
    const s = sizeOf(name);
    if (!s) return false;
    const cost = s.values + s.chars;
    if (cost > heaviestCost) [heaviest, heaviestCost] = [name, cost];
    values += inText ? 0 : s.values;
    chars += inText ? s.chars + 3 * s.values : s.chars;
    return true;
  };
  const pending = [value];
  while (pending.length) {
    const v = pending.pop();
    if (typeof v === "string") {
      const whole = WHOLE.exec(v);
      if (whole && use(whole[1], false)) continue;
      values++;
      chars += v.length;
      for (const m of v.matchAll(PART)) {
        if (m[1] !== undefined && use(m[1], true)) chars -= m[0].length;
      }
    } else if (Array.isArray(v)) {
      values++;
      for (const x of v) pending.push(x);
    } else if (v !== null && typeof v === "object") {
      values++;
      for (const [k, x] of Object.entries(v)) {
        values++;
        chars += k.length;
        pending.push(x);
      }
    } else values++;
  }
  return { size: { values, chars }, heaviest };
}

/** The size of an actual value, walking at most `cap` of it (a value shared many times is a DAG). */
function cappedSize(value: unknown, cap: ExpandedSize): ExpandedSize {
  let values = 0;
  let chars = 0;
  const pending = [value];
  while (pending.length && values <= cap.values && chars <= cap.chars) {
    const v = pending.pop();
    values++;
    if (typeof v === "string") chars += v.length;
    else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (!Array.isArray(v)) chars += k.length;
        pending.push(x);
      }
    }
  }
  return { values, chars };
}

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
 * `missing` and left as written; `used` receives every variable name referenced. With a `budget`,
 * each insertion is paid for before it is made ({@link ExpansionLimitError} past it).
 */
export function interpolate(
  value: unknown,
  vars: Readonly<Record<string, unknown>>,
  path: DataPath = [],
  missing: UndefinedVar[] = [],
  used: Set<string> = new Set(),
  budget?: ExpansionBudget,
): unknown {
  if (typeof value === "string") return interpolateString(value, vars, path, missing, used, budget);
  if (Array.isArray(value)) {
    return value.map((v, i) => interpolate(v, vars, [...path, i], missing, used, budget));
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map((
        [k, v],
      ) => [k, interpolate(v, vars, [...path, k], missing, used, budget)]),
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
  budget: ExpansionBudget | undefined,
): unknown {
  const whole = WHOLE.exec(s);
  if (whole) {
    const name = whole[1];
    used.add(name);
    if (!Object.hasOwn(vars, name)) {
      missing.push({ path, name });
      return s;
    }
    budget?.spend(name, vars[name], path, false);
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
    budget?.spend(name, v, path, true);
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
    } else if (v !== null && typeof v === "object") {
      for (const x of Object.values(v)) pending.push(x); // a loop: a spread of 500,000 overflows
    }
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
 * dependency order (linear in the size of `vars`). A cycle, an undefined name or an expansion past
 * the `budget` (measured before it is built) is reported per variable, and the variable is left as
 * written.
 */
export function resolveVars(
  vars: Readonly<Record<string, unknown>>,
  report: (p: VarProblem) => void,
  budget: ExpansionBudget = new ExpansionBudget(),
): Record<string, unknown> {
  let total: ExpandedSize = { values: 0, chars: 0 };
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
      const size = budget.measureVar(top.name, inCycle ? undefined : vars[top.name]);
      const sum = { values: total.values + size.values, chars: total.chars + size.chars };
      const tooLarge = !inCycle && budget.tooLarge(sum);
      if (!tooLarge) total = sum;
      else {
        report({
          name: top.name,
          message: new ExpansionLimitError([], budget.chain(top.name)).message,
        });
        budget.measureVar(top.name, undefined);
      }
      out[top.name] = inCycle || tooLarge
        ? vars[top.name]
        : interpolate(vars[top.name], known, [], missing);
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
