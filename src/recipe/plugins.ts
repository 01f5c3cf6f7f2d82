/**
 * Plugins: `plugins: [./stages/my-stage.ts]` in a recipe. Each module's default export is a stage
 * or a list of stages, registered into the recipe's own copy of the registry.
 *
 * A plugin is code that runs with the user's permissions, so it is trusted code: it is loaded only
 * when the caller allows it (`render`, or `validate`/`plan --allow-plugins`), only from a local
 * file, and only after its import graph (read by `deno info`, which runs nothing and fetches
 * nothing) shows local files, `node:` modules and stylepipe's own npm dependencies — no `http(s):`,
 * `data:` or `jsr:` module and no other npm package (nothing is downloaded, deno.lock is untouched).
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import denoConfig from "../../deno.json" with { type: "json" };
import type { Stage } from "../stages/stage.ts";
import type { StageRegistry } from "../stages/registry.ts";
import type { IssueList, Position } from "./errors.ts";
import type { DataPath } from "./parse.ts";
import { messageOf } from "../util/errors.ts";

/** Whether plugins are imported (`load`) or only checked and reported as not loaded (`refuse`). */
export type PluginPolicy = "load" | "refuse";

/** What {@link loadPlugins} found. */
export interface PluginsLoaded {
  /** Local module files of the plugins (never overwritten by outputs). */
  readonly files: readonly string[];
  /** Whether some plugin was named but not loaded (its stages are then unknown). */
  readonly skipped: boolean;
}

/**
 * Checks each plugin (paths relative to `dir`), imports it unless `policy` is `refuse`, and
 * registers its stages; problems go to `issues`.
 */
export async function loadPlugins(
  plugins: unknown,
  dir: string,
  registry: StageRegistry,
  issues: IssueList,
  at: (path: DataPath) => Position,
  policy: PluginPolicy = "load",
): Promise<PluginsLoaded> {
  const files: string[] = [];
  if (plugins === undefined || plugins === null) return { files, skipped: false };
  if (!Array.isArray(plugins)) {
    issues.add(at(["plugins"]), `"plugins:" must be a list of module paths`);
    return { files, skipped: true };
  }
  let loaded = 0;
  for (const [i, p] of plugins.entries()) {
    const pos = at(["plugins", i]);
    if (typeof p !== "string") {
      issues.add(pos, `plugin must be a module path, got ${JSON.stringify(p)?.slice(0, 80)}`);
      continue;
    }
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(p) && !/^[A-Za-z]:[\\/]/.test(p)) {
      issues.add(
        pos,
        `plugin "${
          p.slice(0, 200)
        }" is a URL; plugins run with your permissions, so they must be ` +
          `local files: download it, read it, and name the local copy`,
      );
      continue;
    }
    const file = isAbsolute(p) ? p : resolve(dir, p);
    files.push(file);
    if (policy === "refuse") {
      issues.add(
        pos,
        `plugin "${p}" was not loaded: a plugin is code that runs with your permissions, and ` +
          `validate, plan, verify and worker run none unless you pass --allow-plugins`,
      );
      continue;
    }
    const graph = await importGraph(file);
    if (typeof graph === "string") {
      issues.add(pos, `cannot load plugin "${p}": ${graph}`);
      continue;
    }
    files.push(...graph.files.filter((f) => f !== file));
    if (graph.refused.length) {
      issues.add(
        pos,
        `plugin "${p}" imports ${graph.refused.map((s) => `"${s.slice(0, 100)}"`).join(", ")}: ` +
          `plugins may import only local files, node: modules and the npm packages in ` +
          `stylepipe's deno.json`,
      );
      continue;
    }
    let mod: { default?: unknown };
    try {
      mod = await import(pathToFileURL(file).href);
    } catch (e) {
      issues.add(pos, `cannot load plugin "${p}": ${firstLine(e)}`);
      continue;
    }
    const exported = mod.default;
    const stages = Array.isArray(exported) ? exported : [exported];
    let ok = true;
    for (const s of stages) {
      const problem = stageProblem(s);
      if (problem) {
        issues.add(pos, `plugin "${p}": default export must be a Stage or Stage[] (${problem})`);
        ok = false;
        continue;
      }
      try {
        registry.register(s as Stage<unknown>);
      } catch (e) {
        issues.add(pos, `plugin "${p}": ${firstLine(e)}`);
        ok = false;
      }
    }
    if (ok) loaded++;
  }
  return { files, skipped: loaded < plugins.length };
}

/** The npm packages stylepipe depends on (the import map in deno.json). */
function projectPackages(): string[] {
  return Object.values(denoConfig.imports as Record<string, string>).flatMap((spec) => {
    const m = /^npm:(@?[^@]+)@/.exec(spec);
    return m ? [m[1]] : [];
  });
}

/**
 * The modules `file` imports, statically, as `deno info` resolves them (with stylepipe's import
 * map, without fetching anything): local files, and the specifiers a plugin may not use. A string
 * when the graph cannot be read (e.g. the file is missing).
 */
async function importGraph(
  file: string,
): Promise<{ files: string[]; refused: string[] } | string> {
  const config = new URL("../../deno.json", import.meta.url);
  const args = ["info", "--json", "--no-remote", "--no-npm", "--no-lock"];
  if (config.protocol === "file:") args.push("--config", fileURLToPath(config));
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(Deno.execPath(), {
      args: [...args, file],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
  } catch (e) {
    return `its imports cannot be checked (${firstLine(e)})`;
  }
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).replace(/^error: /, "");
    return firstLine(why.includes("Module not found") ? "no such file" : why);
  }
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  const allowed = new Set(projectPackages());
  const files: string[] = [];
  const refused: string[] = [];
  for (const { specifier } of graph.modules) {
    if (specifier.startsWith("file:")) files.push(fileURLToPath(specifier));
    else if (specifier.startsWith("node:")) continue;
    else if (specifier.startsWith("npm:")) {
      const name = /^npm:\/?(@?[^@/]+(?:\/[^@/]+)?)/.exec(specifier)?.[1] ?? "";
      const pkg = name.startsWith("@") ? name : name.split("/")[0];
      if (!allowed.has(pkg)) refused.push(specifier);
    } else refused.push(specifier);
  }
  return { files, refused };
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
  return messageOf(e).split("\n")[0];
}
