/**
 * Optimizer states as checkpoint trees (util/checkpoint_codec.ts, the one binary codec): each
 * optimizer turns its state into a tree tagged with its `kind` (vectors as Float32Array leaves,
 * copied bit for bit) and reads it back through a zod schema, so a restored run continues
 * identically and another optimizer's state, or a damaged one, is refused with
 * {@link StateFormatError}. A style-transfer checkpoint embeds the tree as it is.
 */
import { z } from "npm:zod@4.6.7";
import type { CheckpointValue } from "../../util/checkpoint_codec.ts";
import { StylepipeError } from "../../util/errors.ts";
import { readValues, type VectorOps } from "../engines/engine.ts";

/** A state that cannot be read (wrong format, damaged, or another optimizer's). */
export class StateFormatError extends StylepipeError {}

/** A float32 vector leaf. */
export const vectorSchema = z.instanceof(Float32Array);

/** The fields every optimizer state tree has; `kind` names the optimizer. */
export const stateTreeBase = {
  version: z.literal(1),
  loss: z.number(),
  terms: z.record(z.string(), z.number()),
  iteration: z.number().int().nonnegative(),
  evaluations: z.number().int().nonnegative(),
  x: vectorSchema,
  g: vectorSchema,
};

/** What every optimizer state has, besides its kind and its own vectors. */
export interface CommonState<V> {
  x: V;
  g: V;
  loss: number;
  terms: Record<string, number>;
  iteration: number;
  evaluations: number;
}

/** The tree of the fields every state has, tagged `kind` (vectors copied to the host). */
export async function commonTree<V>(
  kind: string,
  state: CommonState<V>,
  ops: VectorOps<V>,
): Promise<{ [key: string]: CheckpointValue }> {
  return {
    kind,
    version: 1,
    loss: state.loss,
    terms: state.terms,
    iteration: state.iteration,
    evaluations: state.evaluations,
    // Read in place on the host: a checkpoint is encoded before the optimizer moves on.
    x: await readValues(ops, state.x),
    g: await readValues(ops, state.g),
  };
}

/** The common fields of a read tree, vectors uploaded through `ops`. */
export function commonState<V>(
  tree: z.infer<z.ZodObject<typeof stateTreeBase>>,
  ops: VectorOps<V>,
): CommonState<V> {
  return {
    x: ops.fromArray(tree.x),
    g: ops.fromArray(tree.g),
    loss: tree.loss,
    terms: { ...tree.terms },
    iteration: tree.iteration,
    evaluations: tree.evaluations,
  };
}

/** Reads a state tree of `kind` with `schema`; throws {@link StateFormatError} when it does not fit. */
export function readStateTree<T extends { kind: string }>(
  tree: unknown,
  kind: T["kind"],
  schema: z.ZodType<T>,
): T {
  const found = tree && typeof tree === "object" && "kind" in tree ? tree.kind : undefined;
  if (found !== kind) {
    throw new StateFormatError(`optimizer state is for "${found}", expected "${kind}"`);
  }
  const parsed = schema.safeParse(tree);
  if (!parsed.success) {
    throw new StateFormatError(`${kind} state is malformed: ${parsed.error.issues[0].message}`);
  }
  return parsed.data;
}
