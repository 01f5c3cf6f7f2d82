/** `schema`: writes the recipe JSON Schema generated from the built-in stages. */
import { engineNames } from "../neural/engines/providers.ts";
import { recipeJsonSchema, VAR_REF } from "../recipe/schema.ts";
import { builtinStages } from "../stages/builtin.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError, UsageError } from "./errors.ts";
import { IssueList } from "../recipe/errors.ts";
import { loadPlugins } from "../recipe/plugins.ts";
import type { StageRegistry } from "../stages/registry.ts";

/** Where `deno task schema` writes the schema. */
export const SCHEMA_PATH = "pipelines/recipe.schema.json";

const HELP = `Usage: deno task schema [--out FILE] [--plugins FILE.ts…]

Writes the JSON Schema of recipes (generated from the registered stages) to ${SCHEMA_PATH},
or to FILE ("-" for standard output). --plugins adds the stages of plugin modules (this runs
their code: plugins are trusted code). Recipes reference it with
  # yaml-language-server: $schema=recipe.schema.json`;

/** The schema as written to disk (stable formatting), for `registry` (default: built-in stages). */
export function recipeSchemaText(registry: StageRegistry = builtinStages()): string {
  const schema = recipeJsonSchema(registry, {
    matrix: {
      type: "object",
      description: "variables with lists of values (or globs); every combination is rendered",
    },
    scales: {
      type: "array",
      minItems: 2,
      items: {
        anyOf: [
          { type: "integer", minimum: 8 },
          VAR_REF,
          {
            type: "object",
            required: ["size"],
            additionalProperties: false,
            properties: {
              size: { anyOf: [{ type: "integer", minimum: 8 }, VAR_REF] },
              iterations: { anyOf: [{ type: "integer", minimum: 0 }, VAR_REF] },
              tolerance: { anyOf: [{ type: "number", minimum: 0, exclusiveMaximum: 1 }, VAR_REF] },
              line_search: { anyOf: [{ enum: ["none", "strong_wolfe"] }, VAR_REF] },
            },
          },
        ],
      },
      description:
        "coarse-to-fine sizes (longer side), each optionally with its iteration cap, tolerance " +
        "and line search",
    },
    schedule: { type: "string", description: "cron expression for `deno task schedule`" },
  }, engineNames);
  return JSON.stringify(schema, null, 2) + "\n";
}

/** Imports plugin modules (paths as given) into `registry`; any problem is a {@link UsageError}. */
async function registerPlugins(files: readonly string[], registry: StageRegistry): Promise<void> {
  if (!files.length) throw new UsageError("schema: --plugins needs one or more module files");
  const issues = new IssueList("--plugins");
  await loadPlugins(files, Deno.cwd(), registry, issues, (path) => ({
    line: 1,
    col: typeof path[1] === "number" ? path[1] + 1 : 1,
  }), "load");
  if (!issues.empty) {
    throw new UsageError(`schema: ${issues.all.map((i) => i.message).join("; ")}`);
  }
}

/** Runs the `schema` command; returns the exit code. */
export async function schemaCommand(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs("schema", args, {
      out: { type: "string" },
      plugins: { type: "boolean" },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    if (positionals.length && !values.plugins) {
      throw new UsageError(
        `schema: unexpected ${positionals.join(" ")} (plugin files follow --plugins)`,
      );
    }
    const registry = builtinStages();
    if (values.plugins) await registerPlugins(positionals, registry);
    const text = recipeSchemaText(registry);
    const out = values.out ?? SCHEMA_PATH;
    if (out === "-") console.log(text.trimEnd());
    else {
      await atomicWrite(out, text);
      console.log(`wrote ${out}`);
    }
    return EXIT.ok;
  } catch (e) {
    return reportError(e, { debug: args.includes("--debug"), json: false });
  }
}
