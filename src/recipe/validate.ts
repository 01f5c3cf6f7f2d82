/**
 * Step validation: stage names, parameters (the stage's zod schema), `from` wiring, duplicate ids,
 * cycles and input kinds, plus each stage's own `check`. Every problem is collected, with its
 * position, before anything is reported.
 */
import { gathered } from "./matrix.ts";
import type { Kind, Stage } from "../stages/stage.ts";
import type { StageRegistry } from "../stages/registry.ts";
import type { IssueList, Position } from "./errors.ts";
import type { DataPath } from "./parse.ts";
import { paramNames } from "./params.ts";
import type { RawStep, RecipeStep } from "./recipe.ts";
import { MAX_NAME_LENGTH } from "./limits.ts";
import { didYouMean, suggester } from "./suggest.ts";
import { messageOf } from "../util/errors.ts";

/** What step validation needs besides the steps. */
export interface ValidationContext {
  readonly registry: StageRegistry;
  readonly issues: IssueList;
  at(path: DataPath, key?: boolean): Position;
  /** Folders searched for model weights (for stages' `check`). */
  readonly weightsDirs: readonly string[];
  /** Whether a plugin was named but not loaded (its stages are then unknown here). */
  readonly pluginsSkipped?: boolean;
}

const STEP_KEYS = ["id", "use", "from", "with"];
const ID = /^[A-Za-z_][\w-]*$/;

/** Validates raw steps into recipe steps; problems go to `ctx.issues`. */
export async function validateSteps(
  raw: readonly RawStep[],
  ctx: ValidationContext,
): Promise<RecipeStep[]> {
  const { issues, at } = ctx;
  const steps: RecipeStep[] = [];
  const seen = new Map<string, RawStep>();
  for (const s of raw) {
    for (const k of s.extraKeys ?? []) {
      issues.add(
        at([...s.path, k], true),
        `unknown key "${k}"${didYouMean(k, STEP_KEYS)}`,
        idOf(s),
      );
    }
    if (typeof s.id !== "string" || !ID.test(s.id) || s.id.length > MAX_NAME_LENGTH) {
      const msg = s.id === undefined
        ? `step needs an "id:" (a name other steps use in "from:")`
        : typeof s.id === "string" && s.id.length > MAX_NAME_LENGTH
        ? `step id is ${s.id.length} characters long; at most ${MAX_NAME_LENGTH}`
        : `step id must be a name of letters, digits, "_" or "-", got ${
          JSON.stringify(s.id).slice(0, 80)
        }`;
      issues.add(at([...s.path, "id"]), msg);
      continue;
    }
    if (seen.has(s.id)) {
      const first = at([...seen.get(s.id)!.path, "id"]);
      issues.add(
        at([...s.path, "id"]),
        `duplicate step id (first used at line ${first.line})`,
        s.id,
      );
      continue;
    }
    seen.set(s.id, s);
    const step = validateStep(s, s.id, ctx);
    if (step) steps.push(step);
  }
  checkWiring(steps, seen, ctx);
  await runStageChecks(steps, ctx);
  return steps;
}

function idOf(s: RawStep): string | undefined {
  return typeof s.id === "string" ? s.id : undefined;
}

function validateStep(s: RawStep, id: string, ctx: ValidationContext): RecipeStep | undefined {
  const { issues, at, registry } = ctx;
  if (typeof s.use !== "string") {
    issues.add(at([...s.path, "use"]), `step needs "use: <stage>"`, id);
    return undefined;
  }
  const stage = registry.get(s.use);
  if (!stage && s.use.length > MAX_NAME_LENGTH) {
    issues.add(at([...s.path, "use"]), `unknown stage (a name of ${s.use.length} characters)`, id);
    return undefined;
  }
  if (!stage) {
    issues.add(
      at([...s.path, "use"]),
      `unknown stage "${s.use}"${didYouMean(s.use, registry.names())}` +
        (ctx.pluginsSkipped ? " (a plugin was not loaded)" : ""),
      id,
    );
    return undefined;
  }
  // A step with bad parameters is still wired (so unknown ids and cycles are reported too); the
  // recipe is rejected anyway because an issue was recorded.
  const params = validateParams(s, id, stage, ctx);
  const inputs = parseFrom(s, id, stage, ctx);
  if (inputs === undefined) return undefined;
  return { id, use: s.use, stage, params: params?.value, inputs, pos: at(s.path), path: s.path };
}

