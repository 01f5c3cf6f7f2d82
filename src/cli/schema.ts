/** `schema`: writes the recipe JSON Schema generated from the built-in stages. */
import { engineNames } from "../neural/engines/providers.ts";
import { recipeJsonSchema, VAR_REF } from "../recipe/schema.ts";
import { builtinStages } from "../stages/builtin.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError } from "./errors.ts";

/** Where `deno task schema` writes the schema. */
export const SCHEMA_PATH = "pipelines/recipe.schema.json";

const HELP = `Usage: deno task schema [--out FILE]

Writes the JSON Schema of recipes (generated from the registered stages) to ${SCHEMA_PATH},
or to FILE ("-" for standard output). Recipes reference it with
  # yaml-language-server: $schema=recipe.schema.json`;

/** The schema as written to disk (stable formatting). */
export function recipeSchemaText(): string {
  const schema = recipeJsonSchema(builtinStages(), {
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
            },
          },
        ],
      },
      description: "coarse-to-fine sizes (longer side), each optionally with its iterations",
    },
    schedule: { type: "string", description: "cron expression for `deno task schedule`" },
  }, engineNames);
  return JSON.stringify(schema, null, 2) + "\n";
}

/** Runs the `schema` command; returns the exit code. */
export async function schemaCommand(args: string[]): Promise<number> {
  try {
    const { values } = parseCommandArgs("schema", args, { out: { type: "string" } });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    const text = recipeSchemaText();
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
