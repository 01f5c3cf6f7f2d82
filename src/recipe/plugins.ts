/**
 * Plugins: `plugins: [./stages/my-stage.ts]` in a recipe. Each module's default export is a stage
 * or a list of stages, registered into the recipe's own copy of the registry.
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Stage } from "../stages/stage.ts";
import type { StageRegistry } from "../stages/registry.ts";
import type { IssueList, Position } from "./errors.ts";
import type { DataPath } from "./parse.ts";

/** Imports each plugin (paths relative to `dir`) and registers its stages; problems go to `issues`. */
export async function loadPlugins(
  plugins: unknown,
  dir: string,
  registry: StageRegistry,
  issues: IssueList,
  at: (path: DataPath) => Position,
): Promise<void> {
  if (plugins === undefined || plugins === null) return;
  if (!Array.isArray(plugins)) {
    issues.add(at(["plugins"]), `"plugins:" must be a list of module paths`);
    return;
  }
  for (const [i, p] of plugins.entries()) {
    const pos = at(["plugins", i]);
    if (typeof p !== "string") {
      issues.add(pos, `plugin must be a module path, got ${JSON.stringify(p)}`);
      continue;
    }
    const file = isAbsolute(p) ? p : resolve(dir, p);
    let mod: { default?: unknown };
    try {
      mod = await import(pathToFileURL(file).href);
    } catch (e) {
      issues.add(pos, `cannot load plugin "${p}": ${firstLine(e)}`);
      continue;
    }
    const exported = mod.default;
    const stages = Array.isArray(exported) ? exported : [exported];
    for (const s of stages) {
      const problem = stageProblem(s);
      if (problem) {
        issues.add(pos, `plugin "${p}": default export must be a Stage or Stage[] (${problem})`);
        continue;
      }
      try {
        registry.register(s as Stage<unknown>);
      } catch (e) {
        issues.add(pos, `plugin "${p}": ${firstLine(e)}`);
      }
    }
  }
}

function stageProblem(s: unknown): string | undefined {
  if (s === null || typeof s !== "object") return "got " + (s === undefined ? "nothing" : typeof s);
  const o = s as Record<string, unknown>;
  if (typeof o.name !== "string") return "missing name";
  if (typeof o.version !== "number") return `stage "${o.name}" has no numeric version`;
  const params = o.params as { safeParse?: unknown } | undefined;
  if (typeof params?.safeParse !== "function") {
    return `stage "${o.name}" params is not a zod schema`;
  }
  if (typeof o.inputs !== "object" || o.inputs === null) {
    return `stage "${o.name}" has no inputs map`;
  }
  if (typeof o.output !== "string") return `stage "${o.name}" has no output kind`;
  if (typeof o.run !== "function") return `stage "${o.name}" has no run()`;
  return undefined;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}