function validateParams(
  s: RawStep,
  id: string,
  stage: Stage<unknown>,
  { issues, at }: ValidationContext,
): { value: unknown } | undefined {
  const withPath = [...s.path, "with"];
  const raw = s.with ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    issues.add(at(withPath), `"with:" must be a map of parameters`, id);
    return undefined;
  }
  let ok = true;
  const known = paramNames(stage);
  if (known) {
    for (const k of Object.keys(raw)) {
      if (known.includes(k)) continue;
      issues.add(
        at([...withPath, k], true),
        `unknown parameter "${k}"${didYouMean(k, known)}`,
        id,
      );
      ok = false;
    }
  }
  const result = stage.params.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === "unrecognized_keys" && known) continue;
      const path = issue.path.filter((p) => typeof p !== "symbol") as (string | number)[];
      const name = paramLabel(path);
      // An undefined variable is reported where it is used; its text is not also a type error.
      if (isVariableReference(valueAt(raw, path))) continue;
      if (path.length > 0 && valueAt(raw, path) === undefined) {
        const where = s.with === undefined ? at(s.path) : at(withPath, true);
        issues.add(where, `missing parameter "${name}"`, id);
      } else {
        // An enum value off by a typo gets the closest allowed value, as unknown names do.
        const given = valueAt(raw, path);
        const hint = issue.code === "invalid_value" && typeof given === "string"
          ? didYouMean(given, issue.values.filter((v): v is string => typeof v === "string"))
          : "";
        const msg = lowerFirst(issue.message) + hint;
        issues.add(
          at([...withPath, ...path]),
          path.length ? `parameter "${name}": ${msg}` : `parameters: ${msg}`,
          id,
        );
      }
      ok = false;
    }
  }
  return ok && result.success ? { value: result.data } : undefined;
}

function parseFrom(
  s: RawStep,
  id: string,
  stage: Stage<unknown>,
  { issues, at }: ValidationContext,
): Record<string, string[]> | undefined {
  const fromPath = [...s.path, "from"];
  const names = Object.keys(stage.inputs);
  const inputs: Record<string, string[]> = {};
  let ok = true;
  const bad = (path: DataPath, msg: string, key = false) => {
    issues.add(at(path, key), msg, id);
    ok = false;
  };
  const ids = (v: unknown, path: DataPath, many: boolean): string[] => {
    const list = Array.isArray(v) ? v : [v];
    if (Array.isArray(v) && !many) bad(path, `this input takes one step id, got a list`);
    return list.flatMap((x, i) => {
      // Without `matrix:` (which expands it), `id[*]` gathers the step's only instance.
      if (typeof x === "string") return [gathered(x) ?? x];
      bad(Array.isArray(v) ? [...path, i] : path, `"from:" must name step ids`);
      return [];
    });
  };
  const from = s.from;
  if (from === undefined || from === null) {
    // checked below as missing inputs
  } else if (names.length === 0) {
    bad(fromPath, `stage "${stage.name}" takes no inputs; remove "from:"`);
  } else if (typeof from === "string" || Array.isArray(from)) {
    const first = stage.inputs[names[0]];
    if (first.many) {
      inputs[names[0]] = ids(from, fromPath, true);
    } else {
      const list = Array.isArray(from) ? from : [from];
      if (list.length > names.length) {
        bad(fromPath, `too many inputs: stage "${stage.name}" takes ${inputList(names)}`);
      }
      list.slice(0, names.length).forEach((v, i) => {
        const path = Array.isArray(from) ? [...fromPath, i] : fromPath;
        inputs[names[i]] = ids(v, path, !!stage.inputs[names[i]].many);
      });
    }
  } else if (typeof from === "object") {
    for (const [name, v] of Object.entries(from)) {
      if (!names.includes(name)) {
        bad([...fromPath, name], `unknown input "${name}"${didYouMean(name, names)}`, true);
        ok = false;
        continue;
      }
      inputs[name] = ids(v, [...fromPath, name], !!stage.inputs[name].many);
    }
  } else {
    bad(fromPath, `"from:" must be a step id, a list of ids or a map of inputs`);
  }
  for (const name of names) {
    if (!inputs[name] && !stage.inputs[name].optional && ok) {
      bad(
        from === undefined ? s.path : fromPath,
        `missing input "${name}" (stage "${stage.name}" takes ${inputList(names)})`,
      );
    }
  }
  return ok ? inputs : undefined;
}

function inputList(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}

