/** Naming `--set` in the problems it causes: "… (from --set size=abc)". */
import type { RecipeIssue } from "./errors.ts";
import { parseYaml } from "./parse.ts";

const VAR_REF = /\$\{\s*([A-Za-z_][\w.-]*)\s*\}/g;

/**
 * Adds "(from --set name=value)" to each issue whose value, at its position in `text`, uses a
 * variable set on the command line, directly or through other variables.
 */
export function attributeSets(
  issues: readonly RecipeIssue[],
  text: string,
  sets: readonly string[],
): RecipeIssue[] {
  const given = new Map(sets.filter((s) => s.indexOf("=") > 0).map((s) => [s.split("=")[0], s]));
  const written = (() => {
    const data = parseYaml(text, "").yaml?.data as Record<string, unknown> | undefined;
    const vars = data?.vars;
    return vars && typeof vars === "object" && !Array.isArray(vars)
      ? vars as Record<string, unknown>
      : {};
  })();
  // The --set names each variable depends on (through the variables it uses), iteratively.
  const dependsOn = new Map<string, Set<string>>();
  for (const name of given.keys()) dependsOn.set(name, new Set([name]));
  for (let changed = true, rounds = 0; changed && rounds < 64; rounds++) {
    changed = false;
    for (const [name, value] of Object.entries(written)) {
      if (given.has(name)) continue;
      const deps = dependsOn.get(name) ?? new Set<string>();
      for (const [, ref] of JSON.stringify(value).matchAll(VAR_REF)) {
        for (const d of dependsOn.get(ref) ?? []) {
          if (deps.has(d)) continue;
          deps.add(d);
          changed = true;
        }
      }
      if (deps.size) dependsOn.set(name, deps);
    }
  }
  const lines = text.split("\n");
  return issues.map((issue) => {
    if (issue.message.includes("--set")) return issue;
    const scalar = scalarAt(lines[issue.pos.line - 1] ?? "", issue.pos.col - 1);
    const from = new Set<string>();
    for (const [, ref] of scalar.matchAll(VAR_REF)) {
      for (const d of dependsOn.get(ref) ?? []) from.add(given.get(d)!);
    }
    return from.size
      ? { ...issue, message: `${issue.message} (from --set ${[...from].join(", --set ")})` }
      : issue;
  });
}

/** The YAML scalar starting at `col` of `line` (quoted, or plain up to `,`, `}`, `]` or ` #`). */
function scalarAt(line: string, col: number): string {
  const rest = line.slice(col);
  const quote = rest[0];
  if (quote === '"' || quote === "'") {
    const end = rest.indexOf(quote, 1);
    return rest.slice(0, end < 0 ? undefined : end + 1);
  }
  const end = rest.search(/[,}\]]| #/);
  return end < 0 ? rest : rest.slice(0, end);
}
