/**
 * Checkpoints of a style-transfer run, so a render killed mid-way resumes where it stopped and ends
 * with the same bytes as an uninterrupted run. A checkpoint holds everything the rest of the run
 * depends on: the optimizer's whole state (iterate, gradient, L-BFGS history or Adam moments,
 * iteration and evaluation counters, as the optimizer's own tree), the loss curve and initial loss reported
 * in the result, and the best iterate for `keep_best`. No PRNG state is needed: the only random
 * draw (noise init) happens before the first iteration and is re-derived from the step's seed.
 *
 * The store is private to the step's cache key, so a checkpoint is only ever restored into a run
 * with the same parameters, inputs and engine.
 */
import { z } from "npm:zod@4.6.7";
import type { VectorOps } from "../neural/engines/engine.ts";
import type { OptimizerHandle, OptimizerState } from "../neural/optim/optimizer.ts";
import { StateFormatError } from "../neural/optim/state_codec.ts";
import {
  CheckpointFormatError,
  type CheckpointValue,
  decodeCheckpoint,
  encodeCheckpoint,
} from "../util/checkpoint_codec.ts";
import type { CheckpointStore } from "./stage.ts";

/** The checkpoint's name in the step's store. */
const NAME = "style-transfer";

/** The best iterate so far (`keep_best`). */
export interface BestIterate<V> {
  readonly x: V;
  readonly loss: number;
  readonly terms: Readonly<Record<string, number>>;
  readonly iteration: number;
}

/** One point of the loss trace: the total and the weighted terms after an iteration. */
export interface CurvePoint {
  readonly iteration: number;
  readonly loss: number;
  readonly terms: Readonly<Record<string, number>>;
}

/** Everything a style-transfer run carries from one iteration to the next (hooks update it). */
export interface TransferProgress<V> {
  readonly state: OptimizerState<V>;
  readonly curve: CurvePoint[];
  readonly initialLoss: number;
  best?: BestIterate<V>;
}

/** Writes a checkpoint of `progress` (atomically, through the store). */
export async function saveTransferCheckpoint<V>(
  store: CheckpointStore,
  optimizer: OptimizerHandle<V>,
  ops: VectorOps<V>,
  progress: TransferProgress<V>,
): Promise<void> {
  const { best } = progress;
  const value: CheckpointValue = {
    optimizer: await optimizer.save(progress.state),
    curve: progress.curve.map((p) => ({ ...p })),
    initialLoss: progress.initialLoss,
    best: best
      ? {
        x: await ops.toArray(best.x),
        loss: best.loss,
        terms: best.terms,
        iteration: best.iteration,
      }
      : null,
  };
  await store.put(NAME, encodeCheckpoint(value));
}

const checkpointSchema = z.object({
  optimizer: z.unknown(),
  curve: z.array(z.object({
    iteration: z.number(),
    loss: z.number(),
    terms: z.record(z.string(), z.number()),
  })),
  initialLoss: z.number(),
  best: z.object({
    x: z.instanceof(Float32Array),
    loss: z.number(),
    terms: z.record(z.string(), z.number()),
    iteration: z.number(),
  }).nullable(),
});

/**
 * The last checkpoint, restored (vectors owned by the caller), or `undefined` when there is none.
 * A damaged checkpoint is reported through `warn` and ignored (the run starts over).
 */
export async function loadTransferCheckpoint<V>(
  store: CheckpointStore,
  optimizer: OptimizerHandle<V>,
  ops: VectorOps<V>,
  warn: (message: string) => void,
): Promise<TransferProgress<V> | undefined> {
  const bytes = await store.get(NAME);
  if (!bytes) return undefined;
  let saved: z.infer<typeof checkpointSchema>;
  let state: OptimizerState<V>;
  try {
    const parsed = checkpointSchema.safeParse(decodeCheckpoint(bytes));
    if (!parsed.success) throw new CheckpointFormatError("checkpoint fields are malformed");
    saved = parsed.data;
    state = optimizer.restore(saved.optimizer);
  } catch (e) {
    if (!(e instanceof CheckpointFormatError) && !(e instanceof StateFormatError)) throw e;
    warn(`ignoring an unreadable checkpoint (${e.message}); starting over`);
    return undefined;
  }
  return {
    state,
    curve: saved.curve,
    initialLoss: saved.initialLoss,
    best: saved.best ? { ...saved.best, x: ops.fromArray(saved.best.x) } : undefined,
  };
}