/** Unknown `from` ids, input kinds and cycles. */
function checkWiring(
  steps: readonly RecipeStep[],
  all: ReadonlyMap<string, RawStep>,
  { issues, at }: ValidationContext,
): void {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const suggestStep = suggester(all.keys());
  for (const s of steps) {
    for (const [name, ids] of Object.entries(s.inputs)) {
      ids.forEach((src, i) => {
        const path = fromElementPath(s, name, i);
        if (!all.has(src)) {
          issues.add(
            at(path),
            `unknown step "${src}" in "from:"${suggestStep(src)}`,
            s.id,
          );
          return;
        }
        const producer = byId.get(src);
        if (!producer) return; // invalid itself; already reported
        const expected = kinds(s.stage.inputs[name].kind);
        if (!accepts(expected, producer.stage.output)) {
          issues.add(
            at(path),
            `input "${name}" expects ${expected.join(" or ")}, but step "${src}" ` +
              `produces ${producer.stage.output}`,
            s.id,
          );
        }
      });
    }
  }
  for (const cycle of findCycles(steps)) {
    const first = byId.get(cycle[0])!;
    const shown = cycle.length > 12
      ? [...cycle.slice(0, 10), `… (${cycle.length - 1} steps)`, cycle[0]]
      : cycle;
    issues.add(at(first.path), `steps form a cycle: ${shown.join(" → ")}`, cycle[0]);
  }
}

/** Position path of the i-th id feeding input `name` (as the `from:` was written). */
function fromElementPath(s: RecipeStep, name: string, i: number): DataPath {
  const names = Object.keys(s.stage.inputs);
  const from = [...s.path, "from"];
  const count = Object.values(s.inputs).reduce((n, ids) => n + ids.length, 0);
  if (count === 1 && names[0] === name) return from;
  return names[0] === name && s.stage.inputs[name].many ? [...from, i] : [...from, name, i];
}

function kinds(k: Kind | readonly Kind[]): readonly Kind[] {
  return typeof k === "string" ? [k] : k;
}

/** A file value carries the image that was written, so it may feed an image input. */
function accepts(expected: readonly Kind[], produced: Kind): boolean {
  return expected.includes(produced) || (produced === "file" && expected.includes("image"));
}

/**
 * The cycles found by depth-first search, each in data-flow order as `a, b, …, a`, starting at the
 * step that comes first in the file.
 */
export function findCycles(steps: readonly RecipeStep[]): string[][] {
  const deps = new Map(steps.map((s) => [s.id, Object.values(s.inputs).flat()]));
  const order = new Map(steps.map((s, i) => [s.id, i]));
  const state = new Map<string, "visiting" | "done">();
  const cycles: string[][] = [];
  const seen = new Set<string>();
  for (const s of steps) {
    if (state.has(s.id)) continue;
    // Iterative depth-first search: a 5,000-step chain cannot overflow the call stack.
    const path: { id: string; i: number }[] = [{ id: s.id, i: 0 }];
    const onPath = new Map<string, number>([[s.id, 0]]);
    state.set(s.id, "visiting");
    while (path.length) {
      const top = path[path.length - 1];
      const next = deps.get(top.id) ?? [];
      if (top.i < next.length) {
        const d = next[top.i++];
        if (!deps.has(d)) continue;
        if (state.get(d) === "visiting") {
          // Report in data-flow order: producer first, starting at the step first in the file.
          const found = path.slice(onPath.get(d)!).map((f) => f.id).reverse();
          const first = found.indexOf(
            found.reduce((a, b) => order.get(a)! <= order.get(b)! ? a : b),
          );
          const cycle = [...found.slice(first), ...found.slice(0, first)];
          const key = [...cycle].sort().join("\u0000");
          if (!seen.has(key)) {
            seen.add(key);
            cycles.push([...cycle, cycle[0]]);
          }
        } else if (!state.has(d)) {
          state.set(d, "visiting");
          onPath.set(d, path.length);
          path.push({ id: d, i: 0 });
        }
        continue;
      }
      path.pop();
      onPath.delete(top.id);
      state.set(top.id, "done");
    }
  }
  return cycles;
}

async function runStageChecks(steps: readonly RecipeStep[], ctx: ValidationContext) {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const producers = (s: RecipeStep) =>
    Object.fromEntries(
      Object.entries(s.inputs).map(([name, ids]) => [
        name,
        ids.flatMap((id) => {
          const p = byId.get(id);
          if (!p) return [];
          const connected = Object.entries(p.inputs).filter(([, v]) => v.length).map(([k]) => k);
          return [{ stage: p.use, connected }];
        }),
      ]),
    );
  const results = await Promise.all(steps.map(async (s) => {
    if (!s.stage.check || s.params === undefined) return [];
    try {
      return await s.stage.check(s.params, {
        weightsDirs: ctx.weightsDirs,
        producers: producers(s),
      });
    } catch (e) {
      return [messageOf(e)];
    }
  }));
  results.forEach((messages, i) => {
    const s = steps[i];
    for (const m of messages) ctx.issues.add(ctx.at([...s.path, "with"], true), m, s.id);
  });
}

function paramLabel(path: readonly (string | number)[]): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : i ? `.${p}` : p).join("");
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function isVariableReference(v: unknown): boolean {
  return typeof v === "string" && /^\$\{[^}]*\}$/.test(v.trim());
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
