/**
 * JSON Schema (draft-07) of recipes, generated from the registered stages' zod parameter schemas,
 * so YAML editors complete and check recipes (`# yaml-language-server: $schema=recipe.schema.json`).
 * Every parameter also accepts a whole-value variable reference (`"${size}"`).
 */
import type { StageRegistry } from "../stages/registry.ts";
import { paramsJsonSchema } from "./params.ts";

type Schema = Record<string, unknown>;

/** A whole-value variable reference, `"${name}"`. */
export const VAR_REF: Schema = {
  type: "string",
  pattern: "^\\$\\{\\s*[A-Za-z_][\\w.-]*\\s*\\}$",
  description: "a variable from vars: (or --set), with its type",
};

const STEP_IDS: Schema = { type: "string", pattern: "^[A-Za-z_][\\w-]*$" };
/** A reference in `from:`: a step id, or `id[*]` (every matrix instance of the step). */
const STEP_REF: Schema = { type: "string", pattern: "^[A-Za-z_][\\w-]*(\\[\\*\\])?$" };

/** The recipe JSON Schema for `registry`; `extraKeys` describes extension keys (e.g. `matrix`). */
export function recipeJsonSchema(
  registry: StageRegistry,
  extraKeys: Readonly<Record<string, Schema>> = {},
  engineNames?: readonly string[],
): Schema {
  const stages = registry.all();
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "stylepipe recipe",
    type: "object",
    required: ["version", "steps"],
    additionalProperties: false,
    properties: {
      version: { const: 1, description: "recipe format version" },
      name: { type: "string" },
      vars: { type: "object", description: "variables used as ${name} in the steps" },
      seed: {
        type: "integer",
        minimum: 0,
        maximum: 2 ** 32 - 1,
        description: "seed (0 to 4294967295); each step derives its own from it and its id",
      },
      engine: engineNames
        ? { anyOf: [{ enum: [...engineNames] }, VAR_REF], default: "auto" }
        : { type: "string", default: "auto" },
      plugins: {
        type: "array",
        items: { type: "string" },
        description: "modules (relative to the recipe) whose default export is a Stage or Stage[]",
      },
      allow_outside_output: { type: "boolean", default: false },
      ...extraKeys,
      steps: {
        type: "array",
        minItems: 1,
        items: {
          type: "object",
          required: ["id", "use"],
          additionalProperties: false,
          properties: {
            id: STEP_IDS,
            use: { enum: stages.map((s) => s.name) },
            from: {
              anyOf: [
                STEP_REF,
                { type: "array", items: STEP_REF },
                {
                  type: "object",
                  additionalProperties: { anyOf: [STEP_REF, { type: "array", items: STEP_REF }] },
                },
              ],
            },
            with: { type: "object" },
          },
          allOf: stages.map((s) => ({
            if: { properties: { use: { const: s.name } }, required: ["use"] },
            then: {
              description: s.description,
              properties: { with: allowVariables(paramsJsonSchema(s)) },
            },
          })),
        },
      },
    },
  };
}

/** Lets every property of an object schema also be a `${var}` reference. */
function allowVariables(schema: Schema): Schema {
  const props = schema.properties as Record<string, Schema> | undefined;
  if (!props) return schema;
  return {
    ...schema,
    properties: Object.fromEntries(
      Object.entries(props).map((
        [k, v],
      ) => [k, { anyOf: [v, VAR_REF], description: v.description }]),
    ),
  };
}
