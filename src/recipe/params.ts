/** Introspection of stage parameter schemas (zod v4): parameter names and JSON Schema. */
import { z } from "npm:zod@4.6.7";
import type { Stage } from "../stages/stage.ts";

interface DefLike {
  type: string;
  shape?: Record<string, z.ZodType>;
  in?: z.ZodType;
  innerType?: z.ZodType;
  catchall?: z.ZodType;
}

function defOf(schema: z.ZodType): DefLike {
  return (schema as unknown as { _zod: { def: DefLike } })._zod.def;
}

/**
 * The parameter names a stage accepts, or `undefined` when its schema is not a closed object
 * (then unknown parameters are left to the schema itself).
 */
export function paramNames(stage: Stage<unknown>): string[] | undefined {
  let schema: z.ZodType | undefined = stage.params;
  while (schema) {
    const def = defOf(schema);
    if (def.type === "object") {
      const open = def.catchall !== undefined && defOf(def.catchall).type !== "never";
      return open ? undefined : Object.keys(def.shape ?? {});
    }
    schema = def.type === "pipe" ? def.in : def.innerType;
  }
  return undefined;
}

/** JSON Schema (draft-07, input side: defaults make a parameter optional) of a stage's parameters. */
export function paramsJsonSchema(stage: Stage<unknown>): Record<string, unknown> {
  const schema = z.toJSONSchema(stage.params, {
    target: "draft-7",
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  delete schema.$schema;
  return schema;
}
