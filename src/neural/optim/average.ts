/**
 * An exponential moving average of the iterates, bias-corrected (the returned image of crowsonkb's
 * style-transfer-pytorch; Polyak–Ruppert-style averaging smooths the high-frequency noise a
 * stochastic-looking optimizer such as Adam leaves on the image).
 *
 * After the iterates x₀ … xₙ₋₁ the average is
 *   a = (1−d) Σᵢ dⁿ⁻¹⁻ⁱ xᵢ / (1 − dⁿ),
 * i.e. the plain EMA started from zero divided by its total weight 1 − dⁿ (the bias correction of
 * Adam's moments). Without the division a short run would keep x₀ with weight dⁿ⁻¹ (0.99¹⁰⁰ ≈ 0.37:
 * a third of the photo). It is kept in the equivalent incremental form
 *   a ← a + wₙ·(xₙ₋₁ − a), wₙ = (1−d) / (1 − dⁿ)   (w₁ = 1: the first iterate is the average),
 * so the stored vector is always the corrected average itself, and it stays where the engine keeps
 * its vectors (two {@link VectorOps} calls per iteration).
 */
import { z } from "npm:zod@4.6.7";
import type { CheckpointValue } from "../../util/checkpoint_codec.ts";
import { readValues, type VectorOps } from "../engines/engine.ts";
import { StateFormatError, vectorSchema } from "./state_codec.ts";

/** The running average; `x` is owned by it. */
export interface IterateAverage<V> {
  /** Decay d in [0, 1). */
  readonly decay: number;
  /** The bias-corrected average of the iterates so far. */
  x: V;
  /** Iterates averaged so far (n). */
  count: number;
}

/** An average holding only `x0` (copied). */
export function startAverage<V>(ops: VectorOps<V>, x0: V, decay: number): IterateAverage<V> {
  if (!(decay >= 0 && decay < 1)) {
    throw new RangeError(`average decay must be in [0, 1), got ${decay}`);
  }
  return { decay, x: ops.clone(x0), count: 1 };
}

/** Adds the iterate `x` to the average (in place; `x` is only read). */
export function updateAverage<V>(ops: VectorOps<V>, average: IterateAverage<V>, x: V): void {
  const n = average.count + 1;
  const w = (1 - average.decay) / (1 - average.decay ** n);
  const kept = ops.scale(1 - w, average.x);
  const next = ops.axpy(w, x, kept);
  ops.dispose(kept);
  ops.dispose(average.x);
  average.x = next;
  average.count = n;
}

/** The average as a checkpoint tree (the vector copied to the host, bit for bit). */
export async function averageTree<V>(
  average: IterateAverage<V>,
  ops: VectorOps<V>,
): Promise<CheckpointValue> {
  return { decay: average.decay, count: average.count, x: await readValues(ops, average.x) };
}

const averageSchema = z.object({
  decay: z.number().min(0).lt(1),
  count: z.number().int().min(1),
  x: vectorSchema,
});

/** An average from {@link averageTree}'s tree; StateFormatError when it is not one. */
export function averageFromTree<V>(tree: unknown, ops: VectorOps<V>): IterateAverage<V> {
  const parsed = averageSchema.safeParse(tree);
  if (!parsed.success) {
    throw new StateFormatError(`iterate average is malformed: ${parsed.error.issues[0].message}`);
  }
  return { decay: parsed.data.decay, count: parsed.data.count, x: ops.fromArray(parsed.data.x) };
}
